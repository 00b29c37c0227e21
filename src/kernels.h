/* The .cl sources of cl/, embedded at build time by tools/embed_kernels.c. */
#ifndef CLSEG_KERNELS_H
#define CLSEG_KERNELS_H

#include <stddef.h>

typedef struct clseg_kernel_source {
    const char *program; /* file name without ".cl" */
    const char *text;
    size_t size;
} clseg_kernel_source;

extern const clseg_kernel_source clseg_kernel_sources[];
extern const size_t clseg_kernel_source_count;

#endif
