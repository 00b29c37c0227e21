/* The activation family (ReLU, sigmoid, dropout, add, concat): float64 gradient checks of the
 * reference math, exact results on the device, dropout's shared mask, argument errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ref/activation_math.h"
#include "test_util.h"

static const char *selector;

/* --- float64 gradient checks of the reference backward passes ------------------------ */

typedef struct act_geom {
    size_t n;
    double *buf; /* scratch of n */
} act_geom;

static void sigmoid_f(const double *x, double *y, void *u)
{
    clseg_ref64_sigmoid_forward(x, y, ((act_geom *)u)->n);
}
static void sigmoid_b(const double *x, const double *dy, double *dx, void *u)
{
    act_geom *g = u;
    clseg_ref64_sigmoid_forward(x, g->buf, g->n);
    clseg_ref64_sigmoid_backward(g->buf, dy, dx, g->n, 0.0);
}

static void relu_f(const double *x, double *y, void *u)
{
    clseg_ref64_relu_forward(x, y, ((act_geom *)u)->n);
}
static void relu_b(const double *x, const double *dy, double *dx, void *u)
{
    act_geom *g = u;
    clseg_ref64_relu_forward(x, g->buf, g->n);
    clseg_ref64_relu_backward(g->buf, dy, dx, g->n, 0.0);
}

START_TEST(test_gradients_of_activations)
{
    double buf[63];
    act_geom g = {63, buf};
    grad_check("sigmoid", sigmoid_f, sigmoid_b, &g, 63, 63, -6.0, 6.0, 1e-6, 1e-7);
    /* ReLU's kink is at 0: inputs stay clear of it by more than eps */
    grad_check("relu (positive side)", relu_f, relu_b, &g, 63, 63, 0.01, 3.0, 1e-6, 1e-8);
    grad_check("relu (negative side)", relu_f, relu_b, &g, 63, 63, -3.0, -0.01, 1e-6, 1e-8);
}
END_TEST

typedef struct concat_geom {
    int64_t n, c0, c1, hw;
} concat_geom;

static void concat_f(const double *x, double *y, void *u)
{
    concat_geom *g = u;
    clseg_ref64_concat_forward(x, g->n, g->c0, g->hw, g->c0 + g->c1, 0, y);
    clseg_ref64_concat_forward(x + g->n * g->c0 * g->hw, g->n, g->c1, g->hw, g->c0 + g->c1, g->c0, y);
}
static void concat_b(const double *x, const double *dy, double *dx, void *u)
{
    (void)x;
    concat_geom *g = u;
    clseg_ref64_concat_backward(dy, g->n, g->c0, g->hw, g->c0 + g->c1, 0, dx, 0.0);
    clseg_ref64_concat_backward(dy, g->n, g->c1, g->hw, g->c0 + g->c1, g->c0, dx + g->n * g->c0 * g->hw, 0.0);
}

typedef struct mask_geom {
    size_t n;
    const double *mask;
} mask_geom;

static void mask_f(const double *x, double *y, void *u)
{
    mask_geom *g = u;
    clseg_ref64_mask_multiply(x, g->mask, y, g->n, 0.0);
}
static void mask_b(const double *x, const double *dy, double *dx, void *u)
{
    (void)x;
    mask_geom *g = u;
    clseg_ref64_mask_multiply(dy, g->mask, dx, g->n, 0.0);
}

START_TEST(test_gradients_of_concat_and_dropout)
{
    concat_geom cg = {2, 3, 2, 5 * 7};
    size_t n = (size_t)(cg.n * (cg.c0 + cg.c1) * cg.hw);
    grad_check("concat", concat_f, concat_b, &cg, n, n, -2.0, 2.0, 1e-3, 1e-9);
    double mask[40];
    for (int i = 0; i < 40; i++)
        mask[i] = i % 3 == 0 ? 0.0 : 1.5;
    mask_geom mg = {40, mask};
    grad_check("dropout", mask_f, mask_b, &mg, 40, 40, -2.0, 2.0, 1e-3, 1e-9);
}
END_TEST

/* --- the device ------------------------------------------------------------------------ */

START_TEST(test_relu_in_place_and_accumulating_backward_exact)
{
    clseg_context *ctx = test_context(selector);
    clseg_shape s = {2, 5, 13, 11};
    size_t n = clseg_shape_numel(s);
    float *x = test_ints(n, 1, 8), *g = test_ints(n, 7, 8), *acc = test_ints(n, 11, 8);
    clseg_tensor *t = test_tensor(ctx, s, x), *dy = test_tensor(ctx, s, g), *dx = test_tensor(ctx, s, acc);
    ck_assert_int_eq(clseg_relu_forward(ctx, t, t), CLSEG_STATUS_SUCCESS); /* in place */
    ck_assert_int_eq(clseg_relu_backward(ctx, t, dy, dx, 1.0f), CLSEG_STATUS_SUCCESS);
    float *y = test_download(t), *d = test_download(dx);
    for (size_t i = 0; i < n; i++) {
        ck_assert_float_eq(y[i], x[i] > 0 ? x[i] : 0.0f);
        ck_assert_float_eq(d[i], acc[i] + (x[i] > 0 ? g[i] : 0.0f));
    }
    free(x), free(g), free(acc), free(y), free(d);
    clseg_tensor_destroy(t), clseg_tensor_destroy(dy), clseg_tensor_destroy(dx);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_dropout_mask_shared_by_devices_and_runs)
{
    clseg_context *dev = test_context(selector), *ref = test_context("ref");
    clseg_shape s = {4, 8, 32, 33};
    size_t n = clseg_shape_numel(s);
    float *ones = malloc(n * sizeof *ones);
    ck_assert_ptr_nonnull(ones);
    for (size_t i = 0; i < n; i++)
        ones[i] = 1.0f;
    float *masks[3];
    clseg_context *ctxs[3] = {dev, dev, ref};
    for (int k = 0; k < 3; k++) {
        clseg_tensor *x = test_tensor(ctxs[k], s, ones), *y = test_tensor(ctxs[k], s, NULL),
                     *m = test_tensor(ctxs[k], s, NULL);
        ck_assert_int_eq(clseg_dropout_forward(ctxs[k], x, 0.25f, 99, y, m), CLSEG_STATUS_SUCCESS);
        masks[k] = test_download(y);
        clseg_tensor_destroy(x), clseg_tensor_destroy(y), clseg_tensor_destroy(m);
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert(masks[0][i] == 0.0f || masks[0][i] == 1.0f / 0.75f);
        kept += masks[0][i] != 0.0f;
    }
    ck_assert_mem_eq(masks[0], masks[1], n * sizeof(float));
    ck_assert_mem_eq(masks[0], masks[2], n * sizeof(float));
    /* 33792 draws at p = 0.25: the kept fraction is 0.75 within 5 standard deviations */
    double frac = (double)kept / (double)n, sd = sqrt(0.25 * 0.75 / (double)n);
    ck_assert_msg(fabs(frac - 0.75) < 5 * sd, "kept %.4f of the elements", frac);
    for (int k = 0; k < 3; k++)
        free(masks[k]);
    free(ones);
    clseg_context_destroy(dev);
    clseg_context_destroy(ref);
}
END_TEST

/* Planes of 35 values, and of 32 (whole 16-value vectors: the vector kernels of CPU devices). */
START_TEST(test_concat_round_trip_exact)
{
    clseg_context *ctx = test_context(selector);
    int64_t h = _i == 0 ? 5 : 4, w = _i == 0 ? 7 : 8, hw = h * w;
    clseg_shape sa = {3, 2, h, w}, sb = {3, 4, h, w}, sy = {3, 6, h, w};
    float *a = test_ints(clseg_shape_numel(sa), 3, 8), *b = test_ints(clseg_shape_numel(sb), 5, 8);
    clseg_tensor *ta = test_tensor(ctx, sa, a), *tb = test_tensor(ctx, sb, b), *y = test_tensor(ctx, sy, NULL);
    ck_assert_int_eq(clseg_concat_forward(ctx, (const clseg_tensor *[]){ta, tb}, 2, y), CLSEG_STATUS_SUCCESS);
    float *got = test_download(y);
    for (int64_t n = 0; n < 3; n++)
        for (int64_t i = 0; i < hw; i++) {
            for (int64_t c = 0; c < 2; c++)
                ck_assert_float_eq(got[(n * 6 + c) * hw + i], a[(n * 2 + c) * hw + i]);
            for (int64_t c = 0; c < 4; c++)
                ck_assert_float_eq(got[(n * 6 + 2 + c) * hw + i], b[(n * 4 + c) * hw + i]);
        }
    /* backward with beta = 1 adds the split gradient to what is there */
    ck_assert_int_eq(clseg_concat_backward(ctx, y, (clseg_tensor *[]){ta, tb}, 2, 1.0f), CLSEG_STATUS_SUCCESS);
    float *da = test_download(ta), *db = test_download(tb);
    for (size_t i = 0; i < clseg_shape_numel(sa); i++)
        ck_assert_float_eq(da[i], 2.0f * a[i]);
    for (size_t i = 0; i < clseg_shape_numel(sb); i++)
        ck_assert_float_eq(db[i], 2.0f * b[i]);
    free(a), free(b), free(got), free(da), free(db);
    clseg_tensor_destroy(ta), clseg_tensor_destroy(tb), clseg_tensor_destroy(y);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    clseg_context *ctx = test_context(selector);
    clseg_tensor *a = test_tensor(ctx, (clseg_shape){1, 3, 7, 9}, NULL),
                 *b = test_tensor(ctx, (clseg_shape){1, 3, 9, 7}, NULL);
    clseg_tensor *c = test_tensor(ctx, (clseg_shape){1, 3, 7, 9}, NULL);
    ck_assert_int_eq(clseg_relu_forward(ctx, a, b), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "clseg_relu_forward: y is 1x3x9x7; 1x3x7x9 expected"));
    ck_assert_int_eq(clseg_sigmoid_backward(ctx, a, b, c, 0.0f), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_relu_forward(ctx, NULL, a), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_add(ctx, a, c, NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_dropout_forward(ctx, a, 1.0f, 1, c, c), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_dropout_forward(ctx, a, -0.1f, 1, c, c), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_dropout_forward(ctx, a, NAN, 1, c, c), CLSEG_STATUS_INVALID_ARGUMENT);
    /* channels that do not add up, and spatial sizes that differ */
    ck_assert_int_eq(clseg_concat_forward(ctx, (const clseg_tensor *[]){a, c}, 2, c), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_concat_forward(ctx, (const clseg_tensor *[]){b}, 1, a), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_concat_forward(ctx, NULL, 0, a), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_concat_backward(ctx, a, (clseg_tensor *[]){NULL}, 1, 0.0f), CLSEG_STATUS_INVALID_ARGUMENT);
    clseg_context *other = test_context("ref");
    clseg_tensor *foreign = test_tensor(other, (clseg_shape){1, 3, 7, 9}, NULL);
    ck_assert_int_eq(clseg_add(ctx, a, foreign, c), CLSEG_STATUS_CONTEXT_MISMATCH);
    clseg_tensor_destroy(foreign);
    clseg_context_destroy(other);
    clseg_tensor_destroy(a), clseg_tensor_destroy(b), clseg_tensor_destroy(c);
    clseg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("activation");
    TCase *math = tcase_create("reference gradients");
    tcase_add_test(math, test_gradients_of_activations);
    tcase_add_test(math, test_gradients_of_concat_and_dropout);
    suite_add_tcase(s, math);
    if (!test_have_opencl())
        return test_run(s, true) == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
    TCase *dev = tcase_create("device");
    tcase_add_test(dev, test_relu_in_place_and_accumulating_backward_exact);
    tcase_add_test(dev, test_dropout_mask_shared_by_devices_and_runs);
    tcase_add_loop_test(dev, test_concat_round_trip_exact, 0, 2);
    tcase_add_test(dev, test_invalid_arguments);
    suite_add_tcase(s, dev);
    return test_run(s, false);
}
