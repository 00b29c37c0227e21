#include "ops/loss.h"
#include "opencl/ocl.h"

#define PROGRAM "loss"

/* {pred, target, loss, grad or NULL, workspace}: stage 1, stage 2, then, for the kinds with
 * Dice, the gradient; see cl/loss.cl. Nothing here waits for the device. */
clseg_status clseg_ocl_loss(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_loss_params *p = params;
    size_t n = clseg_tensor_numel(t[0]);
    size_t local = 0, groups = 0;
    long serial = 0, vec = 0;
    /* at most min(n, CLSEG_LOSS_MAX_PARTIALS) partials: what clseg_loss_workspace_bytes() provides for */
    clseg_status st =
        clseg_ocl_reduce_grid(ctx, PROGRAM, "LOSS_WG", "LOSS_GROUPS", n, CLSEG_LOSS_MAX_PARTIALS, &local, &groups);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "LOSS_SERIAL", &serial);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "LOSS_VEC", &vec);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    cl_uint kind = (cl_uint)p->kind;
    clseg_tensor *ws = t[4];
    double scale = (p->kind == CLSEG_LOSS_MSE ? 2.0 : (double)p->bce_weight) / (double)n;
    /* BCE's and MSE's gradients need no sums: stage 1 writes them (pred stands in for the
     * gradient it does not write otherwise) */
    cl_uint fused = t[3] != NULL && (p->kind == CLSEG_LOSS_BCE || p->kind == CLSEG_LOSS_MSE);
    clseg_tensor *grad = fused ? t[3] : t[0];
    clseg_ocl_arg stage1[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_UINT(n),
                              CLSEG_ARG_UINT(kind),   CLSEG_ARG_TENSOR(ws),   CLSEG_ARG_TENSOR(grad),
                              CLSEG_ARG_UINT(fused),  CLSEG_ARG_FLOAT(scale)};
    if (serial == 1) {
        size_t one = 1;
        st = clseg_ocl_run(ctx, PROGRAM, "loss_partial_serial", stage1, CLSEG_NARGS(stage1), 1, &groups, &one);
    } else {
        size_t global = groups * local;
        st = clseg_ocl_run(ctx, PROGRAM, "loss_partial", stage1, CLSEG_NARGS(stage1), 1, &global, &local);
    }
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_ocl_arg stage2[] = {CLSEG_ARG_TENSOR(ws),
                              CLSEG_ARG_UINT(groups),
                              CLSEG_ARG_UINT(n),
                              CLSEG_ARG_UINT(kind),
                              CLSEG_ARG_FLOAT(p->smooth),
                              CLSEG_ARG_FLOAT(p->bce_weight),
                              CLSEG_ARG_FLOAT(p->dice_weight),
                              CLSEG_ARG_TENSOR(t[2])};
    st = clseg_ocl_run(ctx, PROGRAM, "loss_final", stage2, CLSEG_NARGS(stage2), 1, &local, &local);
    if (st != CLSEG_STATUS_SUCCESS || t[3] == NULL || fused)
        return st;
    clseg_ocl_arg stage3[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_TENSOR(t[3]),
                              CLSEG_ARG_UINT(n),      CLSEG_ARG_FLOAT(scale), CLSEG_ARG_TENSOR(ws)};
    if (vec == 1)
        return clseg_ocl_run_1d(ctx, PROGRAM, "loss_grad_vec", "LOSS_WG", stage3, CLSEG_NARGS(stage3), (n + 15) / 16);
    return clseg_ocl_run_1d(ctx, PROGRAM, "loss_grad", "LOSS_WG", stage3, CLSEG_NARGS(stage3), n);
}

/* {pred, target, counts}: one work-group per image. */
clseg_status clseg_ocl_confusion_counts(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    const clseg_confusion_params *p = params;
    size_t images = (size_t)t[0]->shape.n, pixels = clseg_tensor_numel(t[0]) / images;
    long wg = 0;
    clseg_status st = clseg_ocl_check_count(ctx, "confusion_counts", clseg_tensor_numel(t[0]));
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, PROGRAM, "CONF_WG", &wg);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    size_t local = (size_t)wg, global = images * local;
    clseg_ocl_arg args[] = {CLSEG_ARG_TENSOR(t[0]), CLSEG_ARG_TENSOR(t[1]), CLSEG_ARG_UINT(pixels),
                            CLSEG_ARG_FLOAT(p->threshold), CLSEG_ARG_TENSOR(t[2])};
    return clseg_ocl_run(ctx, PROGRAM, "confusion_counts", args, CLSEG_NARGS(args), 1, &global, &local);
}
