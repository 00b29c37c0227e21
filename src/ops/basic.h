/* The basic op family's parameters and its two implementations (src/ref/basic.c,
 * src/opencl/basic.c); the public entry points with their checks are in src/ops/basic.c. */
#ifndef CLSEG_OPS_BASIC_H
#define CLSEG_OPS_BASIC_H

#include "core/internal.h"

/* Partial sums of the first stage never exceed this, whatever the tunables say. */
#define CLSEG_SUM_MAX_PARTIALS 1024

typedef struct clseg_scalars {
    float alpha, beta;
} clseg_scalars;

/* tensors: {x} */
clseg_status clseg_ref_fill(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_fill(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors: {src, dst} */
clseg_status clseg_ref_copy(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_copy(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors: {x} */
clseg_status clseg_ref_scale(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_scale(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors: {x, y} */
clseg_status clseg_ref_axpby(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_axpby(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors: {x, out, workspace} */
clseg_status clseg_ref_sum(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_sum(clseg_context *ctx, const void *params, clseg_tensor *const *t);

#endif
