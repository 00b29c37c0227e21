/* The batch-normalisation family: float64 gradient checks of the reference backward pass,
 * running statistics and inference against hand computations, a variance that survives a large
 * mean, determinism, device against reference, argument errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ref/norm_math.h"
#include "test_util.h"

static const char *selector;

/* --- float64 gradient checks of the reference backward pass ------------------------------ */

/* The training forward pass as a function of one vector holding x, then weight, then bias. */
typedef struct bn_geom {
    int64_t n, c, hw;
    double *y, *rm, *rv, *mean, *invstd; /* scratch: x's size, then c each */
} bn_geom;

static size_t geom_x(const bn_geom *g)
{
    return (size_t)(g->n * g->c * g->hw);
}

static void bn_f(const double *in, double *y, void *u)
{
    bn_geom *g = u;
    const double *w = in + geom_x(g), *b = w + g->c;
    clseg_ref64_bn_forward_train(in, g->n, g->c, g->hw, w, b, 0.1, 1e-5, g->rm, g->rv, y, g->mean, g->invstd, 0);
}

static void bn_b(const double *in, const double *dy, double *d, void *u)
{
    bn_geom *g = u;
    const double *w = in + geom_x(g);
    bn_f(in, g->y, u);
    clseg_ref64_bn_backward(in, dy, NULL, g->n, g->c, g->hw, w, g->mean, g->invstd, d, 0.0, d + geom_x(g),
                            d + geom_x(g) + g->c, 0.0);
}

START_TEST(test_gradients_of_batchnorm)
{
    /* x, weight and bias all at once; shapes with N > 1 and H W > 1, and one with H W = 1 */
    const int64_t shapes[][3] = {{2, 3, 6}, {1, 2, 9}, {5, 2, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        double scratch[4 * 64];
        bn_geom g = {shapes[s][0], shapes[s][1], shapes[s][2], NULL, scratch, scratch + 8, scratch + 16, scratch + 24};
        double y[64];
        g.y = y;
        size_t nx = geom_x(&g);
        ck_assert_uint_le(nx, 64);
        grad_check("batchnorm2d", bn_f, bn_b, &g, nx + 2 * (size_t)g.c, nx, -2.0, 2.0, 1e-6, 1e-6);
    }
}
END_TEST

/* relu(bn(x)) fused: the backward pass's mask is the fused output's sign. */
static void bn_relu_f(const double *in, double *y, void *u)
{
    bn_geom *g = u;
    const double *w = in + geom_x(g), *b = w + g->c;
    clseg_ref64_bn_forward_train(in, g->n, g->c, g->hw, w, b, 0.1, 1e-5, g->rm, g->rv, y, g->mean, g->invstd, 1);
}

static void bn_relu_b(const double *in, const double *dy, double *d, void *u)
{
    bn_geom *g = u;
    const double *w = in + geom_x(g);
    bn_relu_f(in, g->y, u);
    clseg_ref64_bn_backward(in, dy, g->y, g->n, g->c, g->hw, w, g->mean, g->invstd, d, 0.0, d + geom_x(g),
                            d + geom_x(g) + g->c, 0.0);
}

START_TEST(test_gradients_of_batchnorm_relu)
{
    const int64_t shapes[][3] = {{2, 3, 6}, {1, 2, 9}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        double scratch[4 * 64], y[64];
        bn_geom g = {shapes[s][0], shapes[s][1], shapes[s][2], y, scratch, scratch + 8, scratch + 16, scratch + 24};
        size_t nx = geom_x(&g);
        grad_check("batchnorm2d+relu", bn_relu_f, bn_relu_b, &g, nx + 2 * (size_t)g.c, nx, -2.0, 2.0, 1e-6, 1e-6);
    }
}
END_TEST

/* beta accumulates: backward(beta) = beta init + backward(0), dx and parameters alike. */
START_TEST(test_reference_backward_accumulates)
{
    enum { N = 2, C = 2, HW = 5, X = N * C * HW };
    double x[X], dy[X], w[C] = {0.5, -1.5}, b[C] = {0.25, 2}, rm[C] = {0}, rv[C] = {1, 1}, y[X], mean[C], is[C];
    grad_random(x, X, 1, -1, 1);
    grad_random(dy, X, 2, -1, 1);
    clseg_ref64_bn_forward_train(x, N, C, HW, w, b, 0.1, 1e-5, rm, rv, y, mean, is, 0);
    double dx0[X], dw0[C], db0[C], dx1[X], dw1[C], db1[C];
    for (int i = 0; i < X; i++)
        dx0[i] = NAN, dx1[i] = i;
    for (int i = 0; i < C; i++)
        dw0[i] = db0[i] = NAN, dw1[i] = 3 + i, db1[i] = -i;
    clseg_ref64_bn_backward(x, dy, NULL, N, C, HW, w, mean, is, dx0, 0.0, dw0, db0, 0.0);
    clseg_ref64_bn_backward(x, dy, NULL, N, C, HW, w, mean, is, dx1, 0.5, dw1, db1, 2.0);
    for (int i = 0; i < X; i++)
        ck_assert_double_eq_tol(dx1[i], 0.5 * i + dx0[i], 1e-12);
    for (int i = 0; i < C; i++) {
        ck_assert_double_eq_tol(dw1[i], 2.0 * (3 + i) + dw0[i], 1e-12);
        ck_assert_double_eq_tol(db1[i], -2.0 * i + db0[i], 1e-12);
    }
}
END_TEST

/* --- both backends ------------------------------------------------------------------------ */

static float *uniform(size_t n, uint64_t seed, double lo, double hi)
{
    double *d = malloc(n * sizeof *d);
    float *v = malloc(n * sizeof *v);
    ck_assert(d != NULL && v != NULL);
    grad_random(d, n, seed, lo, hi);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)d[i];
    free(d);
    return v;
}

static void assert_close(const char *what, float got, double want, double rtol)
{
    ck_assert_msg(fabs((double)got - want) <= rtol * fmax(1.0, fabs(want)), "%s: %.9g, %.9g expected", what,
                  (double)got, want);
}

/* Every tensor of one training step, forward and backward. */
typedef struct bn_run {
    clseg_tensor *x, *w, *b, *rm, *rv, *y, *mean, *invstd, *ws, *dy, *dx, *dw, *db;
} bn_run;

static bn_run bn_setup(clseg_context *ctx, clseg_shape s, const float *x, const float *w, const float *b,
                       const float *rm, const float *rv, const float *dy)
{
    clseg_shape cs = {1, s.c, 1, 1};
    size_t ws_floats = clseg_batchnorm2d_workspace_bytes(ctx, s) / sizeof(float);
    bn_run r = {test_tensor(ctx, s, x),
                test_tensor(ctx, cs, w),
                test_tensor(ctx, cs, b),
                test_tensor(ctx, cs, rm),
                test_tensor(ctx, cs, rv),
                test_tensor(ctx, s, NULL),
                test_tensor(ctx, cs, NULL),
                test_tensor(ctx, cs, NULL),
                test_tensor(ctx, (clseg_shape){1, 1, 1, (int64_t)ws_floats}, NULL),
                test_tensor(ctx, s, dy),
                test_tensor(ctx, s, NULL),
                test_tensor(ctx, cs, NULL),
                test_tensor(ctx, cs, NULL)};
    return r;
}

static void bn_free(bn_run *r)
{
    clseg_tensor *all[] = {r->x, r->w, r->b, r->rm, r->rv, r->y, r->mean, r->invstd, r->ws, r->dy, r->dx, r->dw, r->db};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clseg_tensor_destroy(all[i]);
}

static const clseg_batchnorm_desc desc = {0.1f, 1e-5f};

static void bn_train_step(clseg_context *ctx, bn_run *r)
{
    ck_assert_int_eq(
        clseg_batchnorm2d_forward_train(ctx, &desc, r->x, r->w, r->b, r->rm, r->rv, r->y, r->mean, r->invstd, r->ws),
        CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_batchnorm2d_backward(ctx, &desc, r->x, r->dy, r->w, r->mean, r->invstd, r->dx, 0.0f, r->dw,
                                                r->db, 0.0f, r->ws),
                     CLSEG_STATUS_SUCCESS);
}

/* x = {1, 2, 3, 6}: mean 3, biased variance 14/4, unbiased 14/3. */
START_TEST(test_running_statistics_by_hand)
{
    const char *selectors[] = {selector, "ref"};
    for (int k = 0; k < 2; k++) {
        clseg_context *ctx = test_context(selectors[k]);
        const float x[] = {1, 2, 3, 6}, w[] = {2}, b[] = {0.5f}, rm[] = {1}, rv[] = {2};
        bn_run r = bn_setup(ctx, (clseg_shape){2, 1, 2, 1}, x, w, b, rm, rv, x);
        bn_train_step(ctx, &r);
        float *mean = test_download(r.mean), *is = test_download(r.invstd), *y = test_download(r.y);
        float *nrm = test_download(r.rm), *nrv = test_download(r.rv);
        double invstd = 1.0 / sqrt(3.5 + 1e-5);
        assert_close("save_mean", mean[0], 3.0, 1e-6);
        assert_close("save_invstd", is[0], invstd, 1e-6);
        assert_close("running_mean", nrm[0], 0.9 * 1 + 0.1 * 3, 1e-6);
        assert_close("running_var", nrv[0], 0.9 * 2 + 0.1 * 14.0 / 3.0, 1e-6);
        for (int i = 0; i < 4; i++)
            assert_close("y", y[i], 2.0 * (x[i] - 3.0) * invstd + 0.5, 1e-6);
        free(mean), free(is), free(y), free(nrm), free(nrv);
        bn_free(&r);
        clseg_context_destroy(ctx);
    }
}
END_TEST

/* Values of 1e4 + a spread of 1: E[x^2] - E[x]^2 in float32 would lose the variance entirely
 * (x^2 ~ 1e8 carries 8 of rounding), two passes keep it. */
START_TEST(test_variance_with_a_large_mean)
{
    const char *selectors[] = {selector, "ref"};
    enum { N = 4, C = 2, HW = 25 * 31 };
    float *x = malloc(N * C * HW * sizeof *x);
    ck_assert_ptr_nonnull(x);
    double sum[C] = {0}, sq[C] = {0};
    for (int i = 0; i < N * C * HW; i++)
        x[i] = 10000.0f + (float)((i * 37) % 17) * 0.125f - 1.0f;
    for (int i = 0; i < N * C * HW; i++)
        sum[i / HW % C] += x[i];
    for (int i = 0; i < N * C * HW; i++) {
        double d = x[i] - sum[i / HW % C] / (N * HW);
        sq[i / HW % C] += d * d;
    }
    const float ones[C] = {1, 1}, zeros[C] = {0, 0};
    for (int k = 0; k < 2; k++) {
        clseg_context *ctx = test_context(selectors[k]);
        bn_run r = bn_setup(ctx, (clseg_shape){N, C, 5, 155}, x, ones, zeros, zeros, ones, x);
        bn_train_step(ctx, &r);
        float *is = test_download(r.invstd), *rv = test_download(r.rv);
        for (int c = 0; c < C; c++) {
            assert_close("save_invstd", is[c], 1.0 / sqrt(sq[c] / (N * HW) + 1e-5), 1e-5);
            assert_close("running_var", rv[c], 0.9 + 0.1 * sq[c] / (N * HW - 1), 1e-5);
        }
        free(is), free(rv);
        bn_free(&r);
        clseg_context_destroy(ctx);
    }
    free(x);
}
END_TEST

/* Planes of 35 and of 32 values: the second takes the vector kernels on CPU devices. */
static const clseg_shape infer_shapes[] = {{3, 4, 5, 7}, {3, 4, 4, 8}};

START_TEST(test_inference_matches_the_formula)
{
    const char *selectors[] = {selector, "ref"};
    clseg_shape s = infer_shapes[_i];
    size_t n = clseg_shape_numel(s), hw = (size_t)(s.h * s.w);
    float *x = uniform(n, 11, -3, 3), *w = uniform(4, 12, -2, 2), *b = uniform(4, 13, -1, 1);
    float *rm = uniform(4, 14, -1, 1), *rv = uniform(4, 15, 0.1, 3);
    for (int k = 0; k < 2; k++) {
        clseg_context *ctx = test_context(selectors[k]);
        clseg_shape cs = {1, 4, 1, 1};
        clseg_tensor *tx = test_tensor(ctx, s, x), *tw = test_tensor(ctx, cs, w), *tb = test_tensor(ctx, cs, b);
        clseg_tensor *trm = test_tensor(ctx, cs, rm), *trv = test_tensor(ctx, cs, rv);
        /* in place: y is x */
        ck_assert_int_eq(clseg_batchnorm2d_forward_infer(ctx, &desc, tx, tw, tb, trm, trv, tx), CLSEG_STATUS_SUCCESS);
        float *y = test_download(tx);
        for (size_t i = 0; i < n; i++) {
            size_t c = i / hw % 4;
            assert_close("y", y[i], w[c] * (x[i] - (double)rm[c]) / sqrt((double)rv[c] + 1e-5) + b[c], 1e-6);
        }
        free(y);
        clseg_tensor_destroy(tx), clseg_tensor_destroy(tw), clseg_tensor_destroy(tb);
        clseg_tensor_destroy(trm), clseg_tensor_destroy(trv);
        clseg_context_destroy(ctx);
    }
    free(x), free(w), free(b), free(rm), free(rv);
}
END_TEST

/* Two runs on the device give the same bits, and match the reference backend: planes of odd
 * sizes, and planes of whole 16-value vectors (the vector kernels on CPU devices). */
static const clseg_shape train_shapes[] = {{4, 6, 33, 31}, {3, 6, 16, 16}};

START_TEST(test_deterministic_and_matches_reference)
{
    clseg_shape s = train_shapes[_i];
    size_t n = clseg_shape_numel(s);
    float *x = uniform(n, 21, -2, 3), *dy = uniform(n, 22, -1, 1), *w = uniform(6, 23, 0.5, 2);
    float *b = uniform(6, 24, -1, 1), *rm = uniform(6, 25, -1, 1), *rv = uniform(6, 26, 0.5, 2);
    float *out[3][8];
    const char *selectors[] = {selector, selector, "ref"};
    for (int k = 0; k < 3; k++) {
        clseg_context *ctx = test_context(selectors[k]);
        bn_run r = bn_setup(ctx, s, x, w, b, rm, rv, dy);
        bn_train_step(ctx, &r);
        clseg_tensor *t[8] = {r.y, r.mean, r.invstd, r.rm, r.rv, r.dx, r.dw, r.db};
        for (int i = 0; i < 8; i++)
            out[k][i] = test_download(t[i]);
        bn_free(&r);
        clseg_context_destroy(ctx);
    }
    for (int i = 0; i < 8; i++) {
        size_t count = i == 0 || i == 5 ? n : 6;
        ck_assert_mem_eq(out[0][i], out[1][i], count * sizeof(float));
        for (size_t j = 0; j < count; j++)
            assert_close("device against reference", out[0][i][j], out[2][i][j], 1e-4);
    }
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 8; i++)
            free(out[k][i]);
    free(x), free(dy), free(w), free(b), free(rm), free(rv);
}
END_TEST

/* --- the fused ReLU on every backend ------------------------------------------------------- */

/* Context k: the device with its own tunables, then with each stage-1 and per-element kernel
 * form forced (serial or work-group sums, vector or scalar elements), then the reference. */
enum { FUSED_CONTEXTS = 4 };

static clseg_context *fused_context(int k)
{
    static const char *const tunables[] = {NULL, "norm.NORM_SERIAL=0,norm.NORM_VEC=0",
                                           "norm.NORM_SERIAL=1,norm.NORM_VEC=1"};
    if (k == FUSED_CONTEXTS - 1)
        return test_context("ref");
    clseg_context_options o = clseg_context_options_default();
    o.device = selector;
    o.tunables = tunables[k];
    clseg_context *ctx = NULL;
    char err[4096] = "";
    ck_assert_msg(clseg_context_create(&o, &ctx, err, sizeof err) == CLSEG_STATUS_SUCCESS, "context: %s", err);
    return ctx;
}

static void upload(clseg_tensor *t, const float *v)
{
    ck_assert_int_eq(clseg_tensor_upload(t, v, clseg_tensor_numel(t)), CLSEG_STATUS_SUCCESS);
}

static void assert_same_bits(const char *what, const clseg_tensor *a, const clseg_tensor *b, int k)
{
    size_t n = clseg_tensor_numel(a);
    float *u = test_download(a), *f = test_download(b);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(memcmp(&u[i], &f[i], sizeof(float)) == 0, "context %d, %s[%zu]: unfused %.9g, fused %.9g", k,
                      what, i, (double)u[i], (double)f[i]);
    free(u), free(f);
}

/* The fused calls against batch norm then ReLU (and ReLU backward then batch norm backward) on
 * the same backend: the same bits, training and inference, overwriting and accumulating. */
START_TEST(test_fused_relu_equals_relu_after_batchnorm)
{
    clseg_shape s = train_shapes[_i];
    size_t n = clseg_shape_numel(s);
    float *x = uniform(n, 31, -2, 3), *dy = uniform(n, 32, -1, 1), *w = uniform(6, 33, -2, 2);
    float *b = uniform(6, 34, -1, 1), *rm = uniform(6, 35, -1, 1), *rv = uniform(6, 36, 0.5, 2);
    float *dx0 = uniform(n, 37, -1, 1), *dw0 = uniform(6, 38, -1, 1), *db0 = uniform(6, 39, -1, 1);
    const float betas[][2] = {{0.0f, 0.0f}, {0.5f, 1.0f}}; /* beta_dx, beta_params */
    for (int k = 0; k < FUSED_CONTEXTS; k++) {
        clseg_context *ctx = fused_context(k);
        for (int bi = 0; bi < 2; bi++) {
            float beta_dx = betas[bi][0], beta_p = betas[bi][1];
            bn_run u = bn_setup(ctx, s, x, w, b, rm, rv, dy), f = bn_setup(ctx, s, x, w, b, rm, rv, dy);
            clseg_tensor *g = test_tensor(ctx, s, NULL);
            bn_run *both[2] = {&u, &f};
            for (int r = 0; r < 2; r++) {
                upload(both[r]->dx, dx0);
                upload(both[r]->dw, dw0);
                upload(both[r]->db, db0);
            }
            /* unfused, as the net ran it: the ReLU in place on the batch norm's output */
            ck_assert_int_eq(
                clseg_batchnorm2d_forward_train(ctx, &desc, u.x, u.w, u.b, u.rm, u.rv, u.y, u.mean, u.invstd, u.ws),
                CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_relu_forward(ctx, u.y, u.y), CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_relu_backward(ctx, u.y, u.dy, g, 0.0f), CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_batchnorm2d_backward(ctx, &desc, u.x, g, u.w, u.mean, u.invstd, u.dx, beta_dx, u.dw,
                                                        u.db, beta_p, u.ws),
                             CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_batchnorm2d_relu_forward_train(ctx, &desc, f.x, f.w, f.b, f.rm, f.rv, f.y, f.mean,
                                                                  f.invstd, f.ws),
                             CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_batchnorm2d_relu_backward(ctx, &desc, f.x, f.y, f.dy, f.w, f.mean, f.invstd, f.dx,
                                                             beta_dx, f.dw, f.db, beta_p, f.ws),
                             CLSEG_STATUS_SUCCESS);
            /* the mask has to matter: a fair share of the outputs is cut to zero */
            float *y = test_download(f.y);
            size_t zeros = 0;
            for (size_t i = 0; i < n; i++)
                zeros += y[i] == 0.0f;
            ck_assert_msg(zeros > n / 10 && zeros < n - n / 10, "%zu of %zu outputs are zero", zeros, n);
            free(y);
            const char *names[] = {"y",           "save_mean", "save_invstd", "running_mean",
                                   "running_var", "dx",        "dweight",     "dbias"};
            clseg_tensor *tu[] = {u.y, u.mean, u.invstd, u.rm, u.rv, u.dx, u.dw, u.db};
            clseg_tensor *tf[] = {f.y, f.mean, f.invstd, f.rm, f.rv, f.dx, f.dw, f.db};
            for (int i = 0; i < 8; i++)
                assert_same_bits(names[i], tu[i], tf[i], k);

            /* inference, the fused call in place (y is x) */
            upload(u.y, x);
            upload(f.y, x);
            ck_assert_int_eq(clseg_batchnorm2d_forward_infer(ctx, &desc, u.y, u.w, u.b, u.rm, u.rv, g),
                             CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_relu_forward(ctx, g, g), CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_batchnorm2d_relu_forward_infer(ctx, &desc, f.y, f.w, f.b, f.rm, f.rv, f.y),
                             CLSEG_STATUS_SUCCESS);
            assert_same_bits("inference y", g, f.y, k);
            clseg_tensor_destroy(g);
            bn_free(&u);
            bn_free(&f);
        }
        clseg_context_destroy(ctx);
    }
    free(x), free(dy), free(w), free(b), free(rm), free(rv), free(dx0), free(dw0), free(db0);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    clseg_context *ctx = test_context(selector);
    clseg_shape s = {2, 3, 4, 5};
    bn_run r = bn_setup(ctx, s, NULL, NULL, NULL, NULL, NULL, NULL);
    clseg_tensor *c4 = test_tensor(ctx, (clseg_shape){1, 4, 1, 1}, NULL),
                 *y2 = test_tensor(ctx, (clseg_shape){2, 3, 5, 4}, NULL);
    clseg_tensor *small = test_tensor(ctx, (clseg_shape){1, 1, 1, 3}, NULL);
    clseg_tensor *one = test_tensor(ctx, (clseg_shape){1, 3, 1, 1}, NULL);
    /* wrong channel counts */
    ck_assert_int_eq(clseg_batchnorm2d_forward_train(ctx, &desc, r.x, c4, r.b, r.rm, r.rv, r.y, r.mean, r.invstd, r.ws),
                     CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "clseg_batchnorm2d_forward_train: weight has 4"));
    ck_assert_int_eq(clseg_batchnorm2d_forward_infer(ctx, &desc, r.x, r.w, r.b, r.rm, c4, r.y),
                     CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(
        clseg_batchnorm2d_backward(ctx, &desc, r.x, r.dy, r.w, r.mean, r.invstd, r.dx, 0, r.dw, c4, 0, r.ws),
        CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_batchnorm2d_forward_train(ctx, &desc, r.x, r.w, r.b, r.rm, r.rv, y2, r.mean, r.invstd, r.ws),
                     CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(
        clseg_batchnorm2d_backward(ctx, &desc, r.x, y2, r.w, r.mean, r.invstd, r.dx, 0, r.dw, r.db, 0, r.ws),
        CLSEG_STATUS_SHAPE_MISMATCH);
    /* workspace too small or missing */
    ck_assert_int_eq(
        clseg_batchnorm2d_forward_train(ctx, &desc, r.x, r.w, r.b, r.rm, r.rv, r.y, r.mean, r.invstd, small),
        CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(
        clseg_batchnorm2d_backward(ctx, &desc, r.x, r.dy, r.w, r.mean, r.invstd, r.dx, 0, r.dw, r.db, 0, NULL),
        CLSEG_STATUS_INVALID_ARGUMENT);
    /* NULL tensors and descriptor, bad hyper-parameters */
    ck_assert_int_eq(
        clseg_batchnorm2d_forward_train(ctx, &desc, NULL, r.w, r.b, r.rm, r.rv, r.y, r.mean, r.invstd, r.ws),
        CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_batchnorm2d_forward_infer(ctx, NULL, r.x, r.w, r.b, r.rm, r.rv, r.y),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    const clseg_batchnorm_desc bad_eps = {0.1f, 0.0f}, bad_momentum = {1.5f, 1e-5f}, nan_momentum = {NAN, 1e-5f};
    ck_assert_int_eq(clseg_batchnorm2d_forward_infer(ctx, &bad_eps, r.x, r.w, r.b, r.rm, r.rv, r.y),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(
        clseg_batchnorm2d_forward_train(ctx, &bad_momentum, r.x, r.w, r.b, r.rm, r.rv, r.y, r.mean, r.invstd, r.ws),
        CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(
        clseg_batchnorm2d_forward_train(ctx, &nan_momentum, r.x, r.w, r.b, r.rm, r.rv, r.y, r.mean, r.invstd, r.ws),
        CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(
        clseg_batchnorm2d_backward(ctx, &desc, r.x, r.dy, r.w, r.mean, r.invstd, r.dx, NAN, r.dw, r.db, 0, r.ws),
        CLSEG_STATUS_INVALID_ARGUMENT);
    /* one value per channel: no unbiased variance to train with (inference is fine) */
    ck_assert_int_eq(
        clseg_batchnorm2d_forward_train(ctx, &desc, one, r.w, r.b, r.rm, r.rv, one, r.mean, r.invstd, r.ws),
        CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "more than one value per channel"));
    /* the fused backward's mask: missing, misshapen; its calls name themselves */
    ck_assert_int_eq(clseg_batchnorm2d_relu_backward(ctx, &desc, r.x, NULL, r.dy, r.w, r.mean, r.invstd, r.dx, 0, r.dw,
                                                     r.db, 0, r.ws),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "clseg_batchnorm2d_relu_backward: y is NULL"));
    ck_assert_int_eq(
        clseg_batchnorm2d_relu_backward(ctx, &desc, r.x, y2, r.dy, r.w, r.mean, r.invstd, r.dx, 0, r.dw, r.db, 0, r.ws),
        CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "clseg_batchnorm2d_relu_backward: y is 2x3x5x4"));
    ck_assert_int_eq(
        clseg_batchnorm2d_relu_forward_train(ctx, &desc, r.x, c4, r.b, r.rm, r.rv, r.y, r.mean, r.invstd, r.ws),
        CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "clseg_batchnorm2d_relu_forward_train: weight has 4"));
    ck_assert_int_eq(clseg_batchnorm2d_relu_forward_infer(ctx, &bad_eps, r.x, r.w, r.b, r.rm, r.rv, r.y),
                     CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "clseg_batchnorm2d_relu_forward_infer: eps"));
    /* another context's tensor */
    clseg_context *other = test_context("ref");
    clseg_tensor *foreign = test_tensor(other, (clseg_shape){1, 3, 1, 1}, NULL);
    ck_assert_int_eq(clseg_batchnorm2d_forward_infer(ctx, &desc, r.x, r.w, foreign, r.rm, r.rv, r.y),
                     CLSEG_STATUS_CONTEXT_MISMATCH);
    clseg_tensor_destroy(foreign);
    clseg_context_destroy(other);
    clseg_tensor_destroy(c4), clseg_tensor_destroy(y2), clseg_tensor_destroy(small), clseg_tensor_destroy(one);
    bn_free(&r);
    clseg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("norm");
    TCase *math = tcase_create("reference gradients");
    tcase_add_test(math, test_gradients_of_batchnorm);
    tcase_add_test(math, test_gradients_of_batchnorm_relu);
    tcase_add_test(math, test_reference_backward_accumulates);
    suite_add_tcase(s, math);
    if (!test_have_opencl())
        return test_run(s, true) == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
    TCase *dev = tcase_create("device");
    tcase_add_test(dev, test_running_statistics_by_hand);
    tcase_add_test(dev, test_variance_with_a_large_mean);
    tcase_add_loop_test(dev, test_inference_matches_the_formula, 0, 2);
    tcase_add_loop_test(dev, test_deterministic_and_matches_reference, 0, 2);
    tcase_add_loop_test(dev, test_fused_relu_equals_relu_after_batchnorm, 0, 2);
    tcase_add_test(dev, test_invalid_arguments);
    suite_add_tcase(s, dev);
    return test_run(s, false);
}
