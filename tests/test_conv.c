/* The conv family (convolution and transposed convolution): float64 gradient checks of the
 * reference math, exact results on the device against the reference on integer inputs, a
 * hand-computed case, determinism, accumulation, workspace and argument errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "opencl/ocl.h"
#include "ref/conv_math.h"
#include "test_util.h"

static const char *selector;

/* kernel kh x kw, stride, pad, dilation, output pad, transposed */
#define DESC(kh, kw, s, p, dil, op, tr)                                                                                \
    {                                                                                                                  \
        kh, kw, s, s, p, p, dil, dil, op, op, tr                                                                       \
    }

typedef struct layer {
    clseg_shape x;
    int out_channels;
    clseg_conv2d_desc d;
} layer;

static clseg_shape weight_shape(const layer *l)
{
    return l->d.transposed ? (clseg_shape){l->x.c, l->out_channels, l->d.kernel_h, l->d.kernel_w}
                           : (clseg_shape){l->out_channels, l->x.c, l->d.kernel_h, l->d.kernel_w};
}

static clseg_shape output_shape(const layer *l)
{
    clseg_shape y;
    ck_assert_int_eq(clseg_conv2d_output_shape(&l->d, l->x, weight_shape(l), &y), CLSEG_STATUS_SUCCESS);
    return y;
}

/* ops/conv.h's geometry: the convolution's image side is x, the transposed one's is y. */
static clseg_conv_geom geom_of(const layer *l)
{
    clseg_shape y = output_shape(l), img = l->d.transposed ? y : l->x, feat = l->d.transposed ? l->x : y;
    const clseg_conv2d_desc *d = &l->d;
    return (clseg_conv_geom){img.n,       img.c,    img.h,       img.w,         feat.c,
                             feat.h,      feat.w,   d->kernel_h, d->kernel_w,   d->stride_h,
                             d->stride_w, d->pad_h, d->pad_w,    d->dilation_h, d->dilation_w};
}

static size_t numel(clseg_shape s)
{
    return clseg_shape_numel(s);
}

/* --- float64 gradient checks of the reference backward passes ------------------------ */

typedef struct grad_ctx {
    const layer *l;
    clseg_conv_geom g;
    double *x, *w, *bias; /* the inputs held fixed */
} grad_ctx;

/* y = layer(x) (+ bias), whichever way the layer runs. */
static void layer_forward(const grad_ctx *c, const double *x, const double *w, const double *bias, double *y)
{
    if (c->l->d.transposed)
        clseg_ref64_conv_backward_data(&c->g, x, w, bias, y, 0.0);
    else
        clseg_ref64_conv_forward(&c->g, x, w, bias, y, 0.0);
}

static void fx(const double *x, double *y, void *u)
{
    layer_forward(u, x, ((grad_ctx *)u)->w, NULL, y);
}
static void bx(const double *x, const double *dy, double *dx, void *u)
{
    (void)x;
    grad_ctx *c = u;
    if (c->l->d.transposed)
        clseg_ref64_conv_forward(&c->g, dy, c->w, NULL, dx, 0.0);
    else
        clseg_ref64_conv_backward_data(&c->g, dy, c->w, NULL, dx, 0.0);
}

static void fw(const double *w, double *y, void *u)
{
    layer_forward(u, ((grad_ctx *)u)->x, w, NULL, y);
}
static void bw(const double *w, const double *dy, double *dw, void *u)
{
    (void)w;
    grad_ctx *c = u;
    if (c->l->d.transposed)
        clseg_ref64_conv_backward_weights(&c->g, dy, c->x, dw, 0.0);
    else
        clseg_ref64_conv_backward_weights(&c->g, c->x, dy, dw, 0.0);
}

static void fb(const double *b, double *y, void *u)
{
    layer_forward(u, ((grad_ctx *)u)->x, ((grad_ctx *)u)->w, b, y);
}
static void bb(const double *b, const double *dy, double *db, void *u)
{
    (void)b;
    grad_ctx *c = u;
    clseg_shape y = output_shape(c->l);
    clseg_ref64_channel_sum(dy, y.n, y.c, y.h * y.w, db, 0.0);
}

static void check_layer_gradients(const char *what, const layer *l)
{
    clseg_shape ys = output_shape(l), ws = weight_shape(l);
    size_t nx = numel(l->x), nw = numel(ws), ny = numel(ys);
    grad_ctx c = {l, geom_of(l), malloc(nx * sizeof(double)), malloc(nw * sizeof(double)),
                  malloc((size_t)ys.c * sizeof(double))};
    ck_assert(c.x != NULL && c.w != NULL && c.bias != NULL);
    grad_random(c.x, nx, 11, -1.0, 1.0);
    grad_random(c.w, nw, 12, -1.0, 1.0);
    char name[128];
    snprintf(name, sizeof name, "%s: dx", what);
    grad_check(name, fx, bx, &c, nx, ny, -1.0, 1.0, 1e-4, 1e-7);
    snprintf(name, sizeof name, "%s: dw", what);
    grad_check(name, fw, bw, &c, nw, ny, -1.0, 1.0, 1e-4, 1e-7);
    snprintf(name, sizeof name, "%s: dbias", what);
    grad_check(name, fb, bb, &c, (size_t)ys.c, ny, -1.0, 1.0, 1e-4, 1e-7);
    free(c.x), free(c.w), free(c.bias);
}

static const layer geometries[] = {
    {{1, 2, 5, 6}, 3, DESC(3, 3, 1, 1, 1, 0, 0)},         {{2, 2, 7, 6}, 2, DESC(3, 3, 2, 1, 1, 0, 0)},
    {{1, 2, 6, 7}, 2, {3, 2, 2, 1, 0, 1, 1, 1, 0, 0, 0}}, /* rectangular kernel and stride */
    {{1, 2, 9, 8}, 2, DESC(3, 3, 1, 2, 2, 0, 0)},         /* dilation 2 */
    {{2, 3, 4, 5}, 2, DESC(1, 1, 1, 0, 1, 0, 0)},         /* 1x1 */
    {{1, 3, 3, 4}, 2, DESC(2, 2, 2, 0, 1, 0, 1)},         /* transposed 2x2 stride 2 */
    {{2, 2, 4, 3}, 3, DESC(3, 3, 2, 1, 1, 1, 1)},         /* transposed 3x3 s2 p1 output pad 1 */
    {{1, 2, 4, 4}, 2, {3, 3, 1, 2, 1, 0, 2, 2, 1, 1, 1}}, /* transposed, dilated, output pad >= stride */
};

START_TEST(test_reference_gradients)
{
    for (size_t i = 0; i < sizeof geometries / sizeof geometries[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "geometry %zu (%s)", i, geometries[i].d.transposed ? "transposed" : "conv");
        check_layer_gradients(what, &geometries[i]);
    }
}
END_TEST

/* --- the device ------------------------------------------------------------------------ */

/* Integers in [-range, range]. */
typedef struct results {
    float *y, *dx, *dw, *db;
} results;

static void free_results(results *r)
{
    free(r->y), free(r->dx), free(r->dw), free(r->db);
}

/* The forward pass and both backward passes of l on ctx, from integer inputs; the backward
 * passes accumulate (beta) into integer starting values. */
static results run_layer(clseg_context *ctx, const layer *l, float beta)
{
    clseg_shape ys = output_shape(l), wsh = weight_shape(l), bs = {1, ys.c, 1, 1};
    float *xv = test_ints(numel(l->x), 1, 2), *wv = test_ints(numel(wsh), 2, 2), *bv = test_ints((size_t)ys.c, 3, 3);
    float *dyv = test_ints(numel(ys), 4, 2), *dx0 = test_ints(numel(l->x), 5, 4), *dw0 = test_ints(numel(wsh), 6, 4);
    size_t wbytes = clseg_conv2d_workspace_bytes(ctx, &l->d, l->x, wsh);
    ck_assert_uint_gt(wbytes, 0);
    clseg_tensor *x = test_tensor(ctx, l->x, xv), *w = test_tensor(ctx, wsh, wv), *b = test_tensor(ctx, bs, bv);
    clseg_tensor *y = test_tensor(ctx, ys, NULL), *dy = test_tensor(ctx, ys, dyv), *dx = test_tensor(ctx, l->x, dx0);
    clseg_tensor *dw = test_tensor(ctx, wsh, dw0), *db = test_tensor(ctx, bs, bv);
    clseg_tensor *ws = test_tensor(ctx, (clseg_shape){1, 1, 1, (int64_t)(wbytes / sizeof(float))}, NULL);
    ck_assert_int_eq(clseg_conv2d_forward(ctx, &l->d, x, w, b, y, ws), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_conv2d_backward_data(ctx, &l->d, dy, w, dx, beta, ws), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_conv2d_backward_weights(ctx, &l->d, x, dy, dw, db, beta, ws), CLSEG_STATUS_SUCCESS);
    results r = {test_download(y), test_download(dx), test_download(dw), test_download(db)};
    free(xv), free(wv), free(bv), free(dyv), free(dx0), free(dw0);
    clseg_tensor_destroy(x), clseg_tensor_destroy(w), clseg_tensor_destroy(b), clseg_tensor_destroy(y);
    clseg_tensor_destroy(dy), clseg_tensor_destroy(dx), clseg_tensor_destroy(dw), clseg_tensor_destroy(db);
    clseg_tensor_destroy(ws);
    return r;
}

static void assert_same(const char *what, size_t layer_index, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(a[i] == b[i], "layer %zu %s[%zu]: %g vs %g", layer_index, what, i, (double)a[i], (double)b[i]);
}

static void assert_results_equal(size_t index, const layer *l, const results *a, const results *b)
{
    clseg_shape ys = output_shape(l);
    assert_same("y", index, a->y, b->y, numel(ys));
    assert_same("dx", index, a->dx, b->dx, numel(l->x));
    assert_same("dw", index, a->dw, b->dw, numel(weight_shape(l)));
    assert_same("dbias", index, a->db, b->db, (size_t)ys.c);
}

/* Small integers and at most a few hundred terms per sum: every float32 sum is exact, so the
 * device must match the reference bit for bit whatever order it sums in. */
static const layer exact_layers[] = {
    {{1, 3, 7, 9}, 4, DESC(3, 3, 1, 1, 1, 0, 0)},
    {{2, 5, 13, 11}, 3, DESC(3, 3, 2, 1, 1, 0, 0)},
    {{2, 3, 11, 13}, 2, {3, 5, 1, 2, 1, 2, 1, 1, 0, 0, 0}},
    {{1, 2, 15, 17}, 3, DESC(3, 3, 1, 6, 6, 0, 0)},
    {{2, 6, 5, 7}, 4, DESC(1, 1, 1, 0, 1, 0, 0)},
    {{2, 4, 9, 7}, 3, DESC(2, 2, 2, 0, 1, 0, 1)},
    {{2, 4, 7, 9}, 3, DESC(3, 3, 2, 1, 1, 1, 1)},
    {{1, 3, 6, 5}, 2, {3, 3, 1, 2, 1, 0, 2, 2, 1, 1, 1}},
    {{2, 3, 5, 7}, 2, DESC(1, 1, 1, 0, 1, 0, 1)},
    /* a bias gradient of 35793 values a channel: CPU devices sum it in two shares that cross
     * the planes' boundaries */
    {{3, 1, 97, 123}, 2, DESC(1, 1, 1, 0, 1, 0, 0)},
};

START_TEST(test_integer_inputs_exact_against_reference)
{
    clseg_context *dev = test_context(selector), *ref = test_context("ref");
    for (size_t i = 0; i < sizeof exact_layers / sizeof exact_layers[0]; i++) {
        for (int acc = 0; acc < 2; acc++) {
            results a = run_layer(dev, &exact_layers[i], acc ? 1.0f : 0.0f);
            results b = run_layer(ref, &exact_layers[i], acc ? 1.0f : 0.0f);
            assert_results_equal(i, &exact_layers[i], &a, &b);
            free_results(&a), free_results(&b);
        }
    }
    clseg_context_destroy(dev);
    clseg_context_destroy(ref);
}
END_TEST

/* The path GPUs take, forced on any device: CLBlast's products around im2col and col2im, with an
 * element per work-item (CONV_COL_ROWS 0, GPUs' default) and a row per work-item (1). Besides
 * the exact layers, weight gradients whose k (1024 and 576 pixels an image) runs in 4 and 2
 * shares (clseg_ocl_gemm_split_k), and one whose k (35 x 37) cannot be split evenly. */
START_TEST(test_gpu_path_exact)
{
    clseg_context *ref = test_context("ref");
    const layer split[] = {{{2, 3, 32, 32}, 4, DESC(3, 3, 1, 1, 1, 0, 0)},
                           {{3, 2, 48, 48}, 5, DESC(3, 3, 2, 1, 1, 0, 0)},
                           {{1, 2, 35, 37}, 3, DESC(3, 3, 1, 1, 1, 0, 0)}};
    const char *settings[] = {"gemm.GEMM_PACKED=0,conv.CONV_COL_ROWS=0", "gemm.GEMM_PACKED=0,conv.CONV_COL_ROWS=1"};
    for (size_t t = 0; t < sizeof settings / sizeof settings[0]; t++) {
        clseg_context *dev = test_context_with(selector, settings[t]);
        size_t n_exact = sizeof exact_layers / sizeof exact_layers[0], n_split = sizeof split / sizeof split[0];
        for (size_t i = 0; i < n_exact + n_split; i++) {
            const layer *l = i < n_exact ? &exact_layers[i] : &split[i - n_exact];
            results a = run_layer(dev, l, 0.5f), b = run_layer(ref, l, 0.5f);
            assert_results_equal(t * 100 + i, l, &a, &b);
            free_results(&a), free_results(&b);
        }
        clseg_context_destroy(dev);
    }
    clseg_context_destroy(ref);
}
END_TEST

/* A context's memory limit caps the im2col buffer at a quarter of it, so these batches of 7 run
 * in several chunks (the last one short): the convolution's 45 KiB per image (more on devices
 * whose packed GEMM pads it) under a 1 MiB limit, the transposed one's 11.6 KiB under 256 KiB.
 * The results must still match exactly. */
START_TEST(test_batch_in_chunks_exact)
{
    clseg_context_options opts = clseg_context_options_default();
    opts.device = selector;
    clseg_context *ref = test_context("ref"), *unlimited = test_context(selector);
    const layer ls[] = {{{7, 3, 20, 21}, 2, DESC(3, 3, 1, 1, 1, 0, 0)}, {{7, 4, 10, 11}, 3, DESC(3, 3, 2, 1, 1, 1, 1)}};
    size_t per_image[] = {27 * 20 * 21 * sizeof(float), 27 * 10 * 11 * sizeof(float)};
    uint64_t limits[] = {1 << 20, 256 << 10};
    for (size_t i = 0; i < 2; i++) {
        clseg_context *dev = NULL;
        opts.memory_limit_bytes = limits[i];
        ck_assert_int_eq(clseg_context_create(&opts, &dev, NULL, 0), CLSEG_STATUS_SUCCESS);
        /* the limit makes the workspace hold some of the 7 images' im2col matrices, not all */
        size_t wbytes = clseg_conv2d_workspace_bytes(dev, &ls[i].d, ls[i].x, weight_shape(&ls[i]));
        size_t whole = clseg_conv2d_workspace_bytes(unlimited, &ls[i].d, ls[i].x, weight_shape(&ls[i]));
        ck_assert_uint_ge(wbytes, per_image[i]);
        ck_assert_uint_lt(wbytes, whole);
        for (int acc = 0; acc < 2; acc++) {
            results a = run_layer(dev, &ls[i], acc ? 0.5f : 0.0f), b = run_layer(ref, &ls[i], acc ? 0.5f : 0.0f);
            assert_results_equal(i, &ls[i], &a, &b);
            free_results(&a), free_results(&b);
        }
        clseg_context_destroy(dev);
    }
    clseg_context_destroy(ref);
    clseg_context_destroy(unlimited);
}
END_TEST

/* Every tile shape of the CPU devices' implicit GEMM (CONV_TILE, cl/conv.cl), both forced panel
 * heights (GEMM_MR) and the kernel for any taps instead of the one for 3x3 (CONV_FIXED_TAPS)
 * give the reference's results exactly: `clseg tune` may pick any of
 * them. The layers take the implicit path where the device has it: outputs at least 16 wide,
 * stride 1 and 2, dilation, K not a multiple of any tile, outputs 8 and 4 wide (2 and 4 rows
 * per vector), the 2x2 stride-2 transposed convolution's own kernel (13 channels: a partial
 * panel), the implicit weight gradient, the 3x3 stride-2 gradient's own kernel, col2im's
 * stride-2 vector kernel and the narrow panels of convolutions onto at most 4 channels. */
START_TEST(test_every_tile_exact)
{
    clseg_context *ref = test_context("ref");
    const layer ls[] = {{{2, 5, 9, 37}, 7, DESC(3, 3, 1, 1, 1, 0, 0)},
                        {{2, 3, 11, 40}, 26, DESC(3, 3, 2, 1, 1, 0, 0)},
                        {{1, 4, 12, 35}, 13, DESC(3, 3, 1, 2, 2, 0, 0)},
                        {{2, 6, 8, 33}, 5, DESC(2, 2, 2, 0, 1, 0, 0)},
                        {{2, 5, 6, 32}, 7, DESC(3, 3, 1, 1, 1, 0, 0)},
                        {{2, 6, 8, 8}, 9, DESC(3, 3, 1, 1, 1, 0, 0)},
                        {{3, 5, 4, 4}, 26, DESC(3, 3, 1, 1, 1, 0, 0)},
                        {{2, 7, 4, 16}, 13, DESC(2, 2, 2, 0, 1, 0, 1)},
                        /* 8192 outputs or more: the implicit weight gradient, two rows per pass at
                         * stride 1, one at stride 2, 2 and 4 rows per vector for rows 8 and 4 wide */
                        {{8, 3, 32, 32}, 5, DESC(3, 3, 1, 1, 1, 0, 0)},
                        {{8, 2, 64, 64}, 3, DESC(3, 3, 2, 1, 1, 0, 0)},
                        {{128, 2, 8, 8}, 3, DESC(3, 3, 1, 1, 1, 0, 0)},
                        {{512, 2, 4, 4}, 3, DESC(3, 3, 1, 1, 1, 0, 0)},
                        /* stride-2 gradients onto rows of whole 16-pixel tiles (col2im_s2): a
                         * convolution's, LinkNet's transposed 3x3 and a transposed 4x4 */
                        {{2, 3, 10, 32}, 6, DESC(3, 3, 2, 1, 1, 0, 0)},
                        {{2, 5, 5, 16}, 3, DESC(3, 3, 2, 1, 1, 1, 1)},
                        {{1, 3, 6, 8}, 2, DESC(4, 4, 2, 1, 1, 0, 1)},
                        /* a weight gradient of few blocks and a long k: k split into shares */
                        {{2, 6, 32, 48}, 5, DESC(2, 2, 2, 0, 1, 0, 1)},
                        /* planes of 32x32 (the least) and 64x64: the implicit weight gradient
                         * per image, then summed */
                        {{8, 16, 32, 32}, 3, DESC(3, 3, 1, 1, 1, 0, 0)},
                        {{2, 16, 64, 64}, 3, DESC(3, 3, 1, 1, 1, 0, 0)},
                        /* ... and of fewer channels at 256x256 (U-Net's first layer) */
                        {{2, 3, 256, 256}, 2, DESC(3, 3, 1, 1, 1, 0, 0)},
                        /* a 3x3 stride-2 gradient over feature rows of two 16-value tiles */
                        {{1, 4, 6, 64}, 13, DESC(3, 3, 2, 1, 1, 0, 0)},
                        /* onto at most 4 channels, outputs 64 wide or more: panels of 4 channels x
                         * 64 outputs, of which a 3x3 kernel computes only the channels there are
                         * (a forward onto 2, its gradient onto 3; stride 2 onto 1; a partial last
                         * tile) */
                        {{2, 3, 6, 80}, 2, DESC(3, 3, 1, 1, 1, 0, 0)},
                        {{2, 3, 5, 160}, 1, DESC(3, 3, 2, 1, 1, 0, 0)},
                        /* padded above and below only: the padded copy row for row (pad_rows) */
                        {{2, 3, 9, 34}, 5, {3, 3, 1, 1, 1, 0, 1, 1, 0, 0, 0}}};
    /* CONV_TILE 1 and 2 are the 16x16 and 24x16 tiles that the forced panel heights select */
    const char *settings[] = {"conv.CONV_TILE=3", "conv.CONV_TILE=4", "gemm.GEMM_MR=16", "gemm.GEMM_MR=24",
                              "conv.CONV_FIXED_TAPS=0"};
    for (size_t i = 0; i < sizeof ls / sizeof ls[0]; i++) {
        results b = run_layer(ref, &ls[i], 0.5f);
        for (size_t t = 0; t < sizeof settings / sizeof settings[0]; t++) {
            clseg_context *dev = test_context_with(selector, settings[t]);
            results a = run_layer(dev, &ls[i], 0.5f);
            assert_results_equal(i * 10 + t, &ls[i], &a, &b);
            free_results(&a);
            clseg_context_destroy(dev);
        }
        free_results(&b);
    }
    clseg_context_destroy(ref);
}
END_TEST

/* A layer big enough that the GEMMs want scratch memory (64 -> 128 channels at 64x64, 3x3,
 * padding 1): the packed copies of CPU devices, CLBlast's temporaries elsewhere. The workspace
 * figure covers it and the products use it (src/opencl/gemm.c). The reference backend would take long on it (and longer
 * under the sanitizers), so a sample of outputs is summed here from run_layer()'s integer inputs (same seeds); every
 * sum is exact. */
START_TEST(test_gemm_scratch_exact)
{
    clseg_context *dev = test_context(selector);
    enum { C = 64, K = 128, H = 64, W = 64 };
    const layer l = {{1, C, H, W}, K, DESC(3, 3, 1, 1, 1, 0, 0)};
    size_t wbytes = clseg_conv2d_workspace_bytes(dev, &l.d, l.x, weight_shape(&l));
    size_t own = (C * 9 * H * W + K * CLSEG_CONV_BIAS_PARTIALS) * sizeof(float);
    ck_assert_uint_ge(wbytes, own);
    if (wbytes == own)
        fprintf(stderr, "note: this device's GEMMs need no scratch for the layer\n");
    results r = run_layer(dev, &l, 1.0f);
    size_t nx = (size_t)C * H * W, nw = (size_t)K * C * 9, ny = (size_t)K * H * W;
    float *x = test_ints(nx, 1, 2), *w = test_ints(nw, 2, 2), *b = test_ints(K, 3, 3), *dy = test_ints(ny, 4, 2);
    float *dx0 = test_ints(nx, 5, 4), *dw0 = test_ints(nw, 6, 4);
#define X(c, y, xx) ((y) < 0 || (y) >= H || (xx) < 0 || (xx) >= W ? 0.0 : (double)x[((c)*H + (y)) * W + (xx)])
#define DY(k, y, xx) ((y) < 0 || (y) >= H || (xx) < 0 || (xx) >= W ? 0.0 : (double)dy[((k)*H + (y)) * W + (xx)])
#define WT(k, c, i, j) ((double)w[(((k)*C + (c)) * 3 + (i)) * 3 + (j)])
    for (unsigned t = 0; t < 97; t++) {
        int k = (int)(t * 37 % K), c = (int)(t * 11 % C), oy = (int)(t * 29 % H), ox = (int)(t * 53 % W);
        int i = (int)(t % 3), j = (int)(t / 3 % 3);
        double y = b[k], d = dx0[(c * H + oy) * W + ox], g = dw0[((k * C + c) * 3 + i) * 3 + j], db = b[k];
        for (int cc = 0; cc < C; cc++)
            for (int ii = 0; ii < 3; ii++)
                for (int jj = 0; jj < 3; jj++)
                    y += WT(k, cc, ii, jj) * X(cc, oy - 1 + ii, ox - 1 + jj);
        for (int kk = 0; kk < K; kk++)
            for (int ii = 0; ii < 3; ii++)
                for (int jj = 0; jj < 3; jj++)
                    d += WT(kk, c, ii, jj) * DY(kk, oy + 1 - ii, ox + 1 - jj);
        for (int py = 0; py < H; py++)
            for (int px = 0; px < W; px++) {
                g += DY(k, py, px) * X(c, py - 1 + i, px - 1 + j);
                db += DY(k, py, px);
            }
        ck_assert_float_eq(r.y[(k * H + oy) * W + ox], (float)y);
        ck_assert_float_eq(r.dx[(c * H + oy) * W + ox], (float)d);
        ck_assert_float_eq(r.dw[((k * C + c) * 3 + i) * 3 + j], (float)g);
        ck_assert_float_eq(r.db[k], (float)db);
    }
#undef X
#undef DY
#undef WT
    free(x), free(w), free(b), free(dy), free(dx0), free(dw0);
    free_results(&r);
    clseg_context_destroy(dev);
}
END_TEST

/* Two runs of a bigger layer with random (non-integer) values give the same bits. */
START_TEST(test_deterministic)
{
    clseg_context *ctx = test_context(selector);
    const layer ls[] = {{{2, 16, 24, 20}, 16, DESC(3, 3, 1, 1, 1, 0, 0)},
                        {{2, 16, 12, 10}, 8, DESC(3, 3, 2, 1, 1, 1, 1)}};
    for (size_t k = 0; k < 2; k++) {
        const layer *l = &ls[k];
        clseg_shape ys = output_shape(l), wsh = weight_shape(l), bs = {1, ys.c, 1, 1};
        size_t wbytes = clseg_conv2d_workspace_bytes(ctx, &l->d, l->x, wsh);
        float *v = malloc(numel(l->x) * sizeof(float)), *wv = malloc(numel(wsh) * sizeof(float));
        float *dyv = malloc(numel(ys) * sizeof(float));
        ck_assert(v != NULL && wv != NULL && dyv != NULL);
        for (size_t i = 0; i < numel(l->x); i++)
            v[i] = sinf((float)i * 0.37f);
        for (size_t i = 0; i < numel(wsh); i++)
            wv[i] = cosf((float)i * 0.71f) * 0.3f;
        for (size_t i = 0; i < numel(ys); i++)
            dyv[i] = sinf((float)i * 1.3f + 0.2f);
        float *out[2][4];
        for (int run = 0; run < 2; run++) {
            clseg_tensor *x = test_tensor(ctx, l->x, v), *w = test_tensor(ctx, wsh, wv),
                         *y = test_tensor(ctx, ys, NULL);
            clseg_tensor *dy = test_tensor(ctx, ys, dyv), *dx = test_tensor(ctx, l->x, NULL),
                         *dw = test_tensor(ctx, wsh, NULL);
            clseg_tensor *db = test_tensor(ctx, bs, NULL);
            clseg_tensor *ws = test_tensor(ctx, (clseg_shape){1, 1, 1, (int64_t)(wbytes / sizeof(float))}, NULL);
            ck_assert_int_eq(clseg_conv2d_forward(ctx, &l->d, x, w, NULL, y, ws), CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_conv2d_backward_data(ctx, &l->d, dy, w, dx, 0.0f, ws), CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_conv2d_backward_weights(ctx, &l->d, x, dy, dw, db, 0.0f, ws), CLSEG_STATUS_SUCCESS);
            out[run][0] = test_download(y), out[run][1] = test_download(dx), out[run][2] = test_download(dw);
            out[run][3] = test_download(db);
            clseg_tensor_destroy(x), clseg_tensor_destroy(w), clseg_tensor_destroy(y), clseg_tensor_destroy(dy);
            clseg_tensor_destroy(dx), clseg_tensor_destroy(dw), clseg_tensor_destroy(db);
            clseg_tensor_destroy(ws);
        }
        ck_assert_mem_eq(out[0][0], out[1][0], numel(ys) * sizeof(float));
        ck_assert_mem_eq(out[0][1], out[1][1], numel(l->x) * sizeof(float));
        ck_assert_mem_eq(out[0][2], out[1][2], numel(wsh) * sizeof(float));
        ck_assert_mem_eq(out[0][3], out[1][3], (size_t)ys.c * sizeof(float));
        for (int run = 0; run < 2; run++)
            for (int j = 0; j < 4; j++)
                free(out[run][j]);
        free(v), free(wv), free(dyv);
    }
    clseg_context_destroy(ctx);
}
END_TEST

/* beta = 0 overwrites NaN (the GEMM's beta included); beta = 1 adds: twice the gradient. */
/* ... on the device's own path and on the GPU path (CLBlast; the last layer's weight gradient
 * there runs k in shares, whose partial products sit in the NaN-filled workspace). */
START_TEST(test_accumulation_and_nan_overwrite)
{
    const layer ls[] = {{{2, 3, 7, 6}, 4, DESC(3, 3, 1, 1, 1, 0, 0)},
                        {{2, 3, 7, 6}, 4, DESC(1, 1, 1, 0, 1, 0, 0)},
                        {{2, 3, 4, 5}, 4, DESC(3, 3, 2, 1, 1, 1, 1)},
                        {{2, 3, 32, 32}, 4, DESC(3, 3, 1, 1, 1, 0, 0)}};
    for (size_t run = 0; run < 2 * (sizeof ls / sizeof ls[0]); run++) {
        size_t k = run % (sizeof ls / sizeof ls[0]);
        const layer *l = &ls[k];
        clseg_context *ctx = test_context_with(selector, run < sizeof ls / sizeof ls[0] ? NULL : "gemm.GEMM_PACKED=0");
        clseg_shape ys = output_shape(l), wsh = weight_shape(l), bs = {1, ys.c, 1, 1};
        size_t wbytes = clseg_conv2d_workspace_bytes(ctx, &l->d, l->x, wsh);
        float *xv = test_ints(numel(l->x), 1, 2), *wv = test_ints(numel(wsh), 2, 2), *dyv = test_ints(numel(ys), 3, 2);
        clseg_tensor *x = test_tensor(ctx, l->x, xv), *w = test_tensor(ctx, wsh, wv), *dy = test_tensor(ctx, ys, dyv);
        clseg_tensor *dx = test_tensor(ctx, l->x, NULL), *dw = test_tensor(ctx, wsh, NULL),
                     *db = test_tensor(ctx, bs, NULL);
        clseg_tensor *y = test_tensor(ctx, ys, NULL);
        clseg_tensor *ws = test_tensor(ctx, (clseg_shape){1, 1, 1, (int64_t)(wbytes / sizeof(float))}, NULL);
        clseg_tensor *all[] = {dx, dw, db, y, ws};
        for (int i = 0; i < 5; i++)
            ck_assert_int_eq(clseg_fill(ctx, all[i], NAN), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_conv2d_forward(ctx, &l->d, x, w, NULL, y, ws), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_conv2d_backward_data(ctx, &l->d, dy, w, dx, 0.0f, ws), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_conv2d_backward_weights(ctx, &l->d, x, dy, dw, db, 0.0f, ws), CLSEG_STATUS_SUCCESS);
        float *once[4] = {test_download(dx), test_download(dw), test_download(db), test_download(y)};
        ck_assert_int_eq(clseg_conv2d_backward_data(ctx, &l->d, dy, w, dx, 1.0f, ws), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_conv2d_backward_weights(ctx, &l->d, x, dy, dw, db, 1.0f, ws), CLSEG_STATUS_SUCCESS);
        float *twice[3] = {test_download(dx), test_download(dw), test_download(db)};
        size_t counts[4] = {numel(l->x), numel(wsh), (size_t)ys.c, numel(ys)};
        for (int t = 0; t < 4; t++)
            for (size_t i = 0; i < counts[t]; i++) {
                ck_assert_msg(isfinite(once[t][i]), "run %zu output %d[%zu] is %g", run, t, i, (double)once[t][i]);
                if (t < 3)
                    ck_assert_float_eq(twice[t][i], 2.0f * once[t][i]);
            }
        for (int t = 0; t < 4; t++)
            free(once[t]);
        for (int t = 0; t < 3; t++)
            free(twice[t]);
        free(xv), free(wv), free(dyv);
        for (int i = 0; i < 5; i++)
            clseg_tensor_destroy(all[i]);
        clseg_tensor_destroy(x), clseg_tensor_destroy(w), clseg_tensor_destroy(dy);
        clseg_context_destroy(ctx);
    }
}
END_TEST

/* Worked by hand: x = 1..9 (3x3), w = [1 0; 0 -1]: each output is x[i][j] - x[i+1][j+1] = -4,
 * plus bias 0.5. Transposed 2x2 stride 2 with w = [1 2; 3 4] spreads each input pixel v over
 * the block [v 2v; 3v 4v]. */
static void hand_case(const char *sel)
{
    clseg_context *ctx = test_context(sel);
    float xv[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, wv[4] = {1, 0, 0, -1}, bv[1] = {0.5f};
    clseg_conv2d_desc d = clseg_conv2d_make(2, 1, 0);
    size_t wb = clseg_conv2d_workspace_bytes(ctx, &d, (clseg_shape){1, 1, 3, 3}, (clseg_shape){1, 1, 2, 2});
    clseg_tensor *ws = test_tensor(ctx, (clseg_shape){1, 1, 1, (int64_t)(wb / sizeof(float))}, NULL);
    clseg_tensor *x = test_tensor(ctx, (clseg_shape){1, 1, 3, 3}, xv),
                 *w = test_tensor(ctx, (clseg_shape){1, 1, 2, 2}, wv);
    clseg_tensor *b = test_tensor(ctx, (clseg_shape){1, 1, 1, 1}, bv),
                 *y = test_tensor(ctx, (clseg_shape){1, 1, 2, 2}, NULL);
    ck_assert_int_eq(clseg_conv2d_forward(ctx, &d, x, w, b, y, ws), CLSEG_STATUS_SUCCESS);
    float *got = test_download(y);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq(got[i], -3.5f);
    free(got);

    float tv[4] = {1, 2, 3, 4}, tw[4] = {1, 2, 3, 4};
    clseg_conv2d_desc up = clseg_conv2d_make(2, 2, 0);
    up.transposed = 1;
    clseg_tensor *tx = test_tensor(ctx, (clseg_shape){1, 1, 2, 2}, tv),
                 *tww = test_tensor(ctx, (clseg_shape){1, 1, 2, 2}, tw);
    clseg_tensor *ty = test_tensor(ctx, (clseg_shape){1, 1, 4, 4}, NULL);
    ck_assert_int_eq(clseg_conv2d_forward(ctx, &up, tx, tww, NULL, ty, ws), CLSEG_STATUS_SUCCESS);
    float want[16] = {1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16};
    got = test_download(ty);
    for (int i = 0; i < 16; i++)
        ck_assert_msg(got[i] == want[i], "%s transposed [%d]: %g, %g expected", sel ? sel : "device", i, (double)got[i],
                      (double)want[i]);
    free(got);
    clseg_tensor_destroy(ws), clseg_tensor_destroy(x), clseg_tensor_destroy(w), clseg_tensor_destroy(b);
    clseg_tensor_destroy(y), clseg_tensor_destroy(tx), clseg_tensor_destroy(tww), clseg_tensor_destroy(ty);
    clseg_context_destroy(ctx);
}

START_TEST(test_hand_computed_reference)
{
    hand_case("ref");
}
END_TEST

START_TEST(test_hand_computed_device)
{
    hand_case(selector);
}
END_TEST

START_TEST(test_shapes_and_figures)
{
    clseg_shape y;
    clseg_conv2d_desc d = clseg_conv2d_make(3, 2, 1);
    ck_assert_int_eq(clseg_conv2d_output_shape(&d, (clseg_shape){2, 5, 13, 11}, (clseg_shape){6, 5, 3, 3}, &y),
                     CLSEG_STATUS_SUCCESS);
    ck_assert(y.n == 2 && y.c == 6 && y.h == 7 && y.w == 6);
    ck_assert_double_eq(clseg_conv2d_flops(&d, (clseg_shape){2, 5, 13, 11}, (clseg_shape){6, 5, 3, 3}),
                        2.0 * 2 * 6 * 5 * 9 * 7 * 6);
    /* DeepLab's atrous 3x3, dilation 6, padding 6 keeps the size */
    clseg_conv2d_desc a = {3, 3, 1, 1, 6, 6, 6, 6, 0, 0, 0};
    ck_assert_int_eq(clseg_conv2d_output_shape(&a, (clseg_shape){1, 8, 33, 29}, (clseg_shape){4, 8, 3, 3}, &y),
                     CLSEG_STATUS_SUCCESS);
    ck_assert(y.c == 4 && y.h == 33 && y.w == 29);
    /* LinkNet's transposed 3x3 stride 2 pad 1 output pad 1 doubles it */
    clseg_conv2d_desc t = {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1};
    ck_assert_int_eq(clseg_conv2d_output_shape(&t, (clseg_shape){2, 8, 7, 9}, (clseg_shape){8, 5, 3, 3}, &y),
                     CLSEG_STATUS_SUCCESS);
    ck_assert(y.n == 2 && y.c == 5 && y.h == 14 && y.w == 18);
    /* same multiply-adds as the convolution it transposes */
    ck_assert_double_eq(clseg_conv2d_flops(&t, (clseg_shape){2, 8, 7, 9}, (clseg_shape){8, 5, 3, 3}),
                        2.0 * 2 * 8 * 5 * 9 * 7 * 9);
    /* a 1x1 stride-1 convolution needs no im2col buffer; a 3x3 one does */
    clseg_conv2d_desc p = clseg_conv2d_make(1, 1, 0);
    size_t small = clseg_conv2d_workspace_bytes(NULL, &p, (clseg_shape){4, 16, 32, 32}, (clseg_shape){8, 16, 1, 1});
    size_t big = clseg_conv2d_workspace_bytes(NULL, &d, (clseg_shape){4, 16, 32, 32}, (clseg_shape){8, 16, 3, 3});
    ck_assert_uint_eq(small, 16 * CLSEG_CONV_BIAS_PARTIALS * sizeof(float));
    ck_assert_uint_gt(big, 4 * 16 * 9 * 16 * 16 * sizeof(float));
    /* a batch too big for the cap is processed in chunks: the figure stops growing */
    clseg_shape huge = {64, 64, 256, 256}, hw = {64, 64, 3, 3};
    ck_assert_uint_le(clseg_conv2d_workspace_bytes(NULL, &a, huge, hw), ((size_t)256 << 20) + 64 * 64 * 4);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    clseg_context *ctx = test_context(selector);
    clseg_shape y, xs = {1, 3, 7, 9}, ws3 = {4, 3, 3, 3};
    clseg_conv2d_desc d = clseg_conv2d_make(3, 1, 1);
    /* descriptor values */
    clseg_conv2d_desc bad = d;
    bad.pad_h = -1;
    ck_assert_int_eq(clseg_conv2d_output_shape(&bad, xs, ws3, &y), CLSEG_STATUS_INVALID_ARGUMENT);
    bad = d, bad.stride_w = 0;
    ck_assert_int_eq(clseg_conv2d_output_shape(&bad, xs, ws3, &y), CLSEG_STATUS_INVALID_ARGUMENT);
    bad = d, bad.dilation_h = 0;
    ck_assert_int_eq(clseg_conv2d_output_shape(&bad, xs, ws3, &y), CLSEG_STATUS_INVALID_ARGUMENT);
    bad = d, bad.output_pad_h = 1; /* not transposed */
    ck_assert_int_eq(clseg_conv2d_output_shape(&bad, xs, ws3, &y), CLSEG_STATUS_INVALID_ARGUMENT);
    clseg_conv2d_desc t = clseg_conv2d_make(2, 2, 0);
    t.transposed = 1, t.output_pad_w = 2; /* >= max(stride, dilation) */
    ck_assert_int_eq(clseg_conv2d_output_shape(&t, xs, (clseg_shape){3, 2, 2, 2}, &y), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_conv2d_output_shape(NULL, xs, ws3, &y), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_conv2d_output_shape(&d, xs, ws3, NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    /* shapes: zero sizes, mismatched channels or kernel, an input smaller than the kernel */
    ck_assert_int_eq(clseg_conv2d_output_shape(&d, (clseg_shape){0, 3, 7, 9}, ws3, &y), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_conv2d_output_shape(&d, xs, (clseg_shape){4, 2, 3, 3}, &y), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_conv2d_output_shape(&d, xs, (clseg_shape){4, 3, 5, 3}, &y), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_conv2d_output_shape(&t, xs, (clseg_shape){4, 3, 2, 2}, &y), CLSEG_STATUS_INVALID_ARGUMENT);
    t.output_pad_w = 0;
    ck_assert_int_eq(clseg_conv2d_output_shape(&t, xs, (clseg_shape){4, 3, 2, 2}, &y), CLSEG_STATUS_SHAPE_MISMATCH);
    clseg_conv2d_desc k5 = clseg_conv2d_make(5, 1, 0);
    ck_assert_int_eq(clseg_conv2d_output_shape(&k5, (clseg_shape){1, 3, 3, 9}, (clseg_shape){4, 3, 5, 5}, &y),
                     CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_double_eq(clseg_conv2d_flops(&k5, (clseg_shape){1, 3, 3, 9}, (clseg_shape){4, 3, 5, 5}), 0.0);

    /* the calls: wrong output shape, bias size, workspace, NULL */
    size_t wb = clseg_conv2d_workspace_bytes(ctx, &d, xs, ws3);
    clseg_tensor *x = test_tensor(ctx, xs, NULL), *w = test_tensor(ctx, ws3, NULL),
                 *yt = test_tensor(ctx, (clseg_shape){1, 4, 7, 9}, NULL);
    clseg_tensor *wrong = test_tensor(ctx, (clseg_shape){1, 4, 7, 8}, NULL),
                 *b3 = test_tensor(ctx, (clseg_shape){1, 3, 1, 1}, NULL);
    clseg_tensor *ws = test_tensor(ctx, (clseg_shape){1, 1, 1, (int64_t)(wb / sizeof(float))}, NULL);
    clseg_tensor *small = test_tensor(ctx, (clseg_shape){1, 1, 1, (int64_t)(wb / sizeof(float)) - 1}, NULL);
    ck_assert_int_eq(clseg_conv2d_forward(ctx, &d, x, w, NULL, yt, ws), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_conv2d_forward(ctx, &d, x, w, NULL, wrong, ws), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_conv2d_forward(ctx, &d, x, w, b3, yt, ws), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_conv2d_forward(ctx, &d, x, w, NULL, yt, small), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "clseg_conv2d_forward: the workspace has"));
    ck_assert_int_eq(clseg_conv2d_forward(ctx, &d, x, w, NULL, yt, NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_conv2d_forward(ctx, &d, NULL, w, NULL, yt, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_conv2d_forward(ctx, NULL, x, w, NULL, yt, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_conv2d_backward_data(ctx, &d, wrong, w, x, 0.0f, ws), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_conv2d_backward_data(ctx, &d, yt, w, NULL, 0.0f, ws), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_conv2d_backward_weights(ctx, &d, x, yt, w, b3, 0.0f, ws), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_conv2d_backward_weights(ctx, &d, x, wrong, w, NULL, 0.0f, ws), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_conv2d_backward_weights(ctx, &d, x, yt, w, NULL, 0.0f, small),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    clseg_context *other = test_context("ref");
    clseg_tensor *foreign = test_tensor(other, ws3, NULL);
    ck_assert_int_eq(clseg_conv2d_forward(ctx, &d, x, foreign, NULL, yt, ws), CLSEG_STATUS_CONTEXT_MISMATCH);
    clseg_tensor_destroy(foreign);
    clseg_context_destroy(other);
    clseg_tensor_destroy(x), clseg_tensor_destroy(w), clseg_tensor_destroy(yt), clseg_tensor_destroy(wrong);
    clseg_tensor_destroy(b3), clseg_tensor_destroy(ws), clseg_tensor_destroy(small);
    clseg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv");
    TCase *math = tcase_create("reference");
    tcase_add_test(math, test_reference_gradients);
    tcase_add_test(math, test_hand_computed_reference);
    tcase_add_test(math, test_shapes_and_figures);
    suite_add_tcase(s, math);
    if (!test_have_opencl())
        return test_run(s, true) == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
    TCase *dev = tcase_create("device");
    tcase_add_test(dev, test_hand_computed_device);
    tcase_add_test(dev, test_integer_inputs_exact_against_reference);
    tcase_add_test(dev, test_batch_in_chunks_exact);
    tcase_add_test(dev, test_gpu_path_exact);
    tcase_add_test(dev, test_gemm_scratch_exact);
    tcase_add_test(dev, test_every_tile_exact);
    tcase_add_test(dev, test_deterministic);
    tcase_add_test(dev, test_accumulation_and_nan_overwrite);
    tcase_add_test(dev, test_invalid_arguments);
    suite_add_tcase(s, dev);
    return test_run(s, false);
}
