/* Batch normalisation over (N, H, W) for each channel of float32 NCHW, with PyTorch's
 * BatchNorm2d semantics: training normalises with the batch mean and biased variance and
 * updates running = (1 - momentum) running + momentum batch (the running variance with the
 * unbiased batch variance); inference normalises with the running statistics.
 *
 * weight (gamma) and bias (beta), running_mean, running_var, save_mean and save_invstd each
 * hold C elements. Reductions go through the caller's workspace in a fixed order, so results
 * are the same bits on every run. */
#ifndef CLSEG_NORM_H
#define CLSEG_NORM_H

#include <stddef.h>

#include "clseg/context.h"
#include "clseg/export.h"
#include "clseg/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clseg_batchnorm_desc {
    float momentum; /* PyTorch's default 0.1 */
    float eps;      /* PyTorch's default 1e-5 */
} clseg_batchnorm_desc;

CLSEG_API size_t clseg_batchnorm2d_workspace_bytes(const clseg_context *ctx, clseg_shape x);

/* y = weight (x - mean) invstd + bias with batch statistics; updates the running statistics
 * and keeps mean and invstd = 1 / sqrt(var + eps) for the backward pass. y may be x. */
CLSEG_API clseg_status clseg_batchnorm2d_forward_train(clseg_context *ctx, const clseg_batchnorm_desc *desc,
                                                       const clseg_tensor *x, const clseg_tensor *weight,
                                                       const clseg_tensor *bias, clseg_tensor *running_mean,
                                                       clseg_tensor *running_var, clseg_tensor *y,
                                                       clseg_tensor *save_mean, clseg_tensor *save_invstd,
                                                       clseg_tensor *workspace);

/* y = weight (x - running_mean) / sqrt(running_var + eps) + bias. y may be x. */
CLSEG_API clseg_status clseg_batchnorm2d_forward_infer(clseg_context *ctx, const clseg_batchnorm_desc *desc,
                                                       const clseg_tensor *x, const clseg_tensor *weight,
                                                       const clseg_tensor *bias, const clseg_tensor *running_mean,
                                                       const clseg_tensor *running_var, clseg_tensor *y);

/* Gradients of a training-mode forward pass, given its input x and saved statistics:
 * dx = beta_dx dx + dL/dx, dweight = beta_params dweight + dL/dweight, and the same for dbias.
 * Each beta == 0 overwrites. */
CLSEG_API clseg_status clseg_batchnorm2d_backward(clseg_context *ctx, const clseg_batchnorm_desc *desc,
                                                  const clseg_tensor *x, const clseg_tensor *dy,
                                                  const clseg_tensor *weight, const clseg_tensor *save_mean,
                                                  const clseg_tensor *save_invstd, clseg_tensor *dx, float beta_dx,
                                                  clseg_tensor *dweight, clseg_tensor *dbias, float beta_params,
                                                  clseg_tensor *workspace);

/* Batch norm with the ReLU that follows it fused in: y = max(0, bn(x)) in one pass, and a
 * backward pass that takes the gradient of relu(bn(x)) without a separate ReLU pass. The same
 * arguments as above; they give the same bits as the batch norm call followed by
 * clseg_relu_forward (and clseg_relu_backward before the batch norm's backward) on the same
 * device. */
CLSEG_API clseg_status clseg_batchnorm2d_relu_forward_train(clseg_context *ctx, const clseg_batchnorm_desc *desc,
                                                            const clseg_tensor *x, const clseg_tensor *weight,
                                                            const clseg_tensor *bias, clseg_tensor *running_mean,
                                                            clseg_tensor *running_var, clseg_tensor *y,
                                                            clseg_tensor *save_mean, clseg_tensor *save_invstd,
                                                            clseg_tensor *workspace);
CLSEG_API clseg_status clseg_batchnorm2d_relu_forward_infer(clseg_context *ctx, const clseg_batchnorm_desc *desc,
                                                            const clseg_tensor *x, const clseg_tensor *weight,
                                                            const clseg_tensor *bias, const clseg_tensor *running_mean,
                                                            const clseg_tensor *running_var, clseg_tensor *y);
/* As clseg_batchnorm2d_backward with dy replaced by (y > 0 ? dy : 0), y being the fused
 * forward's output (the ReLU's): the gradients of relu(bn(x)). dy is the gradient of y. */
CLSEG_API clseg_status clseg_batchnorm2d_relu_backward(clseg_context *ctx, const clseg_batchnorm_desc *desc,
                                                       const clseg_tensor *x, const clseg_tensor *y,
                                                       const clseg_tensor *dy, const clseg_tensor *weight,
                                                       const clseg_tensor *save_mean, const clseg_tensor *save_invstd,
                                                       clseg_tensor *dx, float beta_dx, clseg_tensor *dweight,
                                                       clseg_tensor *dbias, float beta_params, clseg_tensor *workspace);

#ifdef __cplusplus
}
#endif
#endif
