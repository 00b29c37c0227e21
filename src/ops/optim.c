#include "ops/optim.h"

#include <math.h>

#include "clseg/optim.h"
#include "ops/check.h"

static const clseg_op op_sgd = {"sgd.step", clseg_ref_sgd_step, clseg_ocl_sgd_step};
static const clseg_op op_adam = {"adam.step", clseg_ref_adam_step, clseg_ocl_adam_step};

#define OK CLSEG_STATUS_SUCCESS

static clseg_status bad(clseg_context *ctx, const char *op, const char *name, float value, const char *want)
{
    return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: %s is %g; it must be %s", op, name, (double)value, want);
}

static bool in_unit(float v)
{
    return v >= 0.0f && v < 1.0f;
} /* [0, 1) */
static bool non_negative(float v)
{
    return v >= 0.0f && isfinite(v);
} /* [0, inf) */

/* param and its gradient (and state) hold the same number of elements; step counts from 1. */
static clseg_status check_tensors(clseg_context *ctx, const char *op, int64_t step, const clseg_tensor *param,
                                  const clseg_named_tensor *others, size_t count)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {"param", param});
    if (st != OK)
        return st;
    if ((st = clseg_check_tensors(ctx, op, others, count)) != OK)
        return st;
    for (size_t i = 0; i < count; i++)
        if ((st = clseg_check_numel(ctx, op, others[i].name, others[i].t, clseg_tensor_numel(param))) != OK)
            return st;
    if (step < 1)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: step is %lld; steps count from 1", op,
                          (long long)step);
    if (clseg_tensor_numel(param) > UINT32_MAX)
        return clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED, "%s: param has more than 2^32 elements", op);
    return OK;
}

clseg_status clseg_sgd_step(clseg_context *ctx, const clseg_sgd_desc *desc, int64_t step, clseg_tensor *param,
                            const clseg_tensor *grad, clseg_tensor *velocity)
{
    const char *op = "clseg_sgd_step";
    if (ctx == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    if (desc == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: desc is NULL", op);
    if (!non_negative(desc->lr))
        return bad(ctx, op, "lr", desc->lr, "finite and >= 0");
    if (!in_unit(desc->momentum))
        return bad(ctx, op, "momentum", desc->momentum, "in [0, 1)");
    if (!(desc->dampening >= 0.0f && desc->dampening <= 1.0f))
        return bad(ctx, op, "dampening", desc->dampening, "in [0, 1]");
    if (!non_negative(desc->weight_decay))
        return bad(ctx, op, "weight_decay", desc->weight_decay, "finite and >= 0");
    if (desc->nesterov && !(desc->momentum > 0.0f && desc->dampening == 0.0f))
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT,
                          "%s: nesterov needs momentum > 0 and dampening 0 (they are %g and %g)", op,
                          (double)desc->momentum, (double)desc->dampening);
    bool momentum = desc->momentum != 0.0f;
    const clseg_named_tensor others[] = {{"grad", grad}, {"velocity", velocity}};
    clseg_status st = check_tensors(ctx, op, step, param, others, momentum ? 2 : 1);
    if (st != OK)
        return st;
    clseg_sgd_params p = {desc->lr, desc->momentum, desc->dampening, desc->weight_decay, desc->nesterov != 0, step};
    return clseg_launch(ctx, &op_sgd, &p, (clseg_tensor *[]){param, (clseg_tensor *)grad, momentum ? velocity : NULL});
}

clseg_status clseg_adam_step(clseg_context *ctx, const clseg_adam_desc *desc, int64_t step, clseg_tensor *param,
                             const clseg_tensor *grad, clseg_tensor *m, clseg_tensor *v)
{
    const char *op = desc != NULL && desc->decoupled ? "clseg_adam_step (AdamW)" : "clseg_adam_step";
    if (ctx == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    if (desc == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: desc is NULL", op);
    if (!non_negative(desc->lr))
        return bad(ctx, op, "lr", desc->lr, "finite and >= 0");
    if (!in_unit(desc->beta1))
        return bad(ctx, op, "beta1", desc->beta1, "in [0, 1)");
    if (!in_unit(desc->beta2))
        return bad(ctx, op, "beta2", desc->beta2, "in [0, 1)");
    if (!(desc->eps > 0.0f && isfinite(desc->eps)))
        return bad(ctx, op, "eps", desc->eps, "finite and > 0");
    if (!non_negative(desc->weight_decay))
        return bad(ctx, op, "weight_decay", desc->weight_decay, "finite and >= 0");
    const clseg_named_tensor others[] = {{"grad", grad}, {"m", m}, {"v", v}};
    clseg_status st = check_tensors(ctx, op, step, param, others, 3);
    if (st != OK)
        return st;
    /* The bias corrections in double from the step number, as torch computes them on the host. */
    double lr = desc->lr, bias1 = 1.0 - pow(desc->beta1, (double)step), bias2 = 1.0 - pow(desc->beta2, (double)step);
    clseg_adam_params p = {.lr = desc->lr,
                           .beta1 = desc->beta1,
                           .beta2 = desc->beta2,
                           .eps = desc->eps,
                           .weight_decay = desc->weight_decay,
                           .decoupled = desc->decoupled != 0,
                           .step = step,
                           .step_size = (float)(lr / bias1),
                           .bias2_sqrt = (float)sqrt(bias2),
                           .decay = (float)(1.0 - lr * (double)desc->weight_decay)};
    return clseg_launch(ctx, &op_adam, &p, (clseg_tensor *[]){param, (clseg_tensor *)grad, m, v});
}
