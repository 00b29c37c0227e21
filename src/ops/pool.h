/* The pooling family's parameters and its two implementations (ref/pool.c, opencl/pool.c); the
 * public entry points and their checks are in ops/pool.c.
 *
 * Every backward pass (and max-unpooling forward, which is the same data movement) is a gather:
 * each input pixel visits, in row-major order, the output windows that contain it and adds the
 * values whose index names it. No two work-items write one element, so no atomics are needed
 * and the result is the same bits on every run, with overlapping windows too. */
#ifndef CLSEG_OPS_POOL_H
#define CLSEG_OPS_POOL_H

#include "clseg/pool.h"
#include "core/internal.h"

typedef struct clseg_pool_params {
    clseg_pool2d_desc desc;
    float beta; /* backward accumulation */
} clseg_pool_params;

/* tensors {x, y, indices} */
clseg_status clseg_ref_maxpool2d_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_maxpool2d_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {values, indices, out}: out (the unpooled shape) = beta out + the values gathered at
 * their indices. maxpool2d backward (values dy) and maxunpool2d forward (values x, beta 0). */
clseg_status clseg_ref_maxpool2d_scatter(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_maxpool2d_scatter(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {dy, indices, dx}: dx (the pooled shape) = beta dx + dy read at each index. */
clseg_status clseg_ref_maxunpool2d_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_maxunpool2d_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {x, y} */
clseg_status clseg_ref_global_avgpool_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_global_avgpool_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {dy, dx} */
clseg_status clseg_ref_global_avgpool_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_global_avgpool_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);

#endif
