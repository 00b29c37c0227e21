#include <stdio.h>

#include "ops/activation.h"
#include "opencl/ocl.h"

#define PROGRAM "activation"

static clseg_status run(clseg_context *ctx, const char *kernel, const clseg_ocl_arg *args, size_t nargs, size_t n)
{
    return clseg_ocl_run_1d(ctx, PROGRAM, kernel, "ACT_WG", args, nargs, n);
}

/* {x, y} */
static clseg_status forward(clseg_context *ctx, const char *kernel, clseg_tensor *const *t)
{
    size_t n = clseg_tensor_numel(t[0]);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_UINT(n)};
    return run(ctx, kernel, args, CLSEG_NARGS(args), n);
}

/* {a, b, dx} with beta */
static clseg_status backward(clseg_context *ctx, const char *kernel, const void *params, clseg_tensor *const *t)
{
    const clseg_act_params *p = params;
    size_t n = clseg_tensor_numel(t[0]);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_TENSOR(t[2]), CLSEG_ARG_UINT(n),
                            CLSEG_ARG_FLOAT(p->beta)};
    return run(ctx, kernel, args, CLSEG_NARGS(args), n);
}

clseg_status clseg_ocl_relu_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)params;
    return forward(ctx, "relu_forward", t);
}

clseg_status clseg_ocl_sigmoid_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)params;
    return forward(ctx, "sigmoid_forward", t);
}

clseg_status clseg_ocl_relu_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    return backward(ctx, "relu_backward", params, t);
}

clseg_status clseg_ocl_sigmoid_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    return backward(ctx, "sigmoid_backward", params, t);
}

clseg_status clseg_ocl_dropout_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    return backward(ctx, "dropout_backward", params, t);
}

clseg_status clseg_ocl_dropout_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_act_params *p = params;
    size_t n = clseg_tensor_numel(t[0]);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]),     CLSEG_ARG_TENSOR(t[1]),    CLSEG_ARG_TENSOR(t[2]),
                            CLSEG_ARG_UINT(n),          CLSEG_ARG_FLOAT(p->p),     CLSEG_ARG_FLOAT(p->scale),
                            CLSEG_ARG_UINT(p->seed_lo), CLSEG_ARG_UINT(p->seed_hi)};
    return run(ctx, "dropout_forward", args, CLSEG_NARGS(args), n);
}

clseg_status clseg_ocl_add(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)params;
    size_t n = clseg_tensor_numel(t[0]);
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_TENSOR(t[2]), CLSEG_ARG_UINT(n)};
    return run(ctx, "add", args, CLSEG_NARGS(args), n);
}

/* {small, big}: the input's (or its gradient's) geometry inside y's. */
static clseg_status concat(clseg_context *ctx, const char *kernel, const clseg_concat_params *p, clseg_tensor *input,
                           clseg_tensor *y, int backward)
{
    size_t n = clseg_tensor_numel(input), hw = (size_t)(y->shape.h * y->shape.w);
    size_t chw = (size_t)input->shape.c * hw, y_stride = (size_t)y->shape.c * hw;
    size_t offset = (size_t)p->channel_offset * hw;
    clseg_tensor *from = backward ? y : input, *to = backward ? input : y;
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(from),  CLSEG_ARG_TENSOR(to),     CLSEG_ARG_UINT(n),
                            CLSEG_ARG_UINT(chw),     CLSEG_ARG_UINT(y_stride), CLSEG_ARG_UINT(offset),
                            CLSEG_ARG_FLOAT(p->beta)};
    /* a (position, image) grid: no division per element to find the image */
    long wg = 0, vec = 0;
    clseg_status st = clseg_ocl_check_count(ctx, kernel, clseg_tensor_numel(y));
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "ACT_WG", &wg);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "ACT_VEC", &vec);
    if (st != CLSEG_STATUS_SUCCESS || n == 0)
        return st;
    size_t global[2] = {chw, n / chw}, local[2] = {(size_t)wg, 1};
    char name[32];
    snprintf(name, sizeof name, "%s%s", kernel, vec == 1 && chw % 16 == 0 ? "_vec" : "");
    if (vec == 1 && chw % 16 == 0)
        global[0] = chw / 16;
    return clseg_ocl_run(ctx, PROGRAM, name, args, CLSEG_NARGS(args) - (backward ? 0 : 1), 2, global, local);
}

clseg_status clseg_ocl_concat_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    return concat(ctx, "concat_forward", params, t[0], t[1], 0);
}

clseg_status clseg_ocl_concat_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    return concat(ctx, "concat_backward", params, t[1], t[0], 1);
}
