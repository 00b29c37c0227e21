/* The plain-C reference backend: buffers in host memory, ops as straightforward loops. */
#ifndef CLSEG_REF_H
#define CLSEG_REF_H

#include "core/internal.h"

struct clseg_buffer {
    unsigned char *data;
};

static inline float *clseg_ref_data(const clseg_tensor *t)
{
    return (float *)(void *)clseg_tensor_buffer(t)->data + t->offset;
}

#endif
