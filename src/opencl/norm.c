#include <stdio.h>

#include "ops/norm.h"
#include "opencl/ocl.h"

#define PROGRAM "norm"

/* A tensor's buffer with its offset moved on by extra elements (a region of the workspace). */
#define ARG_TENSOR_AT(t, extra) CLSEG_ARG_MEM(t), CLSEG_ARG_UINT((t)->offset + (extra))

typedef struct bn_geom {
    size_t channels, hw, m, numel;
    size_t chunks; /* stage-1 work-groups per channel */
    size_t wg;     /* stage-1 work-group size */
    bool serial;   /* stage 1 as the *_serial kernels (NORM_SERIAL) */
} bn_geom;

/* The geometry from x's shape and the tunables: chunks never exceed what the workspace holds
 * nor the groups that have any values to add. */
static clseg_status geometry(clseg_context *ctx, const clseg_tensor *x, bn_geom *g)
{
    long wg = 0, chunks = 0, serial = 0;
    clseg_status st = clseg_ocl_tunable(ctx, PROGRAM, "NORM_WG", &wg);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "NORM_CHUNKS", &chunks);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "NORM_SERIAL", &serial);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    g->channels = (size_t)x->shape.c;
    g->hw = (size_t)(x->shape.h * x->shape.w);
    g->m = (size_t)x->shape.n * g->hw;
    g->numel = g->m * g->channels;
    g->wg = (size_t)wg;
    g->serial = serial == 1;
    size_t useful = (g->m + g->wg - 1) / g->wg;
    g->chunks = chunks < 1 ? 1 : (size_t)chunks;
    if (g->chunks > CLSEG_NORM_MAX_CHUNKS)
        g->chunks = CLSEG_NORM_MAX_CHUNKS;
    if (g->chunks > useful)
        g->chunks = useful;
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status stage1(clseg_context *ctx, const char *kernel, const bn_geom *g, const clseg_ocl_arg *args,
                           size_t nargs)
{
    if (g->serial) {
        char name[64];
        size_t global[2] = {g->chunks, g->channels}, one[2] = {1, 1};
        snprintf(name, sizeof name, "%s_serial", kernel);
        return clseg_ocl_run(ctx, PROGRAM, name, args, nargs, 2, global, one);
    }
    size_t global[2] = {g->chunks * g->wg, g->channels}, local[2] = {g->wg, 1};
    return clseg_ocl_run(ctx, PROGRAM, kernel, args, nargs, 2, global, local);
}

static clseg_status per_channel(clseg_context *ctx, const char *kernel, const bn_geom *g, const clseg_ocl_arg *args,
                                size_t nargs)
{
    return clseg_ocl_run_1d(ctx, PROGRAM, kernel, "NORM_EW_WG", args, nargs, g->channels);
}

/* A work-item per element, the grid's second dimension the (image, channel) plane: the channel
 * is then uniform across a work-group, not a division per element. */
static clseg_status per_element(clseg_context *ctx, const char *kernel, const bn_geom *g, const clseg_ocl_arg *args,
                                size_t nargs)
{
    long wg = 0, vec = 0;
    clseg_status st = clseg_ocl_check_count(ctx, kernel, g->numel);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "NORM_EW_WG", &wg);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "NORM_VEC", &vec);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (vec == 1 && g->hw % 16 == 0) {
        char name[64];
        size_t vectors = g->numel / 16, local = (size_t)wg;
        snprintf(name, sizeof name, "%s_vec", kernel);
        return clseg_ocl_run(ctx, PROGRAM, name, args, nargs, 1, &vectors, &local);
    }
    size_t global[2] = {g->hw, g->numel / g->hw}, local[2] = {(size_t)wg, 1};
    return clseg_ocl_run(ctx, PROGRAM, kernel, args, nargs, 2, global, local);
}

/* {x, weight, bias, running_mean, running_var, y, save_mean, save_invstd, workspace} */
clseg_status clseg_ocl_bn_forward_train(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_bn_params *p = params;
    bn_geom g;
    clseg_status st = geometry(ctx, t[0], &g);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_tensor *x = t[0], *y = t[5], *mean = t[6], *invstd = t[7], *ws = t[8];
    clseg_ocl_arg sum_x[] = {CLSEG_ARG_TENSOR(x), CLSEG_ARG_UINT(g.channels), CLSEG_ARG_UINT(g.hw), CLSEG_ARG_UINT(g.m),
                             CLSEG_ARG_TENSOR(ws)};
    clseg_ocl_arg fin_mean[] = {CLSEG_ARG_TENSOR(ws), CLSEG_ARG_UINT(g.chunks), CLSEG_ARG_UINT(g.channels),
                                CLSEG_ARG_UINT(g.m), CLSEG_ARG_TENSOR(mean)};
    clseg_ocl_arg sum_sq[] = {CLSEG_ARG_TENSOR(x),  CLSEG_ARG_TENSOR(mean), CLSEG_ARG_UINT(g.channels),
                              CLSEG_ARG_UINT(g.hw), CLSEG_ARG_UINT(g.m),    CLSEG_ARG_TENSOR(ws)};
    clseg_ocl_arg fin_var[] = {CLSEG_ARG_TENSOR(ws),   CLSEG_ARG_UINT(g.chunks),     CLSEG_ARG_UINT(g.channels),
                               CLSEG_ARG_UINT(g.m),    CLSEG_ARG_FLOAT(p->momentum), CLSEG_ARG_FLOAT(p->eps),
                               CLSEG_ARG_TENSOR(mean), CLSEG_ARG_TENSOR(invstd),     CLSEG_ARG_TENSOR(t[3]),
                               CLSEG_ARG_TENSOR(t[4])};
    clseg_ocl_arg norm[] = {CLSEG_ARG_TENSOR(x),         CLSEG_ARG_TENSOR(mean), CLSEG_ARG_TENSOR(invstd),
                            CLSEG_ARG_TENSOR(t[1]),      CLSEG_ARG_TENSOR(t[2]), CLSEG_ARG_TENSOR(y),
                            CLSEG_ARG_UINT(g.channels),  CLSEG_ARG_UINT(g.hw),   CLSEG_ARG_UINT(g.numel),
                            CLSEG_ARG_UINT(p->relu != 0)};
    if ((st = stage1(ctx, "bn_sum_x", &g, sum_x, CLSEG_NARGS(sum_x))) != CLSEG_STATUS_SUCCESS ||
        (st = per_channel(ctx, "bn_finish_mean", &g, fin_mean, CLSEG_NARGS(fin_mean))) != CLSEG_STATUS_SUCCESS ||
        (st = stage1(ctx, "bn_sum_sqdev", &g, sum_sq, CLSEG_NARGS(sum_sq))) != CLSEG_STATUS_SUCCESS ||
        (st = per_channel(ctx, "bn_finish_var", &g, fin_var, CLSEG_NARGS(fin_var))) != CLSEG_STATUS_SUCCESS)
        return st;
    return per_element(ctx, "bn_normalize", &g, norm, CLSEG_NARGS(norm));
}

/* {x, weight, bias, running_mean, running_var, y} */
clseg_status clseg_ocl_bn_forward_infer(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_bn_params *p = params;
    bn_geom g;
    clseg_status st = geometry(ctx, t[0], &g);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]),     CLSEG_ARG_TENSOR(t[3]),      CLSEG_ARG_TENSOR(t[4]),
                            CLSEG_ARG_TENSOR(t[1]),     CLSEG_ARG_TENSOR(t[2]),      CLSEG_ARG_TENSOR(t[5]),
                            CLSEG_ARG_UINT(g.channels), CLSEG_ARG_UINT(g.hw),        CLSEG_ARG_UINT(g.numel),
                            CLSEG_ARG_FLOAT(p->eps),    CLSEG_ARG_UINT(p->relu != 0)};
    return per_element(ctx, "bn_infer", &g, args, CLSEG_NARGS(args));
}

/* {x, dy, weight, save_mean, save_invstd, dx, dweight, dbias, workspace, y}; without the fused
 * ReLU, y is dy (any buffer: the kernels do not read it) */
clseg_status clseg_ocl_bn_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_bn_params *p = params;
    bn_geom g;
    clseg_status st = geometry(ctx, t[0], &g);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_tensor *x = t[0], *dy = t[1], *w = t[2], *mean = t[3], *invstd = t[4], *ws = t[8], *y = t[9];
    size_t sums = 2 * g.channels * CLSEG_NORM_MAX_CHUNKS; /* after the partials (ops/norm.h) */
    clseg_ocl_arg sum_grad[] = {CLSEG_ARG_TENSOR(x),          CLSEG_ARG_TENSOR(dy),   CLSEG_ARG_TENSOR(y),
                                CLSEG_ARG_UINT(p->relu != 0), CLSEG_ARG_TENSOR(mean), CLSEG_ARG_UINT(g.channels),
                                CLSEG_ARG_UINT(g.hw),         CLSEG_ARG_UINT(g.m),    CLSEG_ARG_TENSOR(ws)};
    clseg_ocl_arg fin[] = {CLSEG_ARG_TENSOR(ws),     CLSEG_ARG_UINT(g.chunks),       CLSEG_ARG_UINT(g.channels),
                           CLSEG_ARG_TENSOR(invstd), ARG_TENSOR_AT(ws, sums),        CLSEG_ARG_TENSOR(t[6]),
                           CLSEG_ARG_TENSOR(t[7]),   CLSEG_ARG_FLOAT(p->beta_params)};
    clseg_ocl_arg dx[] = {CLSEG_ARG_TENSOR(x),          CLSEG_ARG_TENSOR(dy),       CLSEG_ARG_TENSOR(y),
                          CLSEG_ARG_UINT(p->relu != 0), CLSEG_ARG_TENSOR(w),        CLSEG_ARG_TENSOR(mean),
                          CLSEG_ARG_TENSOR(invstd),     ARG_TENSOR_AT(ws, sums),    CLSEG_ARG_TENSOR(t[5]),
                          CLSEG_ARG_UINT(g.channels),   CLSEG_ARG_UINT(g.hw),       CLSEG_ARG_UINT(g.numel),
                          CLSEG_ARG_UINT(g.m),          CLSEG_ARG_FLOAT(p->beta_dx)};
    if ((st = stage1(ctx, "bn_sum_grad", &g, sum_grad, CLSEG_NARGS(sum_grad))) != CLSEG_STATUS_SUCCESS ||
        (st = per_channel(ctx, "bn_finish_grad", &g, fin, CLSEG_NARGS(fin))) != CLSEG_STATUS_SUCCESS)
        return st;
    return per_element(ctx, "bn_backward_dx", &g, dx, CLSEG_NARGS(dx));
}
