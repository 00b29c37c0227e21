#include "ops/pool.h"
#include "opencl/ocl.h"

#define PROGRAM "pool"

static clseg_status run(clseg_context *ctx, const char *kernel, const clseg_ocl_arg *args, size_t nargs, size_t n)
{
    return clseg_ocl_run_1d(ctx, PROGRAM, kernel, "POOL_WG", args, nargs, n);
}

/* The GEOM_ARGS of cl/pool.cl for unpooled shape x and pooled shape y. */
#define GEOM(d, x, y)                                                                                                  \
    CLSEG_ARG_UINT((x).h), CLSEG_ARG_UINT((x).w), CLSEG_ARG_UINT((y).h), CLSEG_ARG_UINT((y).w),                        \
        CLSEG_ARG_UINT((d).kernel_h), CLSEG_ARG_UINT((d).kernel_w), CLSEG_ARG_UINT((d).stride_h),                      \
        CLSEG_ARG_UINT((d).stride_w), CLSEG_ARG_UINT((d).pad_h), CLSEG_ARG_UINT((d).pad_w)

/* Whether the 2x2, stride-2 kernels of cl/pool.cl cover pooled shape y from x exactly. */
static bool pool2_fits(const clseg_pool2d_desc *d, clseg_shape x, clseg_shape y)
{
    return d->kernel_h == 2 && d->kernel_w == 2 && d->stride_h == 2 && d->stride_w == 2 && d->pad_h == 0 &&
           d->pad_w == 0 && x.h == 2 * y.h && x.w == 2 * y.w && y.w % 16 == 0;
}

/* Whether the 3x3, stride-2, padding-1 kernels of cl/pool.cl cover pooled shape y from x
 * exactly: half the size, so no window runs past the last row or column. */
static bool pool3_fits(const clseg_pool2d_desc *d, clseg_shape x, clseg_shape y)
{
    return d->kernel_h == 3 && d->kernel_w == 3 && d->stride_h == 2 && d->stride_w == 2 && d->pad_h == 1 &&
           d->pad_w == 1 && x.h == 2 * y.h && x.w == 2 * y.w && y.w % 16 == 0;
}

/* Work-items of 16 outputs (forward: rows of y) or 32 inputs (3x3 scatter: rows of x). */
static clseg_status run_tiles(clseg_context *ctx, const char *kernel, const clseg_ocl_arg *args, size_t nargs,
                              clseg_shape y, int64_t rows)
{
    size_t global[3] = {(size_t)y.w / 16, (size_t)rows, (size_t)(y.n * y.c)};
    return clseg_ocl_run(ctx, PROGRAM, kernel, args, nargs, 3, global, NULL);
}

clseg_status clseg_ocl_maxpool2d_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_pool_params *p = params;
    size_t n = clseg_tensor_numel(t[1]);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_TENSOR(t[2]), CLSEG_ARG_UINT(n),
                            GEOM(p->desc, t[0]->shape, t[1]->shape)};
    clseg_status st = clseg_ocl_check_count(ctx, "maxpool2d.forward", clseg_tensor_numel(t[0]));
    bool k2 = pool2_fits(&p->desc, t[0]->shape, t[1]->shape), k3 = pool3_fits(&p->desc, t[0]->shape, t[1]->shape);
    if (st == CLSEG_STATUS_SUCCESS && n > 0 && (k2 || k3)) {
        clseg_ocl_arg fast[] = {CLSEG_ARG_TENSOR(t[0]),        CLSEG_ARG_TENSOR(t[1]),
                                CLSEG_ARG_TENSOR(t[2]),        CLSEG_ARG_UINT(t[0]->shape.h),
                                CLSEG_ARG_UINT(t[0]->shape.w), CLSEG_ARG_UINT(t[1]->shape.h),
                                CLSEG_ARG_UINT(t[1]->shape.w)};
        const char *kernel = k2 ? "maxpool2_forward" : "maxpool3_forward";
        return run_tiles(ctx, kernel, fast, CLSEG_NARGS(fast), t[1]->shape, t[1]->shape.h);
    }
    size_t global[3] = {(size_t)t[1]->shape.w, (size_t)t[1]->shape.h, (size_t)(t[1]->shape.n * t[1]->shape.c)};
    return st != CLSEG_STATUS_SUCCESS || n == 0
               ? st
               : clseg_ocl_run(ctx, PROGRAM, "maxpool_forward", args, CLSEG_NARGS(args), 3, global, NULL);
}

clseg_status clseg_ocl_maxpool2d_scatter(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_pool_params *p = params;
    size_t n = clseg_tensor_numel(t[2]);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]),   CLSEG_ARG_TENSOR(t[2]),
                            CLSEG_ARG_UINT(n),      CLSEG_ARG_FLOAT(p->beta), GEOM(p->desc, t[2]->shape, t[0]->shape)};
    clseg_status st = clseg_ocl_check_count(ctx, "maxpool_scatter", n);
    bool k2 = pool2_fits(&p->desc, t[2]->shape, t[0]->shape), k3 = pool3_fits(&p->desc, t[2]->shape, t[0]->shape);
    if (st == CLSEG_STATUS_SUCCESS && n > 0 && (k2 || k3)) {
        clseg_ocl_arg fast[] = {CLSEG_ARG_TENSOR(t[0]),        CLSEG_ARG_TENSOR(t[1]),
                                CLSEG_ARG_TENSOR(t[2]),        CLSEG_ARG_FLOAT(p->beta),
                                CLSEG_ARG_UINT(t[2]->shape.h), CLSEG_ARG_UINT(t[2]->shape.w),
                                CLSEG_ARG_UINT(t[0]->shape.h), CLSEG_ARG_UINT(t[0]->shape.w)};
        /* the 2x2 kernel writes the two input rows of an output row, the 3x3 one input row */
        return k2 ? run_tiles(ctx, "maxpool2_scatter", fast, CLSEG_NARGS(fast), t[0]->shape, t[0]->shape.h)
                  : run_tiles(ctx, "maxpool3_scatter", fast, CLSEG_NARGS(fast), t[0]->shape, t[2]->shape.h);
    }
    size_t global[3] = {(size_t)t[2]->shape.w, (size_t)t[2]->shape.h, (size_t)(t[2]->shape.n * t[2]->shape.c)};
    return st != CLSEG_STATUS_SUCCESS || n == 0
               ? st
               : clseg_ocl_run(ctx, PROGRAM, "maxpool_scatter", args, CLSEG_NARGS(args), 3, global, NULL);
}

clseg_status clseg_ocl_maxunpool2d_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_pool_params *p = params;
    clseg_shape big = t[0]->shape, small = t[2]->shape;
    size_t n = clseg_tensor_numel(t[2]);
    clseg_ocl_arg args[] = {
        CLSEG_ARG_TENSOR(t[0]),   CLSEG_ARG_TENSOR(t[1]),        CLSEG_ARG_TENSOR(t[2]),           CLSEG_ARG_UINT(n),
        CLSEG_ARG_FLOAT(p->beta), CLSEG_ARG_UINT(big.h * big.w), CLSEG_ARG_UINT(small.h * small.w)};
    clseg_status st = clseg_ocl_check_count(ctx, "maxunpool2d.backward", clseg_tensor_numel(t[0]));
    return st != CLSEG_STATUS_SUCCESS ? st : run(ctx, "maxunpool_backward", args, CLSEG_NARGS(args), n);
}

clseg_status clseg_ocl_global_avgpool_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)params;
    clseg_shape s = t[0]->shape;
    long wg = 0;
    clseg_status st = clseg_ocl_check_count(ctx, "global_avgpool.forward", clseg_tensor_numel(t[0]));
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "GAP_WG", &wg);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    size_t local = (size_t)wg, global = (size_t)(s.n * s.c) * local;
    if ((st = clseg_ocl_check_count(ctx, "global_avgpool.forward", global)) != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_UINT(s.h * s.w)};
    return clseg_ocl_run(ctx, PROGRAM, "global_avgpool_forward", args, CLSEG_NARGS(args), 1, &global, &local);
}

clseg_status clseg_ocl_global_avgpool_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_pool_params *p = params;
    clseg_shape s = t[1]->shape;
    size_t n = clseg_tensor_numel(t[1]);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_UINT(n),
                            CLSEG_ARG_UINT(s.h * s.w), CLSEG_ARG_FLOAT(p->beta)};
    return run(ctx, "global_avgpool_backward", args, CLSEG_NARGS(args), n);
}
