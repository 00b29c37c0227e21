/* The basic op family (fill, copy, scale, axpby, sum) on the reference backend and on the
 * default OpenCL device: exact results on integer-valued data, determinism, argument checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static const char *selector;
static const size_t sizes[] = {1, 7, 64, 65, 1000, 65537, 1000003};

START_TEST(test_fill_copy_scale_exact)
{
    clseg_context *ctx = test_context(selector);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        float *x = test_ints(n, 3, 8);
        clseg_tensor *a = test_tensor_from(ctx, x, n), *b = NULL;
        ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 1, (int64_t)n}, &b), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_fill(ctx, b, -3.25f), CLSEG_STATUS_SUCCESS);
        float *got = test_download(b);
        for (size_t i = 0; i < n; i++)
            ck_assert_float_eq(got[i], -3.25f);
        free(got);
        ck_assert_int_eq(clseg_copy(ctx, a, b), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_scale(ctx, b, -0.5f), CLSEG_STATUS_SUCCESS);
        got = test_download(b);
        for (size_t i = 0; i < n; i++)
            ck_assert_float_eq(got[i], -0.5f * x[i]);
        free(got);
        free(x);
        clseg_tensor_destroy(a);
        clseg_tensor_destroy(b);
    }
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_ops_respect_view_bounds)
{
    /* writes through a view in the middle of a buffer must not touch its neighbours */
    clseg_context *ctx = test_context(selector);
    float host[60];
    for (int i = 0; i < 60; i++)
        host[i] = 100.0f + (float)i;
    clseg_tensor *whole = test_tensor_from(ctx, host, 60), *mid = NULL, *src = NULL;
    ck_assert_int_eq(clseg_tensor_view(whole, 13, (clseg_shape){1, 1, 3, 7}, &mid), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_view(whole, 34, (clseg_shape){1, 1, 1, 21}, &src), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_fill(ctx, mid, 0.0f), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_axpby(ctx, 2.0f, src, 1.0f, mid), CLSEG_STATUS_SUCCESS);
    float *got = test_download(whole);
    for (int i = 0; i < 60; i++) {
        float want = (i >= 13 && i < 34) ? 2.0f * (100.0f + (float)(i - 13 + 34)) : 100.0f + (float)i;
        ck_assert_msg(got[i] == want, "element %d: %g, want %g", i, (double)got[i], (double)want);
    }
    free(got);
    clseg_tensor_destroy(mid);
    clseg_tensor_destroy(src);
    clseg_tensor_destroy(whole);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_axpby_exact_and_beta_zero_ignores_nan)
{
    clseg_context *ctx = test_context(selector);
    size_t n = 1003;
    float *x = test_ints(n, 1, 8), *y = test_ints(n, 2, 8);
    clseg_tensor *tx = test_tensor_from(ctx, x, n), *ty = test_tensor_from(ctx, y, n);
    ck_assert_int_eq(clseg_axpby(ctx, 3.0f, tx, -2.0f, ty), CLSEG_STATUS_SUCCESS);
    float *got = test_download(ty);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq(got[i], 3.0f * x[i] - 2.0f * y[i]);
    free(got);
    ck_assert_int_eq(clseg_fill(ctx, ty, NAN), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_axpby(ctx, 0.5f, tx, 0.0f, ty), CLSEG_STATUS_SUCCESS);
    got = test_download(ty);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq(got[i], 0.5f * x[i]);
    free(got);
    free(x);
    free(y);
    clseg_tensor_destroy(tx);
    clseg_tensor_destroy(ty);
    clseg_context_destroy(ctx);
}
END_TEST

static float run_sum(clseg_context *ctx, clseg_tensor *x)
{
    clseg_tensor *out = NULL, *ws = NULL;
    size_t wbytes = clseg_sum_workspace_bytes(ctx, clseg_tensor_numel(x));
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 1, 1}, &out), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 1, (int64_t)(wbytes / 4)}, &ws), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_sum(ctx, x, out, ws), CLSEG_STATUS_SUCCESS);
    float s = 0;
    ck_assert_int_eq(clseg_tensor_download(out, &s, 1), CLSEG_STATUS_SUCCESS);
    clseg_tensor_destroy(out);
    clseg_tensor_destroy(ws);
    return s;
}

START_TEST(test_sum_exact_on_integers)
{
    clseg_context *ctx = test_context(selector);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        float *x = test_ints(n, 5, 8);
        long long want = 0;
        for (size_t i = 0; i < n; i++)
            want += (long long)x[i];
        clseg_tensor *t = test_tensor_from(ctx, x, n);
        /* partial sums stay far below 2^24, so float32 adds them exactly in any order */
        ck_assert_msg(run_sum(ctx, t) == (float)want, "n=%zu: %g, want %lld", n, (double)run_sum(ctx, t), want);
        clseg_tensor_destroy(t);
        free(x);
    }
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_sum_is_deterministic)
{
    clseg_context *ctx = test_context(selector);
    size_t n = 1 << 20;
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    double exact = 0;
    for (size_t i = 0; i < n; i++) {
        x[i] = sinf((float)i * 0.001f) * 1e3f + 1e-3f * (float)(i % 7);
        exact += x[i];
    }
    clseg_tensor *t = test_tensor_from(ctx, x, n);
    float first = run_sum(ctx, t);
    for (int r = 0; r < 3; r++) {
        float again = run_sum(ctx, t);
        ck_assert_msg(memcmp(&first, &again, sizeof first) == 0, "run %d: %a against %a", r, (double)again,
                      (double)first);
    }
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        scale += fabs(x[i]);
    ck_assert_msg(fabs(first - exact) <= 1e-6 * scale, "sum %g, exact %g", (double)first, exact);
    clseg_tensor_destroy(t);
    free(x);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    clseg_context *ctx = test_context(selector), *other = test_context("ref");
    clseg_tensor *a = NULL, *b = NULL, *c = NULL, *ws = NULL, *foreign = NULL;
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 2, 3}, &a), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 1, 7}, &b), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 1, 2}, &c), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 1, 1}, &ws), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_tensor_create(other, (clseg_shape){1, 1, 2, 3}, &foreign), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_copy(ctx, a, b), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_msg(strstr(clseg_context_last_error(ctx), "clseg_copy") != NULL, "%s", clseg_context_last_error(ctx));
    ck_assert_int_eq(clseg_axpby(ctx, 1.0f, a, 1.0f, b), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_fill(ctx, NULL, 1.0f), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_fill(NULL, a, 1.0f), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_copy(ctx, foreign, a), CLSEG_STATUS_CONTEXT_MISMATCH);
    ck_assert_int_eq(clseg_sum(ctx, a, c, ws), CLSEG_STATUS_SHAPE_MISMATCH);  /* output of 2 elements */
    ck_assert_int_eq(clseg_sum(ctx, a, ws, ws), CLSEG_STATUS_INVALID_ARGUMENT); /* workspace of 4 bytes for 6 */
    ck_assert_msg(strstr(clseg_context_last_error(ctx), "workspace") != NULL, "%s", clseg_context_last_error(ctx));
    clseg_tensor_destroy(a);
    clseg_tensor_destroy(b);
    clseg_tensor_destroy(c);
    clseg_tensor_destroy(ws);
    clseg_tensor_destroy(foreign);
    clseg_context_destroy(other);
    clseg_context_destroy(ctx);
}
END_TEST

static Suite *suite(const char *name)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create("basic");
    tcase_add_test(tc, test_fill_copy_scale_exact);
    tcase_add_test(tc, test_ops_respect_view_bounds);
    tcase_add_test(tc, test_axpby_exact_and_beta_zero_ignores_nan);
    tcase_add_test(tc, test_sum_exact_on_integers);
    tcase_add_test(tc, test_sum_is_deterministic);
    tcase_add_test(tc, test_invalid_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    selector = "ref";
    int rc = test_run(suite("basic (ref)"), false);
    if (test_have_opencl()) {
        selector = NULL;
        rc |= test_run(suite("basic (OpenCL default device)"), false);
    }
    return rc;
}
