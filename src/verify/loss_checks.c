#include "verify/verify_case.h"

typedef enum target_values {
    SOFT,  /* uniform in [0, 1): every loss here takes soft targets */
    BINARY /* sigmoid(10^4 u), u uniform in [-1, 1): 0 or 1 but for a few values near u = 0 */
} target_values;

typedef struct loss_arg {
    clseg_shape shape;
    clseg_loss_kind kind;
    float logit_scale; /* pred = scale u, u uniform in [-1, 1) */
    target_values targets;
    int with_grad;
} loss_arg;

typedef struct confusion_arg {
    clseg_shape shape;
    float threshold;
    verify_values pred;
} confusion_arg;

/* An input of values u uniform in [-1, 1) times scale, scaled by each backend (one IEEE
 * multiplication: the same values on both). */
static clseg_tensor *scaled_input(verify_run *r, clseg_shape shape, float scale, clseg_status *st)
{
    clseg_tensor *x = verify_input(r, shape, VERIFY_UNIFORM);
    if (*st == CLSEG_STATUS_SUCCESS && scale != 1.0f)
        *st = clseg_scale(verify_ctx(r), x, scale);
    return x;
}

static clseg_status run_loss(verify_run *r, const void *arg)
{
    const loss_arg *a = arg;
    clseg_context *ctx = verify_ctx(r);
    clseg_status st = CLSEG_STATUS_SUCCESS;
    clseg_tensor *pred = scaled_input(r, a->shape, a->logit_scale, &st), *target;
    if (a->targets == BINARY) {
        target = scaled_input(r, a->shape, 1e4f, &st);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_sigmoid_forward(ctx, target, target);
    } else {
        target = verify_input(r, a->shape, VERIFY_POSITIVE);
    }
    clseg_tensor *loss = verify_output(r, (clseg_shape){1, 1, 1, 1}, VERIFY_UNIFORM);
    clseg_tensor *grad = a->with_grad ? verify_output(r, a->shape, VERIFY_UNIFORM) : NULL;
    clseg_tensor *ws = verify_workspace(r, clseg_loss_workspace_bytes(ctx, a->shape));
    clseg_loss_desc desc = clseg_loss_make(a->kind);
    if (a->kind == CLSEG_LOSS_BCE_DICE) /* weights other than 1 */
        desc.bce_weight = 0.75f, desc.dice_weight = 1.5f;
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_loss(ctx, &desc, pred, target, loss, grad, ws);
    /* The gradient's elements are O(1/n), far below the harness's max(1, |ref|) floor: compared
     * as n dloss/dx, O(1), a wrong gradient cannot hide. */
    if (st == CLSEG_STATUS_SUCCESS && grad != NULL)
        st = clseg_scale(ctx, grad, (float)clseg_shape_numel(a->shape));
    return st;
}

static clseg_status run_confusion(verify_run *r, const void *arg)
{
    const confusion_arg *a = arg;
    clseg_tensor *pred = verify_input(r, a->shape, a->pred), *target = verify_input(r, a->shape, VERIFY_POSITIVE);
    clseg_tensor *counts = verify_output(r, (clseg_shape){a->shape.n, 4, 1, 1}, VERIFY_UNIFORM);
    return clseg_confusion_counts(verify_ctx(r), pred, target, a->threshold, counts);
}

#define ONE {1, 1, 1, 1}
#define ODD {1, 1, 7, 9}
#define ODD2 {2, 1, 13, 11}
#define MASKS {8, 1, 256, 256}

#define LOSS_ARGS(kind, name, scale)                                                                               \
    static const loss_arg name##_one = {ONE, kind, scale, SOFT, 1}, name##_odd = {ODD, kind, scale, SOFT, 1},     \
                          name##_odd2 = {ODD2, kind, scale, SOFT, 1}, name##_masks = {MASKS, kind, scale, BINARY, 1};
LOSS_ARGS(CLSEG_LOSS_BCE, bce, 6.0f)
LOSS_ARGS(CLSEG_LOSS_DICE, dice, 6.0f)
LOSS_ARGS(CLSEG_LOSS_BCE_DICE, bce_dice, 6.0f)
LOSS_ARGS(CLSEG_LOSS_MSE, mse, 1.0f)
static const loss_arg dice_no_grad = {ODD2, CLSEG_LOSS_DICE, 6.0f, SOFT, 0};
static const loss_arg bce_dice_huge = {ODD2, CLSEG_LOSS_BCE_DICE, 100.0f, BINARY, 1};

static const confusion_arg conf_one = {ONE, 0.0f, VERIFY_UNIFORM}, conf_odd = {ODD, 0.0f, VERIFY_UNIFORM};
static const confusion_arg conf_odd2 = {{2, 3, 13, 11}, 0.5f, VERIFY_POSITIVE};
static const confusion_arg conf_masks = {MASKS, 0.0f, VERIFY_UNIFORM};

/* Loss values and gradients: 1e-4. The device adds float32 terms in a fixed tree (a strided
 * run of L = ceil(n / (groups WG)) terms per work-item, log2(WG) halvings, a run of
 * ceil(groups / WG) partials, log2(WG) halvings); every summed quantity (BCE terms, p t, p, t,
 * squared errors) is non-negative, so each sum is within (L + 2 log2 WG + groups / WG) 2^-24 of
 * itself relative, plus the 2-4 ulp OpenCL allows exp() and log1p() per term. For 8x256x256 on
 * a CPU (16 groups of 64: L = 512) that bound is 3.2e-5, on a GPU (256 groups of 256: L = 8)
 * 1.5e-6. The Dice loss 1 - ratio and its gradient scalars inherit the ratio's relative error
 * as an absolute one (ratio <= 1), which the harness measures against max(1, |ref|); gradients
 * are products of one sum-derived scalar and exact per-element factors.
 * Confusion counts are integer sums: exact. */
static const verify_case cases[] = {
    {"loss.bce", "1x1x1x1", run_loss, &bce_one, 1e-4},
    {"loss.bce", "1x1x7x9", run_loss, &bce_odd, 1e-4},
    {"loss.bce", "2x1x13x11", run_loss, &bce_odd2, 1e-4},
    {"loss.bce", "8x1x256x256 binary targets", run_loss, &bce_masks, 1e-4},
    {"loss.dice", "1x1x1x1", run_loss, &dice_one, 1e-4},
    {"loss.dice", "1x1x7x9", run_loss, &dice_odd, 1e-4},
    {"loss.dice", "2x1x13x11", run_loss, &dice_odd2, 1e-4},
    {"loss.dice", "2x1x13x11 no gradient", run_loss, &dice_no_grad, 1e-4},
    {"loss.dice", "8x1x256x256 binary targets", run_loss, &dice_masks, 1e-4},
    {"loss.bce+dice", "1x1x1x1 weights 0.75, 1.5", run_loss, &bce_dice_one, 1e-4},
    {"loss.bce+dice", "1x1x7x9 weights 0.75, 1.5", run_loss, &bce_dice_odd, 1e-4},
    {"loss.bce+dice", "2x1x13x11 weights 0.75, 1.5", run_loss, &bce_dice_odd2, 1e-4},
    {"loss.bce+dice", "2x1x13x11 logits in [-100, 100)", run_loss, &bce_dice_huge, 1e-4},
    {"loss.bce+dice", "8x1x256x256 binary targets", run_loss, &bce_dice_masks, 1e-4},
    {"loss.mse", "1x1x1x1", run_loss, &mse_one, 1e-4},
    {"loss.mse", "1x1x7x9", run_loss, &mse_odd, 1e-4},
    {"loss.mse", "2x1x13x11", run_loss, &mse_odd2, 1e-4},
    {"loss.mse", "8x1x256x256 binary targets", run_loss, &mse_masks, 1e-4},
    {"confusion.counts", "1x1x1x1 threshold 0", run_confusion, &conf_one, 0},
    {"confusion.counts", "1x1x7x9 threshold 0", run_confusion, &conf_odd, 0},
    {"confusion.counts", "2x3x13x11 threshold 0.5", run_confusion, &conf_odd2, 0},
    {"confusion.counts", "8x1x256x256 threshold 0", run_confusion, &conf_masks, 0},
};

const verify_family clseg_verify_loss = {cases, sizeof cases / sizeof cases[0]};
