/* The pooling family (max pooling with indices, max-unpooling, global average pooling): float64
 * gradient checks of the reference math, hand-computed answers, exact device-versus-reference
 * results on integers, determinism, overlapping windows, argument errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ref/pool_math.h"
#include "test_util.h"

static const char *selector;

/* --- float64 gradient checks of the reference backward passes ------------------------ */

static clseg_pool_geom make_geom(int64_t planes, int64_t h, int64_t w, clseg_pool2d_desc d)
{
    return (clseg_pool_geom){planes,
                             h,
                             w,
                             (h + 2 * d.pad_h - d.kernel_h) / d.stride_h + 1,
                             (w + 2 * d.pad_w - d.kernel_w) / d.stride_w + 1,
                             d.kernel_h,
                             d.kernel_w,
                             d.stride_h,
                             d.stride_w,
                             d.pad_h,
                             d.pad_w};
}

typedef struct pool_user {
    clseg_pool_geom g;
    double *y, *indices; /* scratch of the pooled size */
    const double *fixed; /* unpooling: indices recorded by an earlier pooling */
} pool_user;

static size_t big_n(const clseg_pool_geom *g)
{
    return (size_t)(g->planes * g->h * g->w);
}
static size_t small_n(const clseg_pool_geom *g)
{
    return (size_t)(g->planes * g->oh * g->ow);
}

static void maxpool_f(const double *x, double *y, void *u)
{
    pool_user *p = u;
    clseg_ref64_maxpool2d_forward(x, &p->g, y, p->indices);
}
static void maxpool_b(const double *x, const double *dy, double *dx, void *u)
{
    pool_user *p = u;
    clseg_ref64_maxpool2d_forward(x, &p->g, p->y, p->indices);
    clseg_ref64_maxpool2d_scatter(dy, p->indices, &p->g, dx, 0.0);
}

/* Unpooling forward is linear in x (the pooled values); its gradient is unpooling backward. */
static void unpool_f(const double *x, double *y, void *u)
{
    pool_user *p = u;
    clseg_ref64_maxpool2d_scatter(x, p->fixed, &p->g, y, 0.0);
}
static void unpool_b(const double *x, const double *dy, double *dx, void *u)
{
    (void)x;
    pool_user *p = u;
    clseg_ref64_maxunpool2d_backward(dy, p->fixed, &p->g, dx, 0.0);
}

/* ...and unpooling backward, as a function of dy, has unpooling forward as its gradient. */
static void unpool_back_f(const double *x, double *y, void *u)
{
    pool_user *p = u;
    clseg_ref64_maxunpool2d_backward(x, p->fixed, &p->g, y, 0.0);
}
static void unpool_back_b(const double *x, const double *dy, double *dx, void *u)
{
    (void)x;
    pool_user *p = u;
    clseg_ref64_maxpool2d_scatter(dy, p->fixed, &p->g, dx, 0.0);
}

/* Distinct values 0.01 apart in a scrambled order: an eps of 1e-4 never moves a maximum. */
static void distinct(double *x, size_t n, size_t salt)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (double)((i * 7919 + salt) % n) * 0.01 - 1.0;
}

static void check_maxpool_gradients(const char *what, int64_t planes, int64_t h, int64_t w, clseg_pool2d_desc d)
{
    pool_user p = {make_geom(planes, h, w, d), NULL, NULL, NULL};
    size_t nb = big_n(&p.g), ns = small_n(&p.g);
    double *x = malloc(nb * sizeof *x), *wgt = malloc(ns * sizeof *wgt), *num = malloc(nb * sizeof *num);
    double *ana = malloc(nb * sizeof *ana), *rec = malloc(ns * sizeof *rec);
    p.y = malloc(ns * sizeof *p.y), p.indices = malloc(ns * sizeof *p.indices);
    ck_assert(x && wgt && num && ana && rec && p.y && p.indices);
    ck_assert_int_eq((int)(nb % 7919 != 0), 1);
    distinct(x, nb, 3);
    grad_random(wgt, ns, 11, -1.0, 1.0);
    grad_numeric(maxpool_f, &p, x, nb, wgt, ns, 1e-4, num);
    maxpool_b(x, wgt, ana, &p);
    grad_assert_close(what, ana, num, nb, 1e-8);

    /* unpooling with the indices of a pooling of other values, both ways */
    clseg_ref64_maxpool2d_forward(x, &p.g, p.y, rec);
    p.fixed = rec;
    char name[128];
    snprintf(name, sizeof name, "%s: unpool forward", what);
    grad_check(name, unpool_f, unpool_b, &p, ns, nb, -2.0, 2.0, 1e-3, 1e-9);
    snprintf(name, sizeof name, "%s: unpool backward", what);
    grad_check(name, unpool_back_f, unpool_back_b, &p, nb, ns, -2.0, 2.0, 1e-3, 1e-9);
    free(x), free(wgt), free(num), free(ana), free(rec), free(p.y), free(p.indices);
}

START_TEST(test_gradients_of_pooling)
{
    check_maxpool_gradients("maxpool 2x2 s2", 2, 6, 5, clseg_pool2d_make(2, 2, 0));
    check_maxpool_gradients("maxpool 3x3 s2 p1 (overlapping)", 2, 7, 9, clseg_pool2d_make(3, 2, 1));
    check_maxpool_gradients("maxpool 3x3 s1 p1 (overlapping)", 1, 5, 6, clseg_pool2d_make(3, 1, 1));
    check_maxpool_gradients("maxpool 3x2 s2x1 p1x1", 3, 7, 4, (clseg_pool2d_desc){3, 2, 2, 1, 1, 1});
}
END_TEST

typedef struct gap_user {
    int64_t planes, hw;
} gap_user;

static void gap_f(const double *x, double *y, void *u)
{
    gap_user *g = u;
    clseg_ref64_global_avgpool_forward(x, g->planes, g->hw, y);
}
static void gap_b(const double *x, const double *dy, double *dx, void *u)
{
    (void)x;
    gap_user *g = u;
    clseg_ref64_global_avgpool_backward(dy, g->planes, g->hw, dx, 0.0);
}

START_TEST(test_gradients_of_global_avgpool)
{
    gap_user g = {6, 7 * 5};
    grad_check("global average pooling", gap_f, gap_b, &g, 6 * 35, 6, -2.0, 2.0, 1e-3, 1e-9);
}
END_TEST

/* --- hand-computed answers, on every backend ------------------------------------------ */

static void assert_values(const char *what, const clseg_tensor *t, const float *want, size_t n)
{
    float *got = test_download(t);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i] || (isnan(got[i]) && isnan(want[i])), "%s[%zu] is %g; %g expected", what, i,
                      (double)got[i], (double)want[i]);
    free(got);
}

/* The backends the hand-computed cases run on: always the reference, and the device if any. */
static const char *backends[2] = {"ref", NULL};
static int backend_count = 1;

START_TEST(test_maxpool_2x2_by_hand)
{
    clseg_context *ctx = test_context(backends[_i]);
    /* a tie (two 5s: the first in row-major order wins) and a NaN (it always wins) */
    const float x[16] = {1, 5, 2, 0, 5, 3, 1, 1, -1, -2, 7, NAN, -3, -4, 8, 6};
    clseg_pool2d_desc d = clseg_pool2d_make(2, 2, 0);
    clseg_tensor *tx = test_tensor(ctx, (clseg_shape){1, 1, 4, 4}, x),
                 *y = test_tensor(ctx, (clseg_shape){1, 1, 2, 2}, NULL);
    clseg_tensor *idx = test_tensor(ctx, (clseg_shape){1, 1, 2, 2}, NULL);
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &d, tx, y, idx), CLSEG_STATUS_SUCCESS);
    assert_values("y", y, (const float[]){5, 2, -1, NAN}, 4);
    assert_values("indices", idx, (const float[]){1, 2, 8, 11}, 4);

    /* backward with beta 1 onto ones; unpooling puts the values back at the same places */
    const float dy[4] = {10, 20, 30, 40};
    float ones[16];
    for (int i = 0; i < 16; i++)
        ones[i] = 1;
    clseg_tensor *tdy = test_tensor(ctx, (clseg_shape){1, 1, 2, 2}, dy),
                 *dx = test_tensor(ctx, (clseg_shape){1, 1, 4, 4}, ones);
    ck_assert_int_eq(clseg_maxpool2d_backward(ctx, &d, tdy, idx, dx, 1.0f), CLSEG_STATUS_SUCCESS);
    assert_values("dx", dx, (const float[]){1, 11, 21, 1, 1, 1, 1, 1, 31, 1, 1, 41, 1, 1, 1, 1}, 16);
    ck_assert_int_eq(clseg_maxunpool2d_forward(ctx, &d, tdy, idx, dx), CLSEG_STATUS_SUCCESS);
    assert_values("unpooled", dx, (const float[]){0, 10, 20, 0, 0, 0, 0, 0, 30, 0, 0, 40, 0, 0, 0, 0}, 16);
    /* unpooling backward reads the gradient at the recorded places: 2 dy at beta 0.5 onto dy */
    clseg_tensor *g = test_tensor(ctx, (clseg_shape){1, 1, 2, 2}, dy);
    ck_assert_int_eq(clseg_maxunpool2d_backward(ctx, &d, dx, idx, g, 0.5f), CLSEG_STATUS_SUCCESS);
    assert_values("unpool dx", g, (const float[]){15, 30, 45, 60}, 4);
    clseg_tensor_destroy(tx), clseg_tensor_destroy(y), clseg_tensor_destroy(idx), clseg_tensor_destroy(tdy);
    clseg_tensor_destroy(dx), clseg_tensor_destroy(g);
    clseg_context_destroy(ctx);
}
END_TEST

/* 3x3 windows at stride 1 and padding 1 all see the centre of a 3x3 input: nine outputs record
 * one position, and its gradient (and its unpooled value) is the sum of all nine. */
START_TEST(test_overlapping_windows_by_hand)
{
    clseg_context *ctx = test_context(backends[_i]);
    const float x[9] = {1, 2, 3, 4, 9, 5, 6, 7, 8};
    const float dy[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    clseg_shape s = {1, 1, 3, 3};
    clseg_pool2d_desc d = clseg_pool2d_make(3, 1, 1);
    clseg_tensor *tx = test_tensor(ctx, s, x), *y = test_tensor(ctx, s, NULL), *idx = test_tensor(ctx, s, NULL);
    clseg_tensor *tdy = test_tensor(ctx, s, dy), *dx = test_tensor(ctx, s, NULL);
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &d, tx, y, idx), CLSEG_STATUS_SUCCESS);
    assert_values("indices", idx, (const float[]){4, 4, 4, 4, 4, 4, 4, 4, 4}, 9);
    ck_assert_int_eq(clseg_maxpool2d_backward(ctx, &d, tdy, idx, dx, 0.0f), CLSEG_STATUS_SUCCESS);
    assert_values("dx", dx, (const float[]){0, 0, 0, 0, 45, 0, 0, 0, 0}, 9);
    ck_assert_int_eq(clseg_maxunpool2d_forward(ctx, &d, y, idx, dx), CLSEG_STATUS_SUCCESS);
    assert_values("unpooled", dx, (const float[]){0, 0, 0, 0, 81, 0, 0, 0, 0}, 9);

    /* ResNet's stem pooling, 3x3 stride 2 padding 1, on a 1x5 row: windows share columns */
    const float row[5] = {3, 1, 4, 1, 5};
    clseg_pool2d_desc r = clseg_pool2d_make(3, 2, 1);
    clseg_tensor *tr = test_tensor(ctx, (clseg_shape){1, 1, 1, 5}, row);
    clseg_tensor *ry = test_tensor(ctx, (clseg_shape){1, 1, 1, 3}, NULL),
                 *ri = test_tensor(ctx, (clseg_shape){1, 1, 1, 3}, NULL);
    /* a 1-row input needs a 1-row window: pad_h 0 */
    r.kernel_h = 1, r.pad_h = 0;
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &r, tr, ry, ri), CLSEG_STATUS_SUCCESS);
    assert_values("row y", ry, (const float[]){3, 4, 5}, 3);
    assert_values("row indices", ri, (const float[]){0, 2, 4}, 3);
    clseg_tensor_destroy(tx), clseg_tensor_destroy(y), clseg_tensor_destroy(idx), clseg_tensor_destroy(tdy);
    clseg_tensor_destroy(dx), clseg_tensor_destroy(tr), clseg_tensor_destroy(ry), clseg_tensor_destroy(ri);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_global_avgpool_by_hand)
{
    clseg_context *ctx = test_context(backends[_i]);
    const float x[8] = {1, 2, 3, 6, -4, 0, 8, 4};
    clseg_tensor *tx = test_tensor(ctx, (clseg_shape){1, 2, 2, 2}, x),
                 *y = test_tensor(ctx, (clseg_shape){1, 2, 1, 1}, NULL);
    ck_assert_int_eq(clseg_global_avgpool_forward(ctx, tx, y), CLSEG_STATUS_SUCCESS);
    assert_values("y", y, (const float[]){3, 2}, 2);
    ck_assert_int_eq(clseg_global_avgpool_backward(ctx, y, tx, 1.0f), CLSEG_STATUS_SUCCESS);
    assert_values("dx", tx, (const float[]){1.75f, 2.75f, 3.75f, 6.75f, -3.5f, 0.5f, 8.5f, 4.5f}, 8);
    clseg_tensor_destroy(tx), clseg_tensor_destroy(y);
    clseg_context_destroy(ctx);
}
END_TEST

/* --- the device against the reference ----------------------------------------------------- */

/* Every op of a pooling of shape sx on one backend; returns their outputs concatenated. */
static float *ops_of_shape(clseg_context *ctx, clseg_shape sx, clseg_pool2d_desc d, const float *x, const float *g,
                           const float *acc, size_t *count)
{
    clseg_shape sy;
    ck_assert_int_eq(clseg_pool2d_output_shape(&d, sx, &sy), CLSEG_STATUS_SUCCESS);
    size_t nx = clseg_shape_numel(sx), ny = clseg_shape_numel(sy);
    clseg_tensor *tx = test_tensor(ctx, sx, x), *y = test_tensor(ctx, sy, NULL), *idx = test_tensor(ctx, sy, NULL);
    clseg_tensor *dy = test_tensor(ctx, sy, g), *dx = test_tensor(ctx, sx, acc), *un = test_tensor(ctx, sx, NULL);
    clseg_tensor *udx = test_tensor(ctx, sy, acc);
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &d, tx, y, idx), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_maxpool2d_backward(ctx, &d, dy, idx, dx, 1.0f), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_maxunpool2d_forward(ctx, &d, dy, idx, un), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_maxunpool2d_backward(ctx, &d, tx, idx, udx, 1.0f), CLSEG_STATUS_SUCCESS);
    *count = 3 * ny + 2 * nx;
    float *out = malloc(*count * sizeof *out);
    ck_assert_ptr_nonnull(out);
    const clseg_tensor *parts[] = {y, idx, udx, dx, un};
    size_t at = 0;
    for (int i = 0; i < 5; i++) {
        float *v = test_download(parts[i]);
        memcpy(out + at, v, clseg_tensor_numel(parts[i]) * sizeof *v);
        at += clseg_tensor_numel(parts[i]);
        free(v);
    }
    ck_assert_uint_eq(at, *count);
    clseg_tensor_destroy(tx), clseg_tensor_destroy(y), clseg_tensor_destroy(idx), clseg_tensor_destroy(dy);
    clseg_tensor_destroy(dx), clseg_tensor_destroy(un), clseg_tensor_destroy(udx);
    return out;
}

static float *all_ops(clseg_context *ctx, clseg_pool2d_desc d, const float *x, const float *g, const float *acc,
                      size_t *count)
{
    return ops_of_shape(ctx, (clseg_shape){2, 3, 13, 11}, d, x, g, acc, count);
}

START_TEST(test_device_matches_reference_exactly_on_integers)
{
    clseg_context *dev = test_context(selector), *ref = test_context("ref");
    size_t n = 2 * 3 * 13 * 11;
    float *x = test_ints(n, 1, 8), *g = test_ints(n, 7, 8), *acc = test_ints(n, 11, 8);
    const clseg_pool2d_desc descs[] = {
        clseg_pool2d_make(2, 2, 0), clseg_pool2d_make(3, 2, 1), clseg_pool2d_make(3, 1, 1), {3, 2, 2, 1, 1, 0}};
    for (size_t k = 0; k < sizeof descs / sizeof descs[0]; k++) {
        size_t c1 = 0, c2 = 0;
        float *a = all_ops(dev, descs[k], x, g, acc, &c1), *b = all_ops(ref, descs[k], x, g, acc, &c2);
        ck_assert_uint_eq(c1, c2);
        ck_assert_msg(memcmp(a, b, c1 * sizeof *a) == 0, "desc %zu: device and reference differ", k);
        free(a), free(b);
    }
    free(x), free(g), free(acc);
    clseg_context_destroy(dev);
    clseg_context_destroy(ref);
}
END_TEST

/* 2x2 windows at stride 2 over whole 16-output rows take vector kernels on OpenCL devices
 * (cl/pool.cl): ties (values 1..3) and NaNs must pick the same index as the reference. */
START_TEST(test_vector_path_ties_and_nans)
{
    clseg_context *dev = test_context(selector), *ref = test_context("ref");
    clseg_shape sx = {2, 3, 6, 64};
    size_t n = clseg_shape_numel(sx);
    float *x = test_ints(n, 3, 3), *g = test_ints(n, 7, 8), *acc = test_ints(n, 11, 8);
    for (size_t i = 0; i < n; i += 37)
        x[i] = NAN;
    x[1] = NAN; /* two NaNs in one window: the first stays */
    size_t c1 = 0, c2 = 0;
    float *a = ops_of_shape(dev, sx, clseg_pool2d_make(2, 2, 0), x, g, acc, &c1);
    float *b = ops_of_shape(ref, sx, clseg_pool2d_make(2, 2, 0), x, g, acc, &c2);
    ck_assert_uint_eq(c1, c2);
    size_t at = test_first_difference(a, b, c1);
    ck_assert_msg(at == c1, "the vector pooling differs from the reference at %zu: %g, %g expected", at, a[at], b[at]);
    free(a), free(b), free(x), free(g), free(acc);
    clseg_context_destroy(dev);
    clseg_context_destroy(ref);
}
END_TEST

/* dx after max pooling's backward of shape sx at 3x3, stride 2, padding 1, onto init with beta. */
static float *stem_backward(clseg_context *ctx, clseg_shape sx, const float *x, const float *g, const float *init,
                            float beta)
{
    clseg_pool2d_desc d = clseg_pool2d_make(3, 2, 1);
    clseg_shape sy;
    ck_assert_int_eq(clseg_pool2d_output_shape(&d, sx, &sy), CLSEG_STATUS_SUCCESS);
    clseg_tensor *tx = test_tensor(ctx, sx, x), *y = test_tensor(ctx, sy, NULL), *idx = test_tensor(ctx, sy, NULL);
    clseg_tensor *dy = test_tensor(ctx, sy, g), *dx = test_tensor(ctx, sx, init);
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &d, tx, y, idx), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_maxpool2d_backward(ctx, &d, dy, idx, dx, beta), CLSEG_STATUS_SUCCESS);
    float *out = test_download(dx);
    clseg_tensor_destroy(tx), clseg_tensor_destroy(y), clseg_tensor_destroy(idx), clseg_tensor_destroy(dy);
    clseg_tensor_destroy(dx);
    return out;
}

static float *filled(size_t n, float v)
{
    float *a = malloc(n * sizeof *a);
    ck_assert_ptr_nonnull(a);
    for (size_t i = 0; i < n; i++)
        a[i] = v;
    return a;
}

/* 3x3 windows at stride 2 and padding 1 onto half the size, over whole 16-output rows, take
 * vector kernels too; windows overlap in odd rows and columns, also across 16-output tiles.
 * Ties (values -3..3), NaNs at the first row and column next to the padding and in shared
 * columns, and a plane of -inf (padding must not win) pick the same index as the reference. */
START_TEST(test_vector_path_3x3_ties_and_nans)
{
    clseg_context *dev = test_context(selector), *ref = test_context("ref");
    /* 16 outputs a row; 32 (two tiles); 3x16 outputs from 6x31, not twice as wide */
    const clseg_shape shapes[] = {{2, 3, 6, 32}, {1, 2, 8, 64}, {1, 2, 6, 31}};
    const clseg_pool2d_desc stem = clseg_pool2d_make(3, 2, 1);
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        clseg_shape sx = shapes[k];
        size_t n = clseg_shape_numel(sx), w = (size_t)sx.w, plane = (size_t)(sx.h * sx.w);
        float *x = test_ints(n, 3, 3), *g = test_ints(n, 7, 8), *acc = test_ints(n, 11, 8);
        for (size_t i = 0; i < n; i += 37)
            x[i] = NAN;
        x[0] = x[1] = NAN;      /* the corner next to both paddings; the first NaN stays */
        x[w] = x[2 * w] = NAN;  /* column 0: rows 1 (two windows) and 2 */
        x[2 * w + 31] = NAN;    /* column 31: the last of a tile, in windows 15 and 16 */
        x[3 * w + w - 1] = NAN; /* the last column, in the last window only */
        for (size_t i = plane; i < 2 * plane; i++)
            x[i] = -INFINITY;
        size_t c1 = 0, c2 = 0;
        float *a = ops_of_shape(dev, sx, stem, x, g, acc, &c1), *b = ops_of_shape(ref, sx, stem, x, g, acc, &c2);
        ck_assert_uint_eq(c1, c2);
        size_t at = test_first_difference(a, b, c1);
        ck_assert_msg(at == c1, "shape %zu: the vector pooling differs from the reference at %zu: %g, %g expected", k,
                      at, a[at], b[at]);
        free(a), free(b);
        /* beta 0 overwrites a NaN-filled dx; beta 0.5 accumulates */
        float *nan = filled(n, NAN);
        /* unpooling with indices of neighbouring windows: a position outside its own window is
         * ignored, as by the reference */
        clseg_shape sy;
        ck_assert_int_eq(clseg_pool2d_output_shape(&stem, sx, &sy), CLSEG_STATUS_SUCCESS);
        size_t m = clseg_shape_numel(sy);
        float *moved = malloc(m * sizeof *moved);
        ck_assert_ptr_nonnull(moved);
        for (size_t o = 0; o < m; o++) {
            int64_t oh = (int64_t)o / sy.w % sy.h, ow = (int64_t)o % sy.w;
            int64_t h = 2 * oh + (int64_t)(o % 5) - 2, c = 2 * ow + (int64_t)(o * 7 % 5) - 2; /* 2 oh - 2 ... */
            h = h < 0 ? 0 : h < sx.h ? h : sx.h - 1;
            c = c < 0 ? 0 : c < sx.w ? c : sx.w - 1;
            moved[o] = (float)(h * sx.w + c);
        }
        for (int i = 0; i < 2; i++) {
            clseg_context *ctx = i == 0 ? dev : ref;
            clseg_tensor *tv = test_tensor(ctx, sy, g), *ti = test_tensor(ctx, sy, moved),
                         *un = test_tensor(ctx, sx, nan);
            ck_assert_int_eq(clseg_maxunpool2d_forward(ctx, &stem, tv, ti, un), CLSEG_STATUS_SUCCESS);
            float *v = test_download(un);
            if (i == 0)
                a = v;
            else
                b = v;
            clseg_tensor_destroy(tv), clseg_tensor_destroy(ti), clseg_tensor_destroy(un);
        }
        ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "shape %zu: unpooling moved indices differs", k);
        free(a), free(b), free(moved);
        a = stem_backward(dev, sx, x, g, nan, 0.0f), b = stem_backward(ref, sx, x, g, nan, 0.0f);
        ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "shape %zu: beta 0 differs", k);
        free(a), free(b);
        a = stem_backward(dev, sx, x, g, acc, 0.5f), b = stem_backward(ref, sx, x, g, acc, 0.5f);
        ck_assert_msg(memcmp(a, b, n * sizeof *a) == 0, "shape %zu: beta 0.5 differs", k);
        free(a), free(b), free(nan), free(x), free(g), free(acc);
    }
    clseg_context_destroy(dev);
    clseg_context_destroy(ref);
}
END_TEST

/* maxpool_scatter's float sums, in its order (output rows, then columns, ascending, from +0):
 * the reference sums in double, so it cannot tell the order of fractional additions. */
static void scatter_in_float_order(const float *g, const float *idx, const clseg_pool_geom *pg, float *out, float beta)
{
    for (int64_t p = 0; p < pg->planes; p++)
        for (int64_t h = 0; h < pg->h; h++)
            for (int64_t w = 0; w < pg->w; w++) {
                int64_t oh_lo, oh_hi, ow_lo, ow_hi;
                clseg_pool_window_range(h, pg->kh, pg->sh, pg->ph, pg->oh, &oh_lo, &oh_hi);
                clseg_pool_window_range(w, pg->kw, pg->sw, pg->pw, pg->ow, &ow_lo, &ow_hi);
                float sum = 0.0f;
                for (int64_t oh = oh_lo; oh <= oh_hi; oh++)
                    for (int64_t ow = ow_lo; ow <= ow_hi; ow++) {
                        int64_t o = (p * pg->oh + oh) * pg->ow + ow;
                        if (idx[o] == (float)(h * pg->w + w))
                            sum += g[o];
                    }
                float *e = &out[(p * pg->h + h) * pg->w + w];
                *e = beta == 0.0f ? sum : beta * *e + sum;
            }
}

/* Fractional gradients (and some -0) onto windows tied at shared positions: the vector scatter
 * adds in the generic kernel's order, so it gives the same bits; the generic kernel (16 outputs
 * a row minus one) is held to the same order. beta 1 keeps a fused multiply-add exact. */
START_TEST(test_vector_path_3x3_sums_in_generic_order)
{
    clseg_context *dev = test_context(selector);
    const clseg_shape shapes[] = {{1, 3, 6, 32}, {2, 2, 8, 64}, {1, 3, 6, 30}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        clseg_shape sx = shapes[k];
        clseg_pool2d_desc d = clseg_pool2d_make(3, 2, 1);
        clseg_pool_geom pg = make_geom(sx.n * sx.c, sx.h, sx.w, d);
        size_t n = clseg_shape_numel(sx), m = small_n(&pg);
        float *x = test_ints(n, 5, 1), *g = malloc(m * sizeof *g), *acc = malloc(n * sizeof *acc);
        ck_assert(g && acc);
        /* a 10 at odd row 2 r + 1 and odd column 2 j + 1, with r even and j a multiple of 4 or
         * the last of a tile, is the only 10 in the four windows (r..r+1, j..j+1) that share it:
         * it gathers four gradients, whose order of addition matters */
        for (int64_t p = 0; p < pg.planes; p++)
            for (int64_t r = 0; r < pg.oh; r += 2)
                for (int64_t j = 0; j < pg.ow; j++)
                    if (j % 4 == 0 || j % 16 == 15)
                        x[(p * sx.h + 2 * r + 1) * sx.w + 2 * j + 1] = 10.0f;
        for (size_t i = 0; i < m; i++)
            g[i] = i % 11 == 0 ? -0.0f : sinf((float)i) * 0.3f;
        for (size_t i = 0; i < n; i++)
            acc[i] = cosf((float)i) * 0.7f;
        /* the indices the device records (checked against the reference elsewhere) */
        clseg_shape sy = {sx.n, sx.c, pg.oh, pg.ow};
        clseg_tensor *tx = test_tensor(dev, sx, x), *y = test_tensor(dev, sy, NULL), *ti = test_tensor(dev, sy, NULL);
        ck_assert_int_eq(clseg_maxpool2d_forward(dev, &d, tx, y, ti), CLSEG_STATUS_SUCCESS);
        float *idx = test_download(ti);
        float *nan = filled(n, NAN), *want = filled(n, NAN);
        scatter_in_float_order(g, idx, &pg, want, 0.0f);
        float *got = stem_backward(dev, sx, x, g, nan, 0.0f);
        ck_assert_msg(memcmp(got, want, n * sizeof *got) == 0, "shape %zu: beta 0 sums differ", k);
        free(got);
        memcpy(want, acc, n * sizeof *want);
        scatter_in_float_order(g, idx, &pg, want, 1.0f);
        got = stem_backward(dev, sx, x, g, acc, 1.0f);
        ck_assert_msg(memcmp(got, want, n * sizeof *got) == 0, "shape %zu: beta 1 sums differ", k);
        free(got), free(want), free(nan), free(idx), free(x), free(g), free(acc);
        clseg_tensor_destroy(tx), clseg_tensor_destroy(y), clseg_tensor_destroy(ti);
    }
    clseg_context_destroy(dev);
}
END_TEST

/* Overlapping windows and fractional values: sums of several gradients, the same bits twice. */
START_TEST(test_backward_is_deterministic)
{
    clseg_context *ctx = test_context(selector);
    size_t n = 2 * 3 * 13 * 11;
    float *x = malloc(n * sizeof *x), *g = malloc(n * sizeof *g);
    ck_assert(x && g);
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)((i * 37) % 11); /* many ties between windows */
        g[i] = sinf((float)i) * 0.3f;
    }
    size_t c1 = 0, c2 = 0;
    float *a = all_ops(ctx, clseg_pool2d_make(3, 1, 1), x, g, g, &c1);
    float *b = all_ops(ctx, clseg_pool2d_make(3, 1, 1), x, g, g, &c2);
    ck_assert_mem_eq(a, b, c1 * sizeof *a);
    free(a), free(b), free(x), free(g);
    clseg_context_destroy(ctx);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    clseg_context *ctx = test_context(backends[_i]);
    clseg_shape sx = {1, 3, 7, 9}, sy = {1, 3, 3, 4};
    clseg_tensor *x = test_tensor(ctx, sx, NULL), *y = test_tensor(ctx, sy, NULL), *idx = test_tensor(ctx, sy, NULL);
    clseg_tensor *wrong = test_tensor(ctx, (clseg_shape){1, 3, 4, 4}, NULL);
    clseg_tensor *gap = test_tensor(ctx, (clseg_shape){1, 3, 1, 1}, NULL);
    clseg_pool2d_desc d = clseg_pool2d_make(2, 2, 0), bad;
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &d, x, y, idx), CLSEG_STATUS_SUCCESS);
    /* windows */
    bad = clseg_pool2d_make(3, 2, 2); /* pad > kernel / 2 */
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &bad, x, y, idx), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "clseg_maxpool2d_forward: padding 2x2"));
    bad = clseg_pool2d_make(2, 2, -1);
    ck_assert_int_eq(clseg_maxpool2d_backward(ctx, &bad, y, idx, x, 0.0f), CLSEG_STATUS_INVALID_ARGUMENT);
    bad = clseg_pool2d_make(0, 2, 0);
    ck_assert_int_eq(clseg_maxunpool2d_forward(ctx, &bad, y, idx, x), CLSEG_STATUS_INVALID_ARGUMENT);
    bad = clseg_pool2d_make(2, 0, 0);
    ck_assert_int_eq(clseg_maxunpool2d_backward(ctx, &bad, x, idx, y, 0.0f), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, NULL, x, y, idx), CLSEG_STATUS_INVALID_ARGUMENT);
    bad = clseg_pool2d_make(9, 1, 0); /* bigger than the 7 rows */
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &bad, x, y, idx), CLSEG_STATUS_SHAPE_MISMATCH);
    /* shapes: y, dy, the indices, the unpooled output */
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &d, x, wrong, idx), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "y is 1x3x4x4; 1x3x3x4 expected"));
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &d, x, y, wrong), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "indices is 1x3x4x4"));
    ck_assert_int_eq(clseg_maxpool2d_backward(ctx, &d, wrong, idx, x, 0.0f), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_maxpool2d_backward(ctx, &d, y, wrong, x, 0.0f), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_maxunpool2d_forward(ctx, &d, y, idx, wrong), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_maxunpool2d_forward(ctx, &d, y, wrong, x), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_maxunpool2d_backward(ctx, &d, x, idx, wrong, 0.0f), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &d, x, y, NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_global_avgpool_forward(ctx, x, y), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_global_avgpool_backward(ctx, y, x, 0.0f), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_global_avgpool_forward(ctx, x, gap), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_global_avgpool_backward(ctx, NULL, x, 0.0f), CLSEG_STATUS_INVALID_ARGUMENT);
    /* output shapes, PyTorch's floor mode */
    clseg_shape out;
    ck_assert_int_eq(clseg_pool2d_output_shape(&d, sx, &out), CLSEG_STATUS_SUCCESS);
    ck_assert(out.n == 1 && out.c == 3 && out.h == 3 && out.w == 4);
    clseg_pool2d_desc k3 = clseg_pool2d_make(3, 2, 1);
    ck_assert_int_eq(clseg_pool2d_output_shape(&k3, (clseg_shape){2, 5, 13, 11}, &out), CLSEG_STATUS_SUCCESS);
    ck_assert(out.h == 7 && out.w == 6);
    ck_assert_int_eq(clseg_pool2d_output_shape(&d, (clseg_shape){1, 0, 4, 4}, &out), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_pool2d_output_shape(&d, sx, NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    /* planes beyond 2^24 positions cannot be indexed by floats */
    ck_assert_int_eq(clseg_pool2d_output_shape(&d, (clseg_shape){1, 1, 4097, 4097}, &out), CLSEG_STATUS_NOT_SUPPORTED);
    clseg_context *other = test_context("ref");
    clseg_tensor *foreign = test_tensor(other, sy, NULL);
    ck_assert_int_eq(clseg_maxpool2d_forward(ctx, &d, x, y, foreign), CLSEG_STATUS_CONTEXT_MISMATCH);
    clseg_tensor_destroy(foreign);
    clseg_context_destroy(other);
    clseg_tensor_destroy(x), clseg_tensor_destroy(y), clseg_tensor_destroy(idx), clseg_tensor_destroy(wrong);
    clseg_tensor_destroy(gap);
    clseg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool");
    TCase *math = tcase_create("reference gradients");
    tcase_add_test(math, test_gradients_of_pooling);
    tcase_add_test(math, test_gradients_of_global_avgpool);
    suite_add_tcase(s, math);
    bool opencl = test_have_opencl();
    backend_count = opencl ? 2 : 1;
    TCase *hand = tcase_create("by hand");
    tcase_add_loop_test(hand, test_maxpool_2x2_by_hand, 0, backend_count);
    tcase_add_loop_test(hand, test_overlapping_windows_by_hand, 0, backend_count);
    tcase_add_loop_test(hand, test_global_avgpool_by_hand, 0, backend_count);
    tcase_add_loop_test(hand, test_invalid_arguments, 0, backend_count);
    suite_add_tcase(s, hand);
    if (!opencl)
        return test_run(s, true) == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
    TCase *dev = tcase_create("device");
    tcase_add_test(dev, test_device_matches_reference_exactly_on_integers);
    tcase_add_test(dev, test_backward_is_deterministic);
    tcase_add_test(dev, test_vector_path_ties_and_nans);
    tcase_add_test(dev, test_vector_path_3x3_ties_and_nans);
    tcase_add_test(dev, test_vector_path_3x3_sums_in_generic_order);
    suite_add_tcase(s, dev);
    return test_run(s, false);
}
