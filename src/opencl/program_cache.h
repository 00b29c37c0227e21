/* Kernel programs by name: built once per context, kept in memory, and kept on disk as device
 * binaries so that a later process skips the compiler. */
#ifndef CLSEG_PROGRAM_CACHE_H
#define CLSEG_PROGRAM_CACHE_H

#include "opencl/ocl.h"
#include "opencl/tunables.h"

/* Bump when the file layout or the key changes: older files are then silently rebuilt. */
#define CLSEG_CACHE_FORMAT_VERSION 1

clseg_status clseg_program_cache_create(clseg_program_cache **out);
void clseg_program_cache_destroy(clseg_program_cache *pc);

/* The named kernel of a program (cl/<program>.cl), building the program on first use. */
clseg_status clseg_program_cache_kernel(clseg_context *ctx, const char *program, const char *kernel, cl_kernel *out);

/* A tunable's value as it was passed to the compiler for this program. */
clseg_status clseg_program_cache_tunable(clseg_context *ctx, const char *program, const char *name, long *value);

/* Every tunable of a program with its value and where the value comes from, building the program
 * on first use. */
clseg_status clseg_program_cache_tunables(clseg_context *ctx, const char *program, const clseg_tunable_set **out);

#endif
