/* The upsampling family (nearest and bilinear resizing, PyTorch's coordinates): float64
 * gradient checks of the reference math in every mode, up and down, by scale and by size;
 * PyTorch's answers worked out by hand; exact device-versus-reference results on integers;
 * determinism; argument errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ref/upsample_math.h"
#include "test_util.h"

static const char *selector;

/* --- float64 gradient checks of the reference backward passes ------------------------ */

typedef struct ups_user {
    clseg_upsample_geom g;
    double rh, rw;
} ups_user;

static void ups_f(const double *x, double *y, void *u)
{
    ups_user *p = u;
    clseg_ref64_upsample2d_forward(x, &p->g, p->rh, p->rw, y);
}
static void ups_b(const double *x, const double *dy, double *dx, void *u)
{
    (void)x;
    ups_user *p = u;
    clseg_ref64_upsample2d_backward(dy, &p->g, p->rh, p->rw, dx, 0.0);
}

/* scale 0: to oh x ow; else by the scale (the output size floor(in * scale)). */
static void check_resize(int bilinear, int align, int64_t ih, int64_t iw, int64_t oh, int64_t ow, double scale)
{
    if (scale > 0)
        oh = (int64_t)floor((double)ih * scale), ow = (int64_t)floor((double)iw * scale);
    ups_user p = {{3, ih, iw, oh, ow, bilinear, align}, 0, 0};
    p.rh = clseg_ref64_upsample_ratio(bilinear, align, ih, oh, scale);
    p.rw = clseg_ref64_upsample_ratio(bilinear, align, iw, ow, scale);
    char what[128];
    snprintf(what, sizeof what, "%s%s %lldx%lld to %lldx%lld (scale %g)", bilinear ? "bilinear" : "nearest",
             align ? " align_corners" : "", (long long)ih, (long long)iw, (long long)oh, (long long)ow, scale);
    /* the op is linear: central differences are exact up to rounding */
    grad_check(what, ups_f, ups_b, &p, (size_t)(3 * ih * iw), (size_t)(3 * oh * ow), -2.0, 2.0, 1e-3, 1e-9);
}

START_TEST(test_gradients_of_resizing)
{
    for (int mode = 0; mode < 3; mode++) {
        int bilinear = mode > 0, align = mode == 2;
        check_resize(bilinear, align, 4, 5, 0, 0, 2.0);   /* 2x by scale */
        check_resize(bilinear, align, 5, 7, 0, 0, 1.7);   /* a scale unlike out / in */
        check_resize(bilinear, align, 5, 7, 9, 4, 0);     /* up in h, down in w */
        check_resize(bilinear, align, 13, 11, 6, 5, 0);   /* down */
        check_resize(bilinear, align, 13, 11, 0, 0, 0.4); /* down by scale */
        check_resize(bilinear, align, 3, 4, 1, 1, 0);     /* to one pixel */
        check_resize(bilinear, align, 1, 1, 5, 3, 0);     /* from one pixel */
        check_resize(bilinear, align, 3, 2, 0, 0, 8.0);   /* a large factor: wide gathers */
    }
}
END_TEST

/* --- PyTorch's answers, on every backend -------------------------------------------------- */

static void assert_values(const char *what, const clseg_tensor *t, const float *want, size_t n, float tol)
{
    float *got = test_download(t);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabsf(got[i] - want[i]) <= tol, "%s[%zu] is %.9g; %.9g expected", what, i, (double)got[i],
                      (double)want[i]);
    free(got);
}

static const char *backends[2] = {"ref", NULL};

/* Resizes 1x1xHxW values to oh x ow (scale 0) or by the scale and compares with want. */
static void resize_case(clseg_context *ctx, clseg_upsample_desc d, int64_t h, int64_t w, const float *x, int64_t oh,
                        int64_t ow, const float *want, const char *what)
{
    clseg_tensor *tx = test_tensor(ctx, (clseg_shape){1, 1, h, w}, x), *y = test_tensor(ctx, (clseg_shape){1, 1, oh, ow}, NULL);
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, tx, y), CLSEG_STATUS_SUCCESS);
    assert_values(what, y, want, (size_t)(oh * ow), 0.0f);
    clseg_tensor_destroy(tx), clseg_tensor_destroy(y);
}

START_TEST(test_pytorch_answers_by_hand)
{
    clseg_context *ctx = test_context(backends[_i]);
    const float x[4] = {1, 2, 3, 4};
    /* nearest 2x: each input becomes a 2x2 block */
    resize_case(ctx, (clseg_upsample_desc){CLSEG_UPSAMPLE_NEAREST, 0, 2, 2}, 2, 2, x, 4, 4,
                (const float[]){1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, "nearest 2x");
    /* bilinear 2x, align_corners false: sources max(0, 0.5 (j + 0.5) - 0.5) = 0, 0.25, 0.75,
     * 1.25 (the last reads input 1 twice), so each axis weighs (1, 0), (.75, .25), (.25, .75),
     * (0, 1): F.interpolate(scale_factor=2, mode='bilinear') gives these rows */
    resize_case(ctx, (clseg_upsample_desc){CLSEG_UPSAMPLE_BILINEAR, 0, 2, 2}, 2, 2, x, 4, 4,
                (const float[]){1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f,
                                3.75f, 4},
                "bilinear 2x");
    /* align_corners true to 3x3: sources j (2 - 1) / (3 - 1) = 0, 0.5, 1 */
    resize_case(ctx, (clseg_upsample_desc){CLSEG_UPSAMPLE_BILINEAR, 1, 0, 0}, 2, 2, x, 3, 3,
                (const float[]){1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}, "bilinear align_corners to 3x3");
    /* nearest by scale 1.7 on a row of 5: 8 outputs reading floor(j / 1.7) = 0 0 1 1 2 2 3 4;
     * to the same size without the scale, in / out = 5 / 8 reads 0 0 1 1 2 3 3 4 */
    const float row[5] = {10, 11, 12, 13, 14};
    resize_case(ctx, (clseg_upsample_desc){CLSEG_UPSAMPLE_NEAREST, 0, 1.7f, 1.7f}, 1, 5, row, 1, 8,
                (const float[]){10, 10, 11, 11, 12, 12, 13, 14}, "nearest x1.7");
    resize_case(ctx, (clseg_upsample_desc){CLSEG_UPSAMPLE_NEAREST, 0, 0, 0}, 1, 5, row, 1, 8,
                (const float[]){10, 10, 11, 11, 12, 13, 13, 14}, "nearest to 8");
    /* bilinear down 5 -> 2 (in / out = 2.5): sources 0.75 and 3.25 */
    resize_case(ctx, (clseg_upsample_desc){CLSEG_UPSAMPLE_BILINEAR, 0, 0, 0}, 1, 5, row, 1, 2,
                (const float[]){10.75f, 13.25f}, "bilinear 5 to 2");

    /* backward of bilinear 2x with dy = 1 plus beta 1 onto ones: every input's weights along
     * an axis add up to 2, so each gets 1 + 4 */
    float ones[16];
    for (int i = 0; i < 16; i++)
        ones[i] = 1;
    clseg_upsample_desc d = {CLSEG_UPSAMPLE_BILINEAR, 0, 2, 2};
    clseg_tensor *dy = test_tensor(ctx, (clseg_shape){1, 1, 4, 4}, ones), *dx = test_tensor(ctx, (clseg_shape){1, 1, 2, 2}, ones);
    ck_assert_int_eq(clseg_upsample2d_backward(ctx, &d, dy, dx, 1.0f), CLSEG_STATUS_SUCCESS);
    assert_values("bilinear 2x backward", dx, (const float[]){5, 5, 5, 5}, 4, 0.0f);
    /* nearest 5 -> 8 backward: input i collects the outputs that read it, 2 2 1 2 1 */
    clseg_upsample_desc n = {CLSEG_UPSAMPLE_NEAREST, 0, 0, 0};
    clseg_tensor *dy8 = test_tensor(ctx, (clseg_shape){1, 1, 1, 8}, ones);
    clseg_tensor *dx5 = test_tensor(ctx, (clseg_shape){1, 1, 1, 5}, NULL);
    ck_assert_int_eq(clseg_upsample2d_backward(ctx, &n, dy8, dx5, 0.0f), CLSEG_STATUS_SUCCESS);
    assert_values("nearest to 8 backward", dx5, (const float[]){2, 2, 1, 2, 1}, 5, 0.0f);
    clseg_tensor_destroy(dy), clseg_tensor_destroy(dx), clseg_tensor_destroy(dy8), clseg_tensor_destroy(dx5);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    clseg_context *ctx = test_context(backends[_i]);
    clseg_tensor *x = test_tensor(ctx, (clseg_shape){1, 3, 7, 9}, NULL), *y = test_tensor(ctx, (clseg_shape){1, 3, 14, 18}, NULL);
    clseg_tensor *other_c = test_tensor(ctx, (clseg_shape){1, 2, 14, 18}, NULL);
    clseg_upsample_desc d = {CLSEG_UPSAMPLE_BILINEAR, 0, 2, 2};
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, x, y), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_upsample2d_backward(ctx, &d, y, x, 0.0f), CLSEG_STATUS_SUCCESS);
    /* y's size must be floor(in * scale) */
    d.scale_w = 2.5f;
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, x, y), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "y is 1x3x14x18; 1x3x14x22 expected"));
    ck_assert_int_eq(clseg_upsample2d_backward(ctx, &d, y, x, 0.0f), CLSEG_STATUS_SHAPE_MISMATCH);
    d.scale_w = 2;
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, x, other_c), CLSEG_STATUS_SHAPE_MISMATCH);
    d.scale_h = d.scale_w = 0; /* by size: any size, but channels must still agree */
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, x, other_c), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, y, x), CLSEG_STATUS_SUCCESS);
    d.scale_h = -1;
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, x, y), CLSEG_STATUS_INVALID_ARGUMENT);
    d.scale_h = NAN;
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, x, y), CLSEG_STATUS_INVALID_ARGUMENT);
    d = (clseg_upsample_desc){CLSEG_UPSAMPLE_NEAREST, 1, 2, 2}; /* align_corners is bilinear's */
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, x, y), CLSEG_STATUS_INVALID_ARGUMENT);
    d = (clseg_upsample_desc){(clseg_upsample_mode)7, 0, 2, 2};
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, x, y), CLSEG_STATUS_INVALID_ARGUMENT);
    d = (clseg_upsample_desc){CLSEG_UPSAMPLE_NEAREST, 0, 2, 2};
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, NULL, x, y), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, x, NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_upsample2d_backward(ctx, &d, NULL, x, 0.0f), CLSEG_STATUS_INVALID_ARGUMENT);
    /* output shapes */
    clseg_shape out;
    ck_assert_int_eq(clseg_upsample2d_output_shape(&d, (clseg_shape){2, 5, 13, 11}, &out), CLSEG_STATUS_SUCCESS);
    ck_assert(out.n == 2 && out.c == 5 && out.h == 26 && out.w == 22);
    d.scale_h = 1.5f, d.scale_w = 0.4f;
    ck_assert_int_eq(clseg_upsample2d_output_shape(&d, (clseg_shape){2, 5, 13, 11}, &out), CLSEG_STATUS_SUCCESS);
    ck_assert(out.h == 19 && out.w == 4);
    d.scale_w = 0.05f; /* floor(11 * 0.05) = 0 */
    ck_assert_int_eq(clseg_upsample2d_output_shape(&d, (clseg_shape){2, 5, 13, 11}, &out),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    d.scale_w = 0; /* no scale: the size is the caller's */
    ck_assert_int_eq(clseg_upsample2d_output_shape(&d, (clseg_shape){2, 5, 13, 11}, &out),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_upsample2d_output_shape(NULL, (clseg_shape){2, 5, 13, 11}, &out),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    clseg_context *other = test_context("ref");
    clseg_tensor *foreign = test_tensor(other, (clseg_shape){1, 3, 14, 18}, NULL);
    d = (clseg_upsample_desc){CLSEG_UPSAMPLE_NEAREST, 0, 2, 2};
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, x, foreign), CLSEG_STATUS_CONTEXT_MISMATCH);
    clseg_tensor_destroy(foreign);
    clseg_context_destroy(other);
    clseg_tensor_destroy(x), clseg_tensor_destroy(y), clseg_tensor_destroy(other_c);
    clseg_context_destroy(ctx);
}
END_TEST

/* --- the device against the reference ----------------------------------------------------- */

/* Forward into y, then backward of values g onto acc with beta 1; returns y then dx. */
static float *forward_backward(clseg_context *ctx, clseg_upsample_desc d, clseg_shape sx, clseg_shape sy,
                               const float *x, const float *g, const float *acc)
{
    size_t nx = clseg_shape_numel(sx), ny = clseg_shape_numel(sy);
    clseg_tensor *tx = test_tensor(ctx, sx, x), *y = test_tensor(ctx, sy, NULL), *dy = test_tensor(ctx, sy, g);
    clseg_tensor *dx = test_tensor(ctx, sx, acc);
    ck_assert_int_eq(clseg_upsample2d_forward(ctx, &d, tx, y), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_upsample2d_backward(ctx, &d, dy, dx, 1.0f), CLSEG_STATUS_SUCCESS);
    float *out = malloc((nx + ny) * sizeof *out), *a = test_download(y), *b = test_download(dx);
    ck_assert_ptr_nonnull(out);
    memcpy(out, a, ny * sizeof *a);
    memcpy(out + ny, b, nx * sizeof *b);
    free(a), free(b);
    clseg_tensor_destroy(tx), clseg_tensor_destroy(y), clseg_tensor_destroy(dy), clseg_tensor_destroy(dx);
    return out;
}

/* Nearest moves integers; bilinear at 2x (align_corners false) weighs them by quarters: every
 * sum is exact in float, so the device must give the reference's bits. */
START_TEST(test_device_matches_reference_exactly_on_integers)
{
    clseg_context *dev = test_context(selector), *ref = test_context("ref");
    clseg_shape sx = {2, 5, 13, 11};
    struct {
        clseg_upsample_desc d;
        clseg_shape sy;
    } cases[] = {
        {{CLSEG_UPSAMPLE_NEAREST, 0, 2, 2}, {2, 5, 26, 22}},
        {{CLSEG_UPSAMPLE_NEAREST, 0, 1.5f, 1.5f}, {2, 5, 19, 16}},
        {{CLSEG_UPSAMPLE_NEAREST, 0, 0, 0}, {2, 5, 6, 17}},
        {{CLSEG_UPSAMPLE_BILINEAR, 0, 2, 2}, {2, 5, 26, 22}},
        {{CLSEG_UPSAMPLE_BILINEAR, 0, 4, 4}, {2, 5, 52, 44}},
    };
    size_t nx = clseg_shape_numel(sx);
    float *x = test_ints(nx, 1, 8), *acc = test_ints(nx, 11, 8), *g = test_ints(2 * 5 * 52 * 44, 7, 8);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t n = nx + clseg_shape_numel(cases[k].sy);
        float *a = forward_backward(dev, cases[k].d, sx, cases[k].sy, x, g, acc);
        float *b = forward_backward(ref, cases[k].d, sx, cases[k].sy, x, g, acc);
        ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "case %zu: device and reference differ", k);
        free(a), free(b);
    }
    free(x), free(acc), free(g);
    clseg_context_destroy(dev);
    clseg_context_destroy(ref);
}
END_TEST

START_TEST(test_backward_is_deterministic)
{
    clseg_context *ctx = test_context(selector);
    clseg_shape sx = {2, 5, 13, 11}, sy = {2, 5, 19, 16};
    size_t nx = clseg_shape_numel(sx), ny = clseg_shape_numel(sy);
    float *x = malloc(nx * sizeof *x), *g = malloc(ny * sizeof *g);
    ck_assert(x && g);
    for (size_t i = 0; i < nx; i++)
        x[i] = cosf((float)i);
    for (size_t i = 0; i < ny; i++)
        g[i] = sinf((float)i) * 0.7f;
    for (int align = 0; align < 2; align++) {
        clseg_upsample_desc d = {CLSEG_UPSAMPLE_BILINEAR, align, align ? 0 : 1.5f, align ? 0 : 1.5f};
        float *a = forward_backward(ctx, d, sx, sy, x, g, x), *b = forward_backward(ctx, d, sx, sy, x, g, x);
        ck_assert_mem_eq(a, b, (nx + ny) * sizeof *a);
        free(a), free(b);
    }
    free(x), free(g);
    clseg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("upsample");
    TCase *math = tcase_create("reference gradients");
    tcase_add_test(math, test_gradients_of_resizing);
    suite_add_tcase(s, math);
    bool opencl = test_have_opencl();
    TCase *hand = tcase_create("by hand");
    tcase_add_loop_test(hand, test_pytorch_answers_by_hand, 0, opencl ? 2 : 1);
    tcase_add_loop_test(hand, test_invalid_arguments, 0, opencl ? 2 : 1);
    suite_add_tcase(s, hand);
    if (!opencl)
        return test_run(s, true) == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
    TCase *dev = tcase_create("device");
    tcase_add_test(dev, test_device_matches_reference_exactly_on_integers);
    tcase_add_test(dev, test_backward_is_deterministic);
    suite_add_tcase(s, dev);
    return test_run(s, false);
}
