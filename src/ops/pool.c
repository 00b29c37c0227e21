#include "ops/pool.h"

#include "ops/check.h"

static const clseg_op op_maxpool_forward = {"maxpool2d.forward", clseg_ref_maxpool2d_forward,
                                            clseg_ocl_maxpool2d_forward};
static const clseg_op op_maxpool_scatter = {"maxpool2d.scatter", clseg_ref_maxpool2d_scatter,
                                            clseg_ocl_maxpool2d_scatter};
static const clseg_op op_maxunpool_backward = {"maxunpool2d.backward", clseg_ref_maxunpool2d_backward,
                                               clseg_ocl_maxunpool2d_backward};
static const clseg_op op_gap_forward = {"global_avgpool.forward", clseg_ref_global_avgpool_forward,
                                        clseg_ocl_global_avgpool_forward};
static const clseg_op op_gap_backward = {"global_avgpool.backward", clseg_ref_global_avgpool_backward,
                                         clseg_ocl_global_avgpool_backward};

#define T(x) ((clseg_tensor *)(x))

/* Indices are floats: positions within a plane are exact up to 2^24. */
#define MAX_PLANE (1 << 24)

clseg_pool2d_desc clseg_pool2d_make(int k, int s, int p)
{
    return (clseg_pool2d_desc){k, k, s, s, p, p};
}

/* The checks of clseg_pool2d_output_shape, reported on ctx (which may be NULL). */
static clseg_status pooled_shape(clseg_context *ctx, const char *op, const clseg_pool2d_desc *d, clseg_shape x,
                                 clseg_shape *y)
{
    if (d == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: desc is NULL", op);
    if (d->kernel_h < 1 || d->kernel_w < 1 || d->stride_h < 1 || d->stride_w < 1)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: kernel %dx%d stride %dx%d; both must be >= 1", op,
                          d->kernel_h, d->kernel_w, d->stride_h, d->stride_w);
    if (d->pad_h < 0 || d->pad_w < 0 || d->pad_h > d->kernel_h / 2 || d->pad_w > d->kernel_w / 2)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT,
                          "%s: padding %dx%d; it must be in [0, kernel / 2] for kernel %dx%d", op, d->pad_h, d->pad_w,
                          d->kernel_h, d->kernel_w);
    clseg_status st = clseg_check_shape_valid(ctx, op, "input", x);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (x.h + 2 * d->pad_h < d->kernel_h || x.w + 2 * d->pad_w < d->kernel_w)
        return clseg_fail(ctx, CLSEG_STATUS_SHAPE_MISMATCH,
                          "%s: a %lldx%lld input padded by %dx%d is smaller than %dx%d", op, (long long)x.h,
                          (long long)x.w, d->pad_h, d->pad_w, d->kernel_h, d->kernel_w);
    if (x.h * x.w > MAX_PLANE)
        return clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED,
                          "%s: a %lldx%lld plane has more than 2^24 positions, which float indices cannot hold", op,
                          (long long)x.h, (long long)x.w);
    if (y != NULL)
        *y = (clseg_shape){x.n, x.c, (x.h + 2 * d->pad_h - d->kernel_h) / d->stride_h + 1,
                           (x.w + 2 * d->pad_w - d->kernel_w) / d->stride_w + 1};
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_pool2d_output_shape(const clseg_pool2d_desc *desc, clseg_shape x, clseg_shape *y)
{
    if (y == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    return pooled_shape(NULL, "clseg_pool2d_output_shape", desc, x, y);
}

/* big (unpooled) and small (pooled) agree with desc, and indices has small's shape. */
static clseg_status check_pair(clseg_context *ctx, const char *op, const clseg_pool2d_desc *desc, const char *big_name,
                               const clseg_tensor *big, const char *small_name, const clseg_tensor *small,
                               const clseg_tensor *indices)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {big_name, big}, {small_name, small}, {"indices", indices});
    clseg_shape want;
    if (st == CLSEG_STATUS_SUCCESS)
        st = pooled_shape(ctx, op, desc, big->shape, &want);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_shape(ctx, op, small_name, small, want);
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_check_shape(ctx, op, "indices", indices, want);
}

clseg_status clseg_maxpool2d_forward(clseg_context *ctx, const clseg_pool2d_desc *desc, const clseg_tensor *x,
                                     clseg_tensor *y, clseg_tensor *indices)
{
    clseg_status st = check_pair(ctx, "clseg_maxpool2d_forward", desc, "x", x, "y", y, indices);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_pool_params p = {*desc, 0.0f};
    return clseg_launch(ctx, &op_maxpool_forward, &p, (clseg_tensor *[]){T(x), y, indices});
}

clseg_status clseg_maxpool2d_backward(clseg_context *ctx, const clseg_pool2d_desc *desc, const clseg_tensor *dy,
                                      const clseg_tensor *indices, clseg_tensor *dx, float beta)
{
    clseg_status st = check_pair(ctx, "clseg_maxpool2d_backward", desc, "dx", dx, "dy", dy, indices);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_pool_params p = {*desc, beta};
    return clseg_launch(ctx, &op_maxpool_scatter, &p, (clseg_tensor *[]){T(dy), T(indices), dx});
}

clseg_status clseg_maxunpool2d_forward(clseg_context *ctx, const clseg_pool2d_desc *desc, const clseg_tensor *x,
                                       const clseg_tensor *indices, clseg_tensor *y)
{
    clseg_status st = check_pair(ctx, "clseg_maxunpool2d_forward", desc, "y", y, "x", x, indices);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_pool_params p = {*desc, 0.0f}; /* beta 0: zero wherever nothing was recorded */
    return clseg_launch(ctx, &op_maxpool_scatter, &p, (clseg_tensor *[]){T(x), T(indices), y});
}

clseg_status clseg_maxunpool2d_backward(clseg_context *ctx, const clseg_pool2d_desc *desc, const clseg_tensor *dy,
                                        const clseg_tensor *indices, clseg_tensor *dx, float beta)
{
    clseg_status st = check_pair(ctx, "clseg_maxunpool2d_backward", desc, "dy", dy, "dx", dx, indices);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_pool_params p = {*desc, beta};
    return clseg_launch(ctx, &op_maxunpool_backward, &p, (clseg_tensor *[]){T(dy), T(indices), dx});
}

/* planes (N, C, H, W) and their means (N, C, 1, 1). */
static clseg_status check_global(clseg_context *ctx, const char *op, const char *plane_name, const clseg_tensor *planes,
                                 const char *mean_name, const clseg_tensor *means)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {plane_name, planes}, {mean_name, means});
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_shape_valid(ctx, op, plane_name, planes->shape);
    return st != CLSEG_STATUS_SUCCESS
               ? st
               : clseg_check_shape(ctx, op, mean_name, means, (clseg_shape){planes->shape.n, planes->shape.c, 1, 1});
}

clseg_status clseg_global_avgpool_forward(clseg_context *ctx, const clseg_tensor *x, clseg_tensor *y)
{
    clseg_status st = check_global(ctx, "clseg_global_avgpool_forward", "x", x, "y", y);
    clseg_pool_params p = {{0}, 0.0f};
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_launch(ctx, &op_gap_forward, &p, (clseg_tensor *[]){T(x), y});
}

clseg_status clseg_global_avgpool_backward(clseg_context *ctx, const clseg_tensor *dy, clseg_tensor *dx, float beta)
{
    clseg_status st = check_global(ctx, "clseg_global_avgpool_backward", "dx", dx, "dy", dy);
    clseg_pool_params p = {{0}, beta};
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_launch(ctx, &op_gap_backward, &p, (clseg_tensor *[]){T(dy), dx});
}
