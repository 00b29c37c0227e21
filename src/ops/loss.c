#include "ops/loss.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops/check.h"

static const clseg_op op_loss = {"loss", clseg_ref_loss, clseg_ocl_loss};
static const clseg_op op_confusion_counts = {"confusion.counts", clseg_ref_confusion_counts,
                                             clseg_ocl_confusion_counts};

#define T(x) ((clseg_tensor *)(x))

static const char *const kind_names[] = {"bce", "dice", "bce+dice", "mse"};
#define KIND_COUNT (sizeof kind_names / sizeof kind_names[0])

clseg_loss_desc clseg_loss_make(clseg_loss_kind kind)
{
    return (clseg_loss_desc){.kind = kind, .dice_smooth = 1.0f, .bce_weight = 1.0f, .dice_weight = 1.0f};
}

const char *clseg_loss_kind_str(clseg_loss_kind kind)
{
    return (unsigned)kind < KIND_COUNT ? kind_names[kind] : "unknown";
}

clseg_status clseg_loss_kind_parse(const char *name, clseg_loss_kind *kind)
{
    if (name == NULL || kind == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    for (unsigned k = 0; k < KIND_COUNT; k++)
        if (strcmp(name, kind_names[k]) == 0) {
            *kind = (clseg_loss_kind)k;
            return CLSEG_STATUS_SUCCESS;
        }
    return CLSEG_STATUS_INVALID_ARGUMENT;
}

size_t clseg_loss_workspace_bytes(const clseg_context *ctx, clseg_shape pred)
{
    (void)ctx;
    size_t n = clseg_shape_numel(pred);
    size_t partials = n < CLSEG_LOSS_MAX_PARTIALS ? n : CLSEG_LOSS_MAX_PARTIALS;
    return (CLSEG_LOSS_SCALARS + CLSEG_LOSS_QUANTITIES * (partials > 0 ? partials : 1)) * sizeof(float);
}

static bool finite_nonnegative(float v)
{
    return isfinite(v) && v >= 0.0f;
}

/* The desc turned into the params both backends read: weights of 1 and 0 for single kinds.
 * Smoothing is checked only for kinds with Dice, weights only for BCE_DICE. */
static clseg_status check_desc(clseg_context *ctx, const char *op, const clseg_loss_desc *desc, clseg_loss_params *p)
{
    if (desc == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: desc is NULL", op);
    if ((unsigned)desc->kind >= KIND_COUNT)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: desc->kind %d is not a loss kind", op,
                          (int)desc->kind);
    bool dice = desc->kind == CLSEG_LOSS_DICE || desc->kind == CLSEG_LOSS_BCE_DICE;
    if (dice && !finite_nonnegative(desc->dice_smooth))
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: desc->dice_smooth is %g; it must be >= 0", op,
                          (double)desc->dice_smooth);
    /* kinds without Dice get a harmless smoothing whatever the desc says (its field is unused) */
    *p = (clseg_loss_params){desc->kind, dice ? desc->dice_smooth : 1.0f, 1.0f, 0.0f};
    if (desc->kind == CLSEG_LOSS_DICE)
        *p = (clseg_loss_params){desc->kind, desc->dice_smooth, 0.0f, 1.0f};
    if (desc->kind == CLSEG_LOSS_BCE_DICE) {
        if (!finite_nonnegative(desc->bce_weight) || !finite_nonnegative(desc->dice_weight) ||
            (desc->bce_weight == 0.0f && desc->dice_weight == 0.0f))
            return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT,
                              "%s: desc->bce_weight %g and dice_weight %g must be >= 0 and not both 0", op,
                              (double)desc->bce_weight, (double)desc->dice_weight);
        p->bce_weight = desc->bce_weight;
        p->dice_weight = desc->dice_weight;
    }
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_loss(clseg_context *ctx, const clseg_loss_desc *desc, const clseg_tensor *pred,
                        const clseg_tensor *target, clseg_tensor *loss, clseg_tensor *grad, clseg_tensor *workspace)
{
    const char *op = "clseg_loss";
    clseg_loss_params p;
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {"pred", pred}, {"target", target}, {"loss", loss});
    if (st == CLSEG_STATUS_SUCCESS && grad != NULL)
        st = CLSEG_CHECK_TENSORS(ctx, op, {"grad", grad});
    if (st == CLSEG_STATUS_SUCCESS)
        st = check_desc(ctx, op, desc, &p);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_shape(ctx, op, "target", target, pred->shape);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_numel(ctx, op, "loss", loss, 1);
    if (st == CLSEG_STATUS_SUCCESS && grad != NULL)
        st = clseg_check_shape(ctx, op, "grad", grad, pred->shape);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_workspace(ctx, op, workspace, clseg_loss_workspace_bytes(ctx, pred->shape));
    if (st == CLSEG_STATUS_SUCCESS && clseg_tensor_numel(pred) > UINT32_MAX)
        st = clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED, "%s: pred has more than 2^32 elements", op);
    return st != CLSEG_STATUS_SUCCESS
               ? st
               : clseg_launch(ctx, &op_loss, &p, (clseg_tensor *[]){T(pred), T(target), loss, grad, workspace});
}

/* Counts are stored as floats, exact up to 2^24. */
#define CONFUSION_MAX_PIXELS ((size_t)1 << 24)

clseg_status clseg_confusion_counts(clseg_context *ctx, const clseg_tensor *pred, const clseg_tensor *target,
                                    float threshold, clseg_tensor *counts)
{
    const char *op = "clseg_confusion_counts";
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {"pred", pred}, {"target", target}, {"counts", counts});
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_shape(ctx, op, "target", target, pred->shape);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_numel(ctx, op, "counts", counts, 4 * (size_t)pred->shape.n);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (isnan(threshold))
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: threshold is NaN", op);
    size_t pixels = clseg_tensor_numel(pred) / (size_t)pred->shape.n;
    if (pixels > CONFUSION_MAX_PIXELS)
        return clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED,
                          "%s: an image of %zu values; counts are exact only up to 2^24", op, pixels);
    if (clseg_tensor_numel(pred) > UINT32_MAX)
        return clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED, "%s: pred has more than 2^32 elements", op);
    clseg_confusion_params p = {threshold};
    return clseg_launch(ctx, &op_confusion_counts, &p, (clseg_tensor *[]){T(pred), T(target), counts});
}

double clseg_dice_score(double tp, double fp, double fn)
{
    double den = 2.0 * tp + fp + fn;
    return den > 0 ? 2.0 * tp / den : 1.0;
}

double clseg_iou_score(double tp, double fp, double fn)
{
    double den = tp + fp + fn;
    return den > 0 ? tp / den : 1.0;
}
