/* The loss family (BCE, Dice, BCE + Dice, MSE, confusion counts): float64 gradient checks of
 * the reference math, hand-computed values, stability at huge logits, exact counts, the device
 * against the reference, determinism, argument errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ref/loss_math.h"
#include "test_util.h"

static const char *selector;

/* --- float64 gradient checks of the reference math -------------------------------------- */

typedef struct loss_geom {
    clseg_loss_kind kind;
    double smooth, wb, wd;
    const double *t;
    size_t n;
} loss_geom;

static void loss_f(const double *x, double *y, void *u)
{
    loss_geom *g = u;
    y[0] = clseg_ref64_loss(g->kind, g->smooth, g->wb, g->wd, x, g->t, g->n, NULL);
}

/* backward for dy: dy[0] times the gradient, overwriting dx */
static void loss_b(const double *x, const double *dy, double *dx, void *u)
{
    loss_geom *g = u;
    clseg_ref64_loss(g->kind, g->smooth, g->wb, g->wd, x, g->t, g->n, dx);
    for (size_t i = 0; i < g->n; i++)
        dx[i] *= dy[0];
}

START_TEST(test_gradients_of_every_loss)
{
    enum { N = 63 };
    double soft[N], binary[N];
    grad_random(soft, N, 99, 0.0, 1.0);
    for (size_t i = 0; i < N; i++)
        binary[i] = soft[i] > 0.6 ? 1.0 : 0.0;
    const struct {
        const char *what;
        loss_geom g;
    } cases[] = {
        {"bce, soft targets", {CLSEG_LOSS_BCE, 1, 1, 0, soft, N}},
        {"bce, binary targets", {CLSEG_LOSS_BCE, 1, 1, 0, binary, N}},
        {"dice, smooth 1", {CLSEG_LOSS_DICE, 1, 0, 1, binary, N}},
        {"dice, smooth 0, soft targets", {CLSEG_LOSS_DICE, 0, 0, 1, soft, N}},
        {"bce+dice, weights 0.75 and 1.5", {CLSEG_LOSS_BCE_DICE, 1, 0.75, 1.5, binary, N}},
        {"bce+dice, weights 1 and 1", {CLSEG_LOSS_BCE_DICE, 1, 1, 1, soft, N}},
        {"mse", {CLSEG_LOSS_MSE, 1, 0, 0, soft, N}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        loss_geom g = cases[k].g;
        /* the gradient elements are O(1/N); 1e-9 is far below them and above the O(1e-10)
         * rounding of central differences of a sum of 63 terms */
        grad_check(cases[k].what, loss_f, loss_b, &g, N, 1, -6.0, 6.0, 1e-6, 1e-9);
    }
}
END_TEST

START_TEST(test_reference_math_by_hand)
{
    /* BCE at z = 0 is log 2 whatever the target; its gradient (1/2 - t) / n */
    double z0[2] = {0, 0}, t01[2] = {0, 1}, g[3];
    ck_assert_double_eq_tol(clseg_ref64_loss(CLSEG_LOSS_BCE, 1, 1, 0, z0, t01, 2, g), log(2.0), 1e-15);
    ck_assert_double_eq_tol(g[0], 0.25, 1e-15);
    ck_assert_double_eq_tol(g[1], -0.25, 1e-15);
    /* Dice of p = (1/2, 1/2) against (1, 0), smooth 1: 1 - (2 (1/2) + 1) / (1 + 1 + 1) = 1/3 */
    ck_assert_double_eq_tol(clseg_ref64_loss(CLSEG_LOSS_DICE, 1, 0, 1, z0, (double[]){1, 0}, 2, NULL), 1.0 / 3, 1e-15);
    /* MSE of (1, 2, 3) against (0, 2, 5): 5/3, gradient 2 (x - t) / 3 */
    double x[3] = {1, 2, 3}, t[3] = {0, 2, 5};
    ck_assert_double_eq_tol(clseg_ref64_loss(CLSEG_LOSS_MSE, 1, 0, 0, x, t, 3, g), 5.0 / 3, 1e-15);
    ck_assert_double_eq_tol(g[0], 2.0 / 3, 1e-15);
    ck_assert_double_eq_tol(g[1], 0.0, 1e-15);
    ck_assert_double_eq_tol(g[2], -4.0 / 3, 1e-15);
    /* smooth 0 and an empty mask predicted empty (p underflows to 0): a perfect 0, not NaN */
    double far[2] = {-1000, -1000}, zero[2] = {0, 0};
    ck_assert_double_eq(clseg_ref64_loss(CLSEG_LOSS_DICE, 0, 0, 1, far, zero, 2, g), 0.0);
    ck_assert(g[0] == 0.0 && g[1] == 0.0);
}
END_TEST

START_TEST(test_scores)
{
    ck_assert_double_eq_tol(clseg_dice_score(3, 1, 2), 6.0 / 9, 1e-15);
    ck_assert_double_eq_tol(clseg_iou_score(3, 1, 2), 3.0 / 6, 1e-15);
    ck_assert_double_eq(clseg_dice_score(0, 0, 0), 1.0); /* nothing to find, nothing found */
    ck_assert_double_eq(clseg_iou_score(0, 0, 0), 1.0);
    ck_assert_double_eq(clseg_dice_score(0, 5, 0), 0.0); /* a prediction on an empty mask */
    ck_assert_double_eq(clseg_iou_score(0, 0, 5), 0.0);  /* a missed mask */
    ck_assert_double_eq(clseg_dice_score(7, 0, 0), 1.0);
}
END_TEST

START_TEST(test_kind_names)
{
    const char *names[] = {"bce", "dice", "bce+dice", "mse"};
    for (int k = 0; k < 4; k++) {
        clseg_loss_kind kind = CLSEG_LOSS_MSE;
        ck_assert_int_eq(clseg_loss_kind_parse(names[k], &kind), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(kind, k);
        ck_assert_str_eq(clseg_loss_kind_str(kind), names[k]);
    }
    clseg_loss_kind kind = CLSEG_LOSS_DICE;
    ck_assert_int_eq(clseg_loss_kind_parse("BCE", &kind), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_loss_kind_parse("focal", &kind), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_loss_kind_parse("", &kind), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_loss_kind_parse(NULL, &kind), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_loss_kind_parse("mse", NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(kind, CLSEG_LOSS_DICE); /* untouched on failure */
    ck_assert_str_eq(clseg_loss_kind_str((clseg_loss_kind)42), "unknown");
    clseg_loss_desc d = clseg_loss_make(CLSEG_LOSS_BCE_DICE);
    ck_assert(d.kind == CLSEG_LOSS_BCE_DICE && d.dice_smooth == 1.0f && d.bce_weight == 1.0f && d.dice_weight == 1.0f);
}
END_TEST

/* --- through the public API, on a backend --------------------------------------------- */

static clseg_tensor *workspace_for(clseg_context *ctx, clseg_shape s)
{
    size_t floats = (clseg_loss_workspace_bytes(ctx, s) + sizeof(float) - 1) / sizeof(float);
    return test_tensor(ctx, (clseg_shape){1, 1, 1, (int64_t)floats}, NULL);
}

/* The loss of host values x against t (shape s) on ctx; grad (may be NULL) receives dloss/dx. */
static float loss_of(clseg_context *ctx, const clseg_loss_desc *desc, clseg_shape s, const float *x, const float *t,
                     float *grad)
{
    size_t n = clseg_shape_numel(s);
    clseg_tensor *tx = test_tensor(ctx, s, x), *tt = test_tensor(ctx, s, t),
                 *tl = test_tensor(ctx, (clseg_shape){1, 1, 1, 1}, NULL);
    clseg_tensor *tg = grad != NULL ? test_tensor(ctx, s, NULL) : NULL, *ws = workspace_for(ctx, s);
    if (tg != NULL) /* an element the backend skips stays NaN and fails any comparison */
        ck_assert_int_eq(clseg_fill(ctx, tg, NAN), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_loss(ctx, desc, tx, tt, tl, tg, ws), CLSEG_STATUS_SUCCESS);
    float loss = NAN;
    ck_assert_int_eq(clseg_tensor_download(tl, &loss, 1), CLSEG_STATUS_SUCCESS);
    if (grad != NULL)
        ck_assert_int_eq(clseg_tensor_download(tg, grad, n), CLSEG_STATUS_SUCCESS);
    clseg_tensor_destroy(tx), clseg_tensor_destroy(tt), clseg_tensor_destroy(tl);
    clseg_tensor_destroy(tg), clseg_tensor_destroy(ws);
    return loss;
}

static void hand_values(const char *sel)
{
    clseg_context *ctx = test_context(sel);
    clseg_loss_desc bce = clseg_loss_make(CLSEG_LOSS_BCE), dice = clseg_loss_make(CLSEG_LOSS_DICE);
    clseg_loss_desc mse = clseg_loss_make(CLSEG_LOSS_MSE), both = clseg_loss_make(CLSEG_LOSS_BCE_DICE);
    float g[100];
    /* BCE of z = 0 is log 2 */
    float zero[4] = {0, 0, 0, 0}, t4[4] = {0, 1, 1, 0};
    ck_assert_float_eq_tol(loss_of(ctx, &bce, (clseg_shape){1, 1, 2, 2}, zero, t4, g), (float)log(2.0), 1e-6f);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(g[i], (0.5f - t4[i]) / 4, 1e-7f);
    /* Dice of a perfect prediction with large logits: 1 - 101/101 = 0 */
    float x[100], t[100];
    for (int i = 0; i < 100; i++) {
        t[i] = i % 2 ? 1.0f : 0.0f;
        x[i] = t[i] > 0 ? 40.0f : -40.0f;
    }
    ck_assert_float_eq_tol(loss_of(ctx, &dice, (clseg_shape){2, 1, 5, 10}, x, t, g), 0.0f, 1e-6f);
    for (int i = 0; i < 100; i++)
        ck_assert(fabsf(g[i]) < 1e-12f);
    /* and of the same logits the other way round: 1 - 1/101 */
    for (int i = 0; i < 100; i++)
        x[i] = -x[i];
    ck_assert_float_eq_tol(loss_of(ctx, &dice, (clseg_shape){2, 1, 5, 10}, x, t, NULL), 100.0f / 101, 1e-6f);
    /* Dice of p = 1/2 against (1, 0), smooth 1: 1/3; BCE + Dice adds log 2 */
    float t2[2] = {1, 0};
    ck_assert_float_eq_tol(loss_of(ctx, &dice, (clseg_shape){1, 1, 1, 2}, zero, t2, NULL), 1.0f / 3, 1e-6f);
    ck_assert_float_eq_tol(loss_of(ctx, &both, (clseg_shape){1, 1, 1, 2}, zero, t2, NULL), (float)log(2.0) + 1.0f / 3,
                           1e-6f);
    /* MSE of (1, 2, 3) against (0, 2, 5): 5/3 */
    float a[3] = {1, 2, 3}, b[3] = {0, 2, 5};
    ck_assert_float_eq_tol(loss_of(ctx, &mse, (clseg_shape){1, 1, 1, 3}, a, b, g), 5.0f / 3, 1e-6f);
    ck_assert_float_eq_tol(g[0], 2.0f / 3, 1e-7f);
    ck_assert_float_eq(g[1], 0.0f);
    ck_assert_float_eq_tol(g[2], -4.0f / 3, 1e-7f);
    clseg_context_destroy(ctx);
}

/* |z| = 100 and 1000, right and wrong: finite losses and gradients, and BCE's exact values. */
static void huge_logits(const char *sel)
{
    clseg_context *ctx = test_context(sel);
    float x[8] = {100, -100, 100, -100, 1000, -1000, 1000, -1000}, t[8] = {1, 0, 0, 1, 1, 0, 0, 1}, g[8];
    clseg_shape s = {2, 1, 2, 2};
    for (int k = 0; k < 4; k++) {
        clseg_loss_desc d = clseg_loss_make((clseg_loss_kind)k);
        float loss = loss_of(ctx, &d, s, x, t, g);
        ck_assert_msg(isfinite(loss), "%s: loss %g", clseg_loss_kind_str(d.kind), (double)loss);
        for (int i = 0; i < 8; i++)
            ck_assert_msg(isfinite(g[i]), "%s: gradient %d is %g", clseg_loss_kind_str(d.kind), i, (double)g[i]);
    }
    /* BCE: the four wrong answers cost 100, 100, 1000 and 1000; gradients (p - t) / 8 */
    clseg_loss_desc bce = clseg_loss_make(CLSEG_LOSS_BCE);
    ck_assert_float_eq_tol(loss_of(ctx, &bce, s, x, t, g), 2200.0f / 8, 1e-4f);
    const float want[8] = {0, 0, 0.125f, -0.125f, 0, 0, 0.125f, -0.125f};
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq_tol(g[i], want[i], 1e-9f);
    clseg_context_destroy(ctx);
}

/* Three 4x5 images: a mixed one, an empty prediction of an empty mask, a prediction on an
 * empty mask. Thresholds 0 (logits) and 0.5 (probabilities). */
static void exact_counts(const char *sel)
{
    clseg_context *ctx = test_context(sel);
    float pred[60], target[60], counts[12];
    for (int i = 0; i < 60; i++) {
        int img = i / 20, j = i % 20;
        target[i] = img == 0 && j < 8 ? 1.0f : 0.0f;                                         /* mask: 8 pixels */
        pred[i] = (img == 0 && j >= 5 && j < 12) || (img == 2 && j % 4 == 0) ? 3.0f : -3.0f; /* 7 and 5 */
    }
    clseg_shape s = {3, 1, 4, 5};
    clseg_tensor *tp = test_tensor(ctx, s, pred), *tt = test_tensor(ctx, s, target),
                 *tc = test_tensor(ctx, (clseg_shape){3, 4, 1, 1}, NULL);
    ck_assert_int_eq(clseg_confusion_counts(ctx, tp, tt, 0.0f, tc), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_download(tc, counts, 12), CLSEG_STATUS_SUCCESS);
    /* image 0: predicted 5..11, true 0..7: TP 5..7 = 3, FP 8..11 = 4, FN 0..4 = 5, TN 8 */
    const float want[12] = {3, 4, 5, 8, 0, 0, 0, 20, 0, 5, 0, 15};
    for (int i = 0; i < 12; i++)
        ck_assert_msg(counts[i] == want[i], "count %d: %g, %g expected", i, (double)counts[i], (double)want[i]);
    ck_assert_double_eq_tol(clseg_dice_score(counts[0], counts[1], counts[2]), 6.0 / 15, 1e-15);
    ck_assert_double_eq(clseg_dice_score(counts[4], counts[5], counts[6]), 1.0);
    ck_assert_double_eq(clseg_iou_score(counts[4], counts[5], counts[6]), 1.0);
    ck_assert_double_eq(clseg_dice_score(counts[8], counts[9], counts[10]), 0.0);
    /* a threshold above every logit: nothing predicted */
    ck_assert_int_eq(clseg_confusion_counts(ctx, tp, tt, 5.0f, tc), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_download(tc, counts, 12), CLSEG_STATUS_SUCCESS);
    ck_assert(counts[0] == 0 && counts[1] == 0 && counts[2] == 8 && counts[3] == 12 && counts[11] == 20);
    clseg_tensor_destroy(tp), clseg_tensor_destroy(tt), clseg_tensor_destroy(tc);
    clseg_context_destroy(ctx);
}

/* Every check happens before a backend is touched: the same statuses on any context. */
static void invalid_arguments(const char *sel)
{
    clseg_context *ctx = test_context(sel);
    clseg_shape s = {1, 1, 7, 9};
    clseg_tensor *x = test_tensor(ctx, s, NULL), *t = test_tensor(ctx, s, NULL),
                 *wrong = test_tensor(ctx, (clseg_shape){1, 1, 9, 7}, NULL);
    clseg_tensor *loss = test_tensor(ctx, (clseg_shape){1, 1, 1, 1}, NULL),
                 *two = test_tensor(ctx, (clseg_shape){1, 1, 1, 2}, NULL);
    clseg_tensor *ws = workspace_for(ctx, s), *small = test_tensor(ctx, (clseg_shape){1, 1, 1, 4}, NULL);
    clseg_loss_desc d = clseg_loss_make(CLSEG_LOSS_BCE_DICE);
    ck_assert_int_eq(clseg_loss(ctx, &d, x, wrong, loss, NULL, ws), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "clseg_loss: target is 1x1x9x7; 1x1x7x9 expected"));
    ck_assert_int_eq(clseg_loss(ctx, &d, x, t, two, NULL, ws), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "loss has 2 elements; 1 expected"));
    ck_assert_int_eq(clseg_loss(ctx, &d, x, t, loss, wrong, ws), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_loss(ctx, &d, NULL, t, loss, NULL, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_loss(ctx, &d, x, NULL, loss, NULL, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_loss(ctx, &d, x, t, NULL, NULL, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_loss(ctx, NULL, x, t, loss, NULL, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_loss(ctx, &d, x, t, loss, NULL, NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_loss(ctx, &d, x, t, loss, NULL, small), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "workspace has 16 bytes"));
    ck_assert_int_eq(clseg_loss(NULL, &d, x, t, loss, NULL, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    /* bad descs */
    clseg_loss_desc bad = d;
    bad.kind = (clseg_loss_kind)9;
    ck_assert_int_eq(clseg_loss(ctx, &bad, x, t, loss, NULL, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "desc->kind 9"));
    bad = d, bad.dice_smooth = -1.0f;
    ck_assert_int_eq(clseg_loss(ctx, &bad, x, t, loss, NULL, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "dice_smooth"));
    bad = d, bad.dice_smooth = NAN;
    ck_assert_int_eq(clseg_loss(ctx, &bad, x, t, loss, NULL, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    bad = d, bad.bce_weight = -0.5f;
    ck_assert_int_eq(clseg_loss(ctx, &bad, x, t, loss, NULL, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    bad = d, bad.bce_weight = 0.0f, bad.dice_weight = 0.0f;
    ck_assert_int_eq(clseg_loss(ctx, &bad, x, t, loss, NULL, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "not both 0"));
    bad = clseg_loss_make(CLSEG_LOSS_DICE), bad.dice_smooth = -1.0f;
    ck_assert_int_eq(clseg_loss(ctx, &bad, x, t, loss, NULL, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    /* single kinds ignore the fields they do not use */
    bad = clseg_loss_make(CLSEG_LOSS_MSE), bad.dice_smooth = -1.0f, bad.bce_weight = bad.dice_weight = 0.0f;
    ck_assert_int_eq(clseg_loss(ctx, &bad, x, t, loss, NULL, ws), CLSEG_STATUS_SUCCESS);
    float zeros[63] = {0}, value = NAN;
    ck_assert_int_eq(clseg_tensor_upload(x, zeros, 63), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_upload(t, zeros, 63), CLSEG_STATUS_SUCCESS);
    bad = clseg_loss_make(CLSEG_LOSS_BCE), bad.dice_smooth = INFINITY; /* z = t = 0: log 2, gradient 1/2n */
    ck_assert_int_eq(clseg_loss(ctx, &bad, x, t, loss, x, ws), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_download(loss, &value, 1), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_download(x, zeros, 63), CLSEG_STATUS_SUCCESS);
    ck_assert_float_eq_tol(value, (float)log(2.0), 1e-6f); /* not NaN from the unused smoothing */
    ck_assert_float_eq_tol(zeros[62], 0.5f / 63, 1e-9f);
    /* confusion counts */
    clseg_tensor *counts = test_tensor(ctx, (clseg_shape){1, 4, 1, 1}, NULL);
    ck_assert_int_eq(clseg_confusion_counts(ctx, x, wrong, 0.0f, counts), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_confusion_counts(ctx, x, t, 0.0f, two), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "counts has 2 elements; 4 expected"));
    ck_assert_int_eq(clseg_confusion_counts(ctx, x, t, NAN, counts), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_confusion_counts(ctx, NULL, t, 0.0f, counts), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_confusion_counts(ctx, x, t, 0.0f, NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    /* tensors of another context */
    clseg_context *other = test_context("ref");
    clseg_tensor *foreign = test_tensor(other, s, NULL);
    ck_assert_int_eq(clseg_loss(ctx, &d, x, foreign, loss, NULL, ws), CLSEG_STATUS_CONTEXT_MISMATCH);
    ck_assert_int_eq(clseg_loss(ctx, &d, x, t, loss, foreign, ws), CLSEG_STATUS_CONTEXT_MISMATCH);
    ck_assert_int_eq(clseg_confusion_counts(ctx, foreign, t, 0.0f, counts), CLSEG_STATUS_CONTEXT_MISMATCH);
    clseg_tensor_destroy(foreign);
    clseg_context_destroy(other);
    clseg_tensor_destroy(x), clseg_tensor_destroy(t), clseg_tensor_destroy(wrong), clseg_tensor_destroy(loss);
    clseg_tensor_destroy(two), clseg_tensor_destroy(ws), clseg_tensor_destroy(small), clseg_tensor_destroy(counts);
    clseg_context_destroy(ctx);
}

START_TEST(test_ref_hand_values)
{
    hand_values("ref");
}
END_TEST
START_TEST(test_ref_huge_logits)
{
    huge_logits("ref");
}
END_TEST
START_TEST(test_ref_exact_counts)
{
    exact_counts("ref");
}
END_TEST
START_TEST(test_ref_invalid_arguments)
{
    invalid_arguments("ref");
}
END_TEST

/* An image of 2^24 + 1 values is refused: its counts would not be exact floats. */
START_TEST(test_image_too_large_for_exact_counts)
{
    clseg_context *ctx = test_context("ref");
    clseg_tensor *big = test_tensor(ctx, (clseg_shape){1, 1, 1, (1 << 24) + 1}, NULL);
    clseg_tensor *counts = test_tensor(ctx, (clseg_shape){1, 4, 1, 1}, NULL);
    ck_assert_int_eq(clseg_confusion_counts(ctx, big, big, 0.0f, counts), CLSEG_STATUS_NOT_SUPPORTED);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "2^24"));
    clseg_tensor_destroy(big), clseg_tensor_destroy(counts);
    clseg_context_destroy(ctx);
}
END_TEST

/* --- the device ------------------------------------------------------------------------ */

START_TEST(test_device_hand_values)
{
    hand_values(selector);
}
END_TEST
START_TEST(test_device_huge_logits)
{
    huge_logits(selector);
}
END_TEST
START_TEST(test_device_exact_counts)
{
    exact_counts(selector);
}
END_TEST
START_TEST(test_device_invalid_arguments)
{
    invalid_arguments(selector);
}
END_TEST

/* Logits in [-6, 6) and near-binary targets of a seed. */
static void draw(float *x, float *t, size_t n, unsigned seed)
{
    double *u = malloc(2 * n * sizeof *u);
    ck_assert_ptr_nonnull(u);
    grad_random(u, 2 * n, seed, 0.0, 1.0);
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)(12.0 * u[i] - 6.0);
        t[i] = u[n + i] < 0.3 ? 1.0f : u[n + i] > 0.95 ? (float)(u[n + i] - 0.9) : 0.0f;
    }
    free(u);
}

/* The device under its own tunables, and under settings that force the other variants of the
 * loss kernels (cl/loss.cl): the work-group reduction with per-element gradient (GPU style),
 * and the serial shares with 16-wide gradient (CPU style) in up to 7 shares (LOSS_WG 4: even 17
 * values make 5), of a few vectors and a ragged tail each. */
static const char *const loss_settings[] = {NULL, "loss.LOSS_SERIAL=0,loss.LOSS_VEC=0",
                                            "loss.LOSS_SERIAL=1,loss.LOSS_VEC=1,loss.LOSS_WG=4,loss.LOSS_GROUPS=7"};
#define LOSS_SETTINGS (sizeof loss_settings / sizeof loss_settings[0])

/* Loss within 1e-5 relative and every gradient element within 1e-4 of the largest one (a
 * scale-aware bound: the elements are O(1/n), far below verify's max(1, |ref|) floor); the loss
 * without its gradient the same bits as with it (BCE's and MSE's stage 1 writes the gradient as
 * it sums). Sizes of 1 to 49152: under 16 values, one vector and a tail, n not a multiple of 16
 * split into shares of ragged lengths that start anywhere, and several shares of whole
 * vectors. */
START_TEST(test_device_matches_reference)
{
    clseg_context *ref = test_context("ref");
    const clseg_shape shapes[] = {{1, 1, 1, 1},   {1, 1, 1, 13},   {1, 1, 1, 17},  {1, 1, 1, 130},
                                  {2, 1, 33, 35}, {2, 1, 97, 123}, {4, 1, 96, 128}};
    enum { SHAPES = sizeof shapes / sizeof shapes[0] };
    for (size_t v = 0; v < LOSS_SETTINGS; v++) {
        clseg_context *dev = test_context_with(selector, loss_settings[v]);
        const char *how = loss_settings[v] ? loss_settings[v] : "table";
        for (size_t k = 0; k < 4; k++)
            for (size_t si = 0; si < SHAPES; si++) {
                clseg_shape s = shapes[si];
                size_t n = clseg_shape_numel(s);
                float *x = malloc(n * sizeof *x), *t = malloc(n * sizeof *t);
                float *gd = malloc(n * sizeof *gd), *gr = malloc(n * sizeof *gr);
                ck_assert(x && t && gd && gr);
                draw(x, t, n, (unsigned)(7 * k + si));
                clseg_loss_desc d = clseg_loss_make((clseg_loss_kind)k);
                float ld = loss_of(dev, &d, s, x, t, gd), lr = loss_of(ref, &d, s, x, t, gr);
                float alone = loss_of(dev, &d, s, x, t, NULL);
                ck_assert_msg(fabsf(ld - lr) <= 1e-5f * fabsf(lr) + 1e-7f, "%s, %s %zu: loss %.9g, reference %.9g", how,
                              clseg_loss_kind_str(d.kind), n, (double)ld, (double)lr);
                ck_assert_msg(memcmp(&alone, &ld, sizeof ld) == 0, "%s, %s %zu: loss %.9g alone, %.9g with gradient",
                              how, clseg_loss_kind_str(d.kind), n, (double)alone, (double)ld);
                float gmax = 0.0f;
                for (size_t i = 0; i < n; i++)
                    gmax = fmaxf(gmax, fabsf(gr[i]));
                for (size_t i = 0; i < n; i++)
                    ck_assert_msg(fabsf(gd[i] - gr[i]) <= 1e-4f * gmax,
                                  "%s, %s %zu: gradient %zu: %.9g, reference %.9g", how, clseg_loss_kind_str(d.kind), n,
                                  i, (double)gd[i], (double)gr[i]);
                free(x), free(t), free(gd), free(gr);
            }
        clseg_context_destroy(dev);
    }
    clseg_context_destroy(ref);
}
END_TEST

/* Inputs and outputs as views at odd offsets of bigger tensors, the gradient written in place
 * over the prediction: same loss and gradient as with tensors of their own. */
START_TEST(test_device_views_and_in_place_gradient)
{
    clseg_context *ctx = test_context(selector);
    clseg_shape s = {2, 1, 13, 11};
    size_t n = clseg_shape_numel(s);
    float x[286], t[286], g[286], g2[286], *buf = calloc(3 * n + 9, sizeof *buf);
    ck_assert_ptr_nonnull(buf);
    draw(x, t, n, 5);
    memcpy(buf + 3, x, n * sizeof *x);
    memcpy(buf + n + 5, t, n * sizeof *t);
    clseg_loss_desc d = clseg_loss_make(CLSEG_LOSS_BCE_DICE);
    float want = loss_of(ctx, &d, s, x, t, g);
    clseg_tensor *whole = test_tensor(ctx, (clseg_shape){1, 1, 1, (int64_t)(3 * n + 9)}, buf), *vx, *vt, *vl;
    ck_assert_int_eq(clseg_tensor_view(whole, 3, s, &vx), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_view(whole, n + 5, s, &vt), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_view(whole, 2 * n + 7, (clseg_shape){1, 1, 1, 1}, &vl), CLSEG_STATUS_SUCCESS);
    clseg_tensor *ws = workspace_for(ctx, s);
    ck_assert_int_eq(clseg_loss(ctx, &d, vx, vt, vl, vx, ws), CLSEG_STATUS_SUCCESS);
    float got = NAN;
    ck_assert_int_eq(clseg_tensor_download(vl, &got, 1), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_download(vx, g2, n), CLSEG_STATUS_SUCCESS);
    ck_assert_float_eq(got, want);
    ck_assert_mem_eq(g, g2, n * sizeof *g);
    clseg_tensor_destroy(vx), clseg_tensor_destroy(vt), clseg_tensor_destroy(vl);
    clseg_tensor_destroy(whole), clseg_tensor_destroy(ws);
    free(buf);
    clseg_context_destroy(ctx);
}
END_TEST

/* The same bits twice, the second time over a workspace filled with NaN (nothing is read
 * before it is written). */
static void deterministic(const char *tunables)
{
    clseg_context *ctx = test_context_with(selector, tunables);
    clseg_shape s = {3, 1, 97, 123}; /* not a multiple of 16 */
    size_t n = clseg_shape_numel(s);
    float *x = malloc(n * sizeof *x), *t = malloc(n * sizeof *t), *g[2];
    ck_assert(x && t);
    draw(x, t, n, 11);
    clseg_tensor *tx = test_tensor(ctx, s, x), *tt = test_tensor(ctx, s, t), *tg = test_tensor(ctx, s, NULL);
    clseg_tensor *tl = test_tensor(ctx, (clseg_shape){1, 1, 1, 1}, NULL), *ws = workspace_for(ctx, s);
    for (int k = 0; k < 4; k++) {
        clseg_loss_desc d = clseg_loss_make((clseg_loss_kind)k);
        float loss[2];
        for (int run = 0; run < 2; run++) {
            ck_assert_int_eq(clseg_fill(ctx, ws, run ? NAN : 0.0f), CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_fill(ctx, tg, NAN), CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_loss(ctx, &d, tx, tt, tl, tg, ws), CLSEG_STATUS_SUCCESS);
            g[run] = malloc(n * sizeof(float));
            ck_assert_ptr_nonnull(g[run]);
            ck_assert_int_eq(clseg_tensor_download(tl, &loss[run], 1), CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_tensor_download(tg, g[run], n), CLSEG_STATUS_SUCCESS);
        }
        ck_assert(isfinite(loss[0]));
        ck_assert_mem_eq(&loss[0], &loss[1], sizeof(float));
        ck_assert_mem_eq(g[0], g[1], n * sizeof(float));
        free(g[0]), free(g[1]);
    }
    clseg_tensor_destroy(tx), clseg_tensor_destroy(tt), clseg_tensor_destroy(tg);
    clseg_tensor_destroy(tl), clseg_tensor_destroy(ws);
    free(x), free(t);
    clseg_context_destroy(ctx);
}

START_TEST(test_device_deterministic)
{
    for (size_t v = 0; v < LOSS_SETTINGS; v++)
        deterministic(loss_settings[v]);
}
END_TEST

/* Counts of random 3x2x37x41 images equal the reference's, exactly. */
START_TEST(test_device_counts_match_reference)
{
    clseg_context *dev = test_context(selector), *ref = test_context("ref");
    clseg_shape s = {3, 2, 37, 41};
    size_t n = clseg_shape_numel(s);
    float *x = malloc(n * sizeof *x), *t = malloc(n * sizeof *t), c[2][12];
    ck_assert(x && t);
    draw(x, t, n, 3);
    clseg_context *ctxs[2] = {dev, ref};
    for (int k = 0; k < 2; k++) {
        clseg_tensor *tx = test_tensor(ctxs[k], s, x), *tt = test_tensor(ctxs[k], s, t);
        clseg_tensor *tc = test_tensor(ctxs[k], (clseg_shape){3, 4, 1, 1}, NULL);
        ck_assert_int_eq(clseg_confusion_counts(ctxs[k], tx, tt, 0.25f, tc), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_tensor_download(tc, c[k], 12), CLSEG_STATUS_SUCCESS);
        clseg_tensor_destroy(tx), clseg_tensor_destroy(tt), clseg_tensor_destroy(tc);
    }
    ck_assert_mem_eq(c[0], c[1], sizeof c[0]);
    for (int i = 0; i < 3; i++)
        ck_assert_float_eq(c[0][4 * i] + c[0][4 * i + 1] + c[0][4 * i + 2] + c[0][4 * i + 3], 2 * 37 * 41);
    free(x), free(t);
    clseg_context_destroy(dev);
    clseg_context_destroy(ref);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loss");
    TCase *math = tcase_create("reference");
    tcase_add_test(math, test_gradients_of_every_loss);
    tcase_add_test(math, test_reference_math_by_hand);
    tcase_add_test(math, test_scores);
    tcase_add_test(math, test_kind_names);
    tcase_add_test(math, test_ref_hand_values);
    tcase_add_test(math, test_ref_huge_logits);
    tcase_add_test(math, test_ref_exact_counts);
    tcase_add_test(math, test_ref_invalid_arguments);
    tcase_add_test(math, test_image_too_large_for_exact_counts);
    suite_add_tcase(s, math);
    if (!test_have_opencl())
        return test_run(s, true) == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
    TCase *dev = tcase_create("device");
    tcase_add_test(dev, test_device_hand_values);
    tcase_add_test(dev, test_device_huge_logits);
    tcase_add_test(dev, test_device_exact_counts);
    tcase_add_test(dev, test_device_invalid_arguments);
    tcase_add_test(dev, test_device_matches_reference);
    tcase_add_test(dev, test_device_views_and_in_place_gradient);
    tcase_add_test(dev, test_device_deterministic);
    tcase_add_test(dev, test_device_counts_match_reference);
    suite_add_tcase(s, dev);
    return test_run(s, false);
}
