/* The batch-normalisation family's parameters and its two implementations (ref/norm.c,
 * opencl/norm.c); the public entry points and their checks are in ops/norm.c. */
#ifndef CLSEG_OPS_NORM_H
#define CLSEG_OPS_NORM_H

#include "core/internal.h"

/* The most partial sums per channel the device's first reduction stage writes; the workspace
 * is sized for this many whatever the device's tunables say, so its size is known up front. */
#define CLSEG_NORM_MAX_CHUNKS 64

typedef struct clseg_bn_params {
    float momentum, eps;
    float beta_dx, beta_params; /* backward accumulation */
    int relu;                   /* a ReLU fused in: forward max(0, y), backward dy masked by y > 0 */
} clseg_bn_params;

/* Floats of workspace for C channels: two partial sums per (channel, chunk), then two final
 * sums per channel. */
static inline size_t clseg_norm_workspace_floats(size_t channels)
{
    return 2 * channels * CLSEG_NORM_MAX_CHUNKS + 2 * channels;
}

/* tensors {x, weight, bias, running_mean, running_var, y, save_mean, save_invstd, workspace} */
clseg_status clseg_ref_bn_forward_train(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_bn_forward_train(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {x, weight, bias, running_mean, running_var, y} */
clseg_status clseg_ref_bn_forward_infer(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_bn_forward_infer(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {x, dy, weight, save_mean, save_invstd, dx, dweight, dbias, workspace, y}; y (the fused
 * forward's output, the mask) is read only with relu set */
clseg_status clseg_ref_bn_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_bn_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);

#endif
