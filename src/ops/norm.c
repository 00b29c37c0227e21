#include "ops/norm.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "clseg/norm.h"
#include "ops/check.h"

static const clseg_op op_forward_train = {"batchnorm2d.forward_train", clseg_ref_bn_forward_train,
                                          clseg_ocl_bn_forward_train};
static const clseg_op op_forward_infer = {"batchnorm2d.forward_infer", clseg_ref_bn_forward_infer,
                                          clseg_ocl_bn_forward_infer};
static const clseg_op op_backward = {"batchnorm2d.backward", clseg_ref_bn_backward, clseg_ocl_bn_backward};
/* The fused ReLU is a parameter of the same implementations. */
static const clseg_op op_relu_forward_train = {"batchnorm2d_relu.forward_train", clseg_ref_bn_forward_train,
                                               clseg_ocl_bn_forward_train};
static const clseg_op op_relu_forward_infer = {"batchnorm2d_relu.forward_infer", clseg_ref_bn_forward_infer,
                                               clseg_ocl_bn_forward_infer};
static const clseg_op op_relu_backward = {"batchnorm2d_relu.backward", clseg_ref_bn_backward, clseg_ocl_bn_backward};

#define T(x) ((clseg_tensor *)(x))
#define OK CLSEG_STATUS_SUCCESS

size_t clseg_batchnorm2d_workspace_bytes(const clseg_context *ctx, clseg_shape x)
{
    (void)ctx;
    return x.c > 0 ? clseg_norm_workspace_floats((size_t)x.c) * sizeof(float) : 0;
}

static clseg_status check_desc(clseg_context *ctx, const char *op, const clseg_batchnorm_desc *desc)
{
    if (desc == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: desc is NULL", op);
    if (!(desc->momentum >= 0.0f && desc->momentum <= 1.0f))
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: momentum is %g; it must be in [0, 1]", op,
                          (double)desc->momentum);
    if (!(desc->eps > 0.0f && isfinite(desc->eps)))
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: eps is %g; it must be positive and finite", op,
                          (double)desc->eps);
    return OK;
}

/* The per-channel vectors hold x's channel count; the element count fits the kernels. */
static clseg_status check_channels(clseg_context *ctx, const char *op, const clseg_tensor *x,
                                   const clseg_named_tensor *vectors, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        clseg_status st = clseg_check_numel(ctx, op, vectors[i].name, vectors[i].t, (size_t)x->shape.c);
        if (st != OK)
            return st;
    }
    if (clseg_tensor_numel(x) > UINT32_MAX)
        return clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED, "%s: x has more than 2^32 elements", op);
    return OK;
}

static clseg_status forward_train(clseg_context *ctx, const char *op, bool relu, const clseg_batchnorm_desc *desc,
                                  const clseg_tensor *x, const clseg_tensor *weight, const clseg_tensor *bias,
                                  clseg_tensor *running_mean, clseg_tensor *running_var, clseg_tensor *y,
                                  clseg_tensor *save_mean, clseg_tensor *save_invstd, clseg_tensor *workspace)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {"x", x}, {"weight", weight}, {"bias", bias},
                                          {"running_mean", running_mean}, {"running_var", running_var}, {"y", y},
                                          {"save_mean", save_mean}, {"save_invstd", save_invstd});
    if (st != OK || (st = check_desc(ctx, op, desc)) != OK || (st = clseg_check_shape(ctx, op, "y", y, x->shape)) != OK)
        return st;
    const clseg_named_tensor vectors[] = {
        {"weight", weight},           {"bias", bias},           {"running_mean", running_mean},
        {"running_var", running_var}, {"save_mean", save_mean}, {"save_invstd", save_invstd}};
    if ((st = check_channels(ctx, op, x, vectors, sizeof vectors / sizeof vectors[0])) != OK ||
        (st = clseg_check_workspace(ctx, op, workspace, clseg_batchnorm2d_workspace_bytes(ctx, x->shape))) != OK)
        return st;
    /* PyTorch refuses this too: one value per channel has no unbiased variance. */
    if (x->shape.n * x->shape.h * x->shape.w < 2)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT,
                          "%s: training needs more than one value per channel (x is %lldx%lldx%lldx%lld)", op,
                          (long long)x->shape.n, (long long)x->shape.c, (long long)x->shape.h, (long long)x->shape.w);
    clseg_bn_params p = {.momentum = desc->momentum, .eps = desc->eps, .relu = relu};
    return clseg_launch(
        ctx, relu ? &op_relu_forward_train : &op_forward_train, &p,
        (clseg_tensor *[]){T(x), T(weight), T(bias), running_mean, running_var, y, save_mean, save_invstd, workspace});
}

clseg_status clseg_batchnorm2d_forward_train(clseg_context *ctx, const clseg_batchnorm_desc *desc,
                                             const clseg_tensor *x, const clseg_tensor *weight,
                                             const clseg_tensor *bias, clseg_tensor *running_mean,
                                             clseg_tensor *running_var, clseg_tensor *y, clseg_tensor *save_mean,
                                             clseg_tensor *save_invstd, clseg_tensor *workspace)
{
    return forward_train(ctx, "clseg_batchnorm2d_forward_train", false, desc, x, weight, bias, running_mean,
                         running_var, y, save_mean, save_invstd, workspace);
}

clseg_status clseg_batchnorm2d_relu_forward_train(clseg_context *ctx, const clseg_batchnorm_desc *desc,
                                                  const clseg_tensor *x, const clseg_tensor *weight,
                                                  const clseg_tensor *bias, clseg_tensor *running_mean,
                                                  clseg_tensor *running_var, clseg_tensor *y, clseg_tensor *save_mean,
                                                  clseg_tensor *save_invstd, clseg_tensor *workspace)
{
    return forward_train(ctx, "clseg_batchnorm2d_relu_forward_train", true, desc, x, weight, bias, running_mean,
                         running_var, y, save_mean, save_invstd, workspace);
}

static clseg_status forward_infer(clseg_context *ctx, const char *op, bool relu, const clseg_batchnorm_desc *desc,
                                  const clseg_tensor *x, const clseg_tensor *weight, const clseg_tensor *bias,
                                  const clseg_tensor *running_mean, const clseg_tensor *running_var, clseg_tensor *y)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {"x", x}, {"weight", weight}, {"bias", bias},
                                          {"running_mean", running_mean}, {"running_var", running_var}, {"y", y});
    if (st != OK || (st = check_desc(ctx, op, desc)) != OK || (st = clseg_check_shape(ctx, op, "y", y, x->shape)) != OK)
        return st;
    const clseg_named_tensor vectors[] = {
        {"weight", weight}, {"bias", bias}, {"running_mean", running_mean}, {"running_var", running_var}};
    if ((st = check_channels(ctx, op, x, vectors, sizeof vectors / sizeof vectors[0])) != OK)
        return st;
    clseg_bn_params p = {.momentum = desc->momentum, .eps = desc->eps, .relu = relu};
    return clseg_launch(ctx, relu ? &op_relu_forward_infer : &op_forward_infer, &p,
                        (clseg_tensor *[]){T(x), T(weight), T(bias), T(running_mean), T(running_var), y});
}

clseg_status clseg_batchnorm2d_forward_infer(clseg_context *ctx, const clseg_batchnorm_desc *desc,
                                             const clseg_tensor *x, const clseg_tensor *weight,
                                             const clseg_tensor *bias, const clseg_tensor *running_mean,
                                             const clseg_tensor *running_var, clseg_tensor *y)
{
    return forward_infer(ctx, "clseg_batchnorm2d_forward_infer", false, desc, x, weight, bias, running_mean,
                         running_var, y);
}

clseg_status clseg_batchnorm2d_relu_forward_infer(clseg_context *ctx, const clseg_batchnorm_desc *desc,
                                                  const clseg_tensor *x, const clseg_tensor *weight,
                                                  const clseg_tensor *bias, const clseg_tensor *running_mean,
                                                  const clseg_tensor *running_var, clseg_tensor *y)
{
    return forward_infer(ctx, "clseg_batchnorm2d_relu_forward_infer", true, desc, x, weight, bias, running_mean,
                         running_var, y);
}

/* y: the fused forward's output (the mask), read only with relu. */
static clseg_status backward(clseg_context *ctx, const char *op, bool relu, const clseg_batchnorm_desc *desc,
                             const clseg_tensor *x, const clseg_tensor *y, const clseg_tensor *dy,
                             const clseg_tensor *weight, const clseg_tensor *save_mean, const clseg_tensor *save_invstd,
                             clseg_tensor *dx, float beta_dx, clseg_tensor *dweight, clseg_tensor *dbias,
                             float beta_params, clseg_tensor *workspace)
{
    clseg_status st =
        CLSEG_CHECK_TENSORS(ctx, op, {"x", x}, {"dy", dy}, {"weight", weight}, {"save_mean", save_mean},
                            {"save_invstd", save_invstd}, {"dx", dx}, {"dweight", dweight}, {"dbias", dbias});
    if (st == OK && relu && (st = CLSEG_CHECK_TENSORS(ctx, op, {"y", y})) == OK)
        st = clseg_check_shape(ctx, op, "y", y, x->shape);
    if (st != OK || (st = check_desc(ctx, op, desc)) != OK ||
        (st = clseg_check_shape(ctx, op, "dy", dy, x->shape)) != OK ||
        (st = clseg_check_shape(ctx, op, "dx", dx, x->shape)) != OK)
        return st;
    const clseg_named_tensor vectors[] = {{"weight", weight},
                                          {"save_mean", save_mean},
                                          {"save_invstd", save_invstd},
                                          {"dweight", dweight},
                                          {"dbias", dbias}};
    if ((st = check_channels(ctx, op, x, vectors, sizeof vectors / sizeof vectors[0])) != OK ||
        (st = clseg_check_workspace(ctx, op, workspace, clseg_batchnorm2d_workspace_bytes(ctx, x->shape))) != OK)
        return st;
    if (!isfinite(beta_dx) || !isfinite(beta_params))
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: beta_dx (%g) and beta_params (%g) must be finite",
                          op, (double)beta_dx, (double)beta_params);
    clseg_bn_params p = {
        .momentum = desc->momentum, .eps = desc->eps, .beta_dx = beta_dx, .beta_params = beta_params, .relu = relu};
    return clseg_launch(ctx, relu ? &op_relu_backward : &op_backward, &p,
                        (clseg_tensor *[]){T(x), T(dy), T(weight), T(save_mean), T(save_invstd), dx, dweight, dbias,
                                           workspace, T(relu ? y : dy)});
}

clseg_status clseg_batchnorm2d_backward(clseg_context *ctx, const clseg_batchnorm_desc *desc, const clseg_tensor *x,
                                        const clseg_tensor *dy, const clseg_tensor *weight,
                                        const clseg_tensor *save_mean, const clseg_tensor *save_invstd,
                                        clseg_tensor *dx, float beta_dx, clseg_tensor *dweight, clseg_tensor *dbias,
                                        float beta_params, clseg_tensor *workspace)
{
    return backward(ctx, "clseg_batchnorm2d_backward", false, desc, x, NULL, dy, weight, save_mean, save_invstd, dx,
                    beta_dx, dweight, dbias, beta_params, workspace);
}

clseg_status clseg_batchnorm2d_relu_backward(clseg_context *ctx, const clseg_batchnorm_desc *desc,
                                             const clseg_tensor *x, const clseg_tensor *y, const clseg_tensor *dy,
                                             const clseg_tensor *weight, const clseg_tensor *save_mean,
                                             const clseg_tensor *save_invstd, clseg_tensor *dx, float beta_dx,
                                             clseg_tensor *dweight, clseg_tensor *dbias, float beta_params,
                                             clseg_tensor *workspace)
{
    return backward(ctx, "clseg_batchnorm2d_relu_backward", true, desc, x, y, dy, weight, save_mean, save_invstd, dx,
                    beta_dx, dweight, dbias, beta_params, workspace);
}
