#include "ops/basic.h"
#include "opencl/ocl.h"

#define PROGRAM "basic"

static clseg_status run_elementwise(clseg_context *ctx, const char *kernel, const clseg_ocl_arg *args, size_t nargs,
                                    size_t n)
{
    return clseg_ocl_run_1d(ctx, PROGRAM, kernel, "EW_WG", args, nargs, n);
}

clseg_status clseg_ocl_fill(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_scalars *p = params;
    size_t n = clseg_tensor_numel(t[0]);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_UINT(n), CLSEG_ARG_FLOAT(p->alpha)};
    return run_elementwise(ctx, "fill", args, CLSEG_NARGS(args), n);
}

clseg_status clseg_ocl_copy(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)params;
    size_t n = clseg_tensor_numel(t[0]);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_UINT(n)};
    return run_elementwise(ctx, "copy", args, CLSEG_NARGS(args), n);
}

clseg_status clseg_ocl_scale(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_scalars *p = params;
    size_t n = clseg_tensor_numel(t[0]);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_UINT(n), CLSEG_ARG_FLOAT(p->alpha)};
    return run_elementwise(ctx, "scale", args, CLSEG_NARGS(args), n);
}

clseg_status clseg_ocl_axpby(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_scalars *p = params;
    size_t n = clseg_tensor_numel(t[0]);
    clseg_ocl_arg args[] = {CLSEG_ARG_FLOAT(p->alpha), CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_FLOAT(p->beta),
                            CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_UINT(n)};
    return run_elementwise(ctx, "axpby", args, CLSEG_NARGS(args), n);
}

clseg_status clseg_ocl_sum(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)params;
    size_t n = clseg_tensor_numel(t[0]);
    size_t partials = clseg_tensor_numel(t[2]), local = 0, groups = 0;
    clseg_status st = clseg_ocl_reduce_grid(ctx, PROGRAM, "REDUCE_WG", "REDUCE_GROUPS", n,
                                            partials < CLSEG_SUM_MAX_PARTIALS ? partials : CLSEG_SUM_MAX_PARTIALS,
                                            &local, &groups);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    size_t global = groups * local;
    clseg_ocl_arg stage1[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_UINT(n), CLSEG_ARG_TENSOR(t[2])};
    st = clseg_ocl_run(ctx, PROGRAM, "sum_partial", stage1, CLSEG_NARGS(stage1), 1, &global, &local);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_ocl_arg stage2[] = {CLSEG_ARG_TENSOR(t[2]), CLSEG_ARG_UINT(groups), CLSEG_ARG_TENSOR(t[1])};
    return clseg_ocl_run(ctx, PROGRAM, "sum_final", stage2, CLSEG_NARGS(stage2), 1, &local, &local);
}
