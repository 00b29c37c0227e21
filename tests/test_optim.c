/* The optimiser family (SGD, Adam, AdamW): steps against numbers worked out by hand from
 * torch.optim's documented algorithms, exact plain SGD on integer-friendly values, the device
 * against the reference, argument errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static const char *selector;
static const char *const backends[] = {"ref", NULL}; /* NULL: the default device */

static clseg_tensor *tensor(clseg_context *ctx, size_t n, const float *values)
{
    clseg_tensor *t = NULL;
    ck_assert_int_eq(clseg_tensor_create(ctx, (clseg_shape){1, 1, 1, (int64_t)n}, &t), CLSEG_STATUS_SUCCESS);
    if (values != NULL)
        ck_assert_int_eq(clseg_tensor_upload(t, values, n), CLSEG_STATUS_SUCCESS);
    return t;
}

static float get(const clseg_tensor *t, size_t i)
{
    float v[8];
    ck_assert_uint_le(clseg_tensor_numel(t), 8);
    ck_assert_int_eq(clseg_tensor_download(t, v, clseg_tensor_numel(t)), CLSEG_STATUS_SUCCESS);
    return v[i];
}

static void assert_close(const char *what, float got, double want, double rtol)
{
    ck_assert_msg(fabs((double)got - want) <= rtol * fmax(1.0, fabs(want)), "%s: %.9g, %.9g expected", what,
                  (double)got, want);
}

/* lr 0.5 and values that are small integers or halves: every product and difference is exact,
 * so both backends must give exactly these numbers. */
START_TEST(test_plain_sgd_exact)
{
    for (int k = 0; k < 2; k++) {
        clseg_context *ctx = test_context(backends[k] == NULL ? selector : backends[k]);
        const float p0[] = {1, 2, -3, 4, 0.5f}, g[] = {2, -4, 6, 0.5f, -1};
        clseg_tensor *p = tensor(ctx, 5, p0), *tg = tensor(ctx, 5, g);
        clseg_sgd_desc plain = {0.5f, 0, 0, 0, 0}, decay = {0.5f, 0, 0, 0.5f, 0};
        ck_assert_int_eq(clseg_sgd_step(ctx, &plain, 1, p, tg, NULL), CLSEG_STATUS_SUCCESS);
        for (int i = 0; i < 5; i++)
            ck_assert_float_eq(get(p, (size_t)i), p0[i] - 0.5f * g[i]);
        /* step 2 with weight decay: g + 0.5 p, from p1 = {0, 4, -6, 3.75, 1} */
        ck_assert_int_eq(clseg_sgd_step(ctx, &decay, 2, p, tg, NULL), CLSEG_STATUS_SUCCESS);
        const float want[] = {-1, 5, -7.5f, 2.5625f, 1.25f};
        for (int i = 0; i < 5; i++)
            ck_assert_float_eq(get(p, (size_t)i), want[i]);
        clseg_tensor_destroy(p), clseg_tensor_destroy(tg);
        clseg_context_destroy(ctx);
    }
}
END_TEST

/* Three steps of one parameter from 1.0 with gradients 0.5, -0.25, 1.0, worked through
 * torch.optim.SGD's algorithm (b = g on step 1, then b = mu b + (1 - tau) g; nesterov uses
 * g + mu b). The velocity starts as NaN: step 1 must not read it. */
START_TEST(test_sgd_momentum_and_nesterov_by_hand)
{
    const float grads[3] = {0.5f, -0.25f, 1.0f};
    const double damped_p[3] = {0.95, 0.9175, 0.83825}, damped_v[3] = {0.5, 0.325, 0.7925};
    const double nesterov_p[3] = {0.886, 0.868066, 0.630906146}, nesterov_v[3] = {0.6, 0.3786, 1.4275466};
    const clseg_sgd_desc damped = {0.1f, 0.9f, 0.5f, 0, 0}, nesterov = {0.1f, 0.9f, 0, 0.1f, 1};
    for (int k = 0; k < 2; k++) {
        clseg_context *ctx = test_context(backends[k] == NULL ? selector : backends[k]);
        const clseg_sgd_desc *descs[2] = {&damped, &nesterov};
        const double *want_p[2] = {damped_p, nesterov_p}, *want_v[2] = {damped_v, nesterov_v};
        for (int d = 0; d < 2; d++) {
            clseg_tensor *p = tensor(ctx, 1, (const float[]){1.0f}), *v = tensor(ctx, 1, (const float[]){NAN});
            for (int s = 0; s < 3; s++) {
                clseg_tensor *g = tensor(ctx, 1, &grads[s]);
                ck_assert_int_eq(clseg_sgd_step(ctx, descs[d], s + 1, p, g, v), CLSEG_STATUS_SUCCESS);
                assert_close("param", get(p, 0), want_p[d][s], 1e-6);
                assert_close("velocity", get(v, 0), want_v[d][s], 1e-6);
                clseg_tensor_destroy(g);
            }
            clseg_tensor_destroy(p), clseg_tensor_destroy(v);
        }
        clseg_context_destroy(ctx);
    }
}
END_TEST

/* The same three gradients through torch.optim.Adam / AdamW (lr 0.1, betas 0.9 and 0.999,
 * eps 1e-8): m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
 * p -= lr / (1 - b1^t) m / (sqrt(v) / sqrt(1 - b2^t) + eps); Adam's weight decay adds wd p to
 * g, AdamW's multiplies p by 1 - lr wd first. */
START_TEST(test_adam_and_adamw_by_hand)
{
    const float grads[3] = {0.5f, -0.25f, 1.0f};
    static const double want[3][3][3] = {
        /* {param, m, v} after steps 1..3 */
        {{0.900000002, 0.05, 0.00025}, {0.873366298708, 0.02, 0.00031225}, {0.807555139677, 0.118, 0.00131193775}},
        {{0.900000001667, 0.06, 0.00036},
         {0.854441367462, 0.0380000000167, 0.000385239999947},
         {0.781504399863, 0.14274441369, 0.00156304373394}},
        {{0.890000002, 0.05, 0.00025}, {0.854466298688, 0.02, 0.00031225}, {0.78011047667, 0.118, 0.00131193775}},
    };
    const clseg_adam_desc descs[3] = {
        {0.1f, 0.9f, 0.999f, 1e-8f, 0, 0}, {0.1f, 0.9f, 0.999f, 1e-8f, 0.1f, 0}, {0.1f, 0.9f, 0.999f, 1e-8f, 0.1f, 1}};
    const char *names[3] = {"Adam", "Adam wd 0.1", "AdamW wd 0.1"};
    for (int k = 0; k < 2; k++) {
        clseg_context *ctx = test_context(backends[k] == NULL ? selector : backends[k]);
        for (int d = 0; d < 3; d++) {
            clseg_tensor *p = tensor(ctx, 1, (const float[]){1.0f}), *m = tensor(ctx, 1, (const float[]){0});
            clseg_tensor *v = tensor(ctx, 1, (const float[]){0});
            for (int s = 0; s < 3; s++) {
                clseg_tensor *g = tensor(ctx, 1, &grads[s]);
                ck_assert_int_eq(clseg_adam_step(ctx, &descs[d], s + 1, p, g, m, v), CLSEG_STATUS_SUCCESS);
                /* the float32 betas differ from 0.9 and 0.999 by 2e-8; 1e-6 covers that */
                assert_close(names[d], get(p, 0), want[d][s][0], 1e-6);
                assert_close(names[d], get(m, 0), want[d][s][1], 1e-6);
                assert_close(names[d], get(v, 0), want[d][s][2], 1e-6);
                clseg_tensor_destroy(g);
            }
            clseg_tensor_destroy(p), clseg_tensor_destroy(m), clseg_tensor_destroy(v);
        }
        clseg_context_destroy(ctx);
    }
}
END_TEST

/* Five Nesterov and five AdamW steps on 10007 parameters, device against reference, and the
 * device gives the same bits twice. */
START_TEST(test_device_matches_reference_over_steps)
{
    enum { N = 10007 };
    float *init = malloc(N * sizeof *init), *grad = malloc(N * sizeof *grad), *out[3][4];
    ck_assert(init != NULL && grad != NULL);
    for (int i = 0; i < N; i++)
        init[i] = (float)((i * 37) % 101) / 50.0f - 1.0f, grad[i] = (float)((i * 53) % 89) / 44.0f - 1.0f;
    const char *selectors[3] = {selector, selector, "ref"};
    const clseg_sgd_desc sgd = {0.05f, 0.9f, 0, 1e-3f, 1};
    const clseg_adam_desc adamw = {1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f, 1};
    for (int k = 0; k < 3; k++) {
        clseg_context *ctx = test_context(selectors[k]);
        clseg_tensor *p = tensor(ctx, N, init), *g = tensor(ctx, N, grad), *vel = tensor(ctx, N, NULL);
        clseg_tensor *q = tensor(ctx, N, init), *m = tensor(ctx, N, NULL), *v = tensor(ctx, N, NULL);
        ck_assert_int_eq(clseg_fill(ctx, m, 0.0f), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_fill(ctx, v, 0.0f), CLSEG_STATUS_SUCCESS);
        for (int s = 1; s <= 5; s++) {
            ck_assert_int_eq(clseg_sgd_step(ctx, &sgd, s, p, g, vel), CLSEG_STATUS_SUCCESS);
            ck_assert_int_eq(clseg_adam_step(ctx, &adamw, s, q, g, m, v), CLSEG_STATUS_SUCCESS);
        }
        clseg_tensor *t[4] = {p, vel, q, v};
        for (int i = 0; i < 4; i++) {
            out[k][i] = malloc(N * sizeof(float));
            ck_assert_ptr_nonnull(out[k][i]);
            ck_assert_int_eq(clseg_tensor_download(t[i], out[k][i], N), CLSEG_STATUS_SUCCESS);
        }
        clseg_tensor_destroy(p), clseg_tensor_destroy(g), clseg_tensor_destroy(vel);
        clseg_tensor_destroy(q), clseg_tensor_destroy(m), clseg_tensor_destroy(v);
        clseg_context_destroy(ctx);
    }
    for (int i = 0; i < 4; i++) {
        ck_assert_mem_eq(out[0][i], out[1][i], N * sizeof(float));
        for (int j = 0; j < N; j++)
            assert_close("device against reference", out[0][i][j], out[2][i][j], 1e-5);
    }
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 4; i++)
            free(out[k][i]);
    free(init), free(grad);
}
END_TEST

START_TEST(test_invalid_arguments)
{
    clseg_context *ctx = test_context(selector);
    clseg_tensor *p = tensor(ctx, 6, NULL), *g = tensor(ctx, 6, NULL), *s = tensor(ctx, 6, NULL);
    clseg_tensor *t = tensor(ctx, 6, NULL), *short_ = tensor(ctx, 5, NULL);
    const clseg_sgd_desc ok = {0.1f, 0.9f, 0, 0, 0};
    const clseg_sgd_desc bad_sgd[] = {
        {-0.1f, 0, 0, 0, 0},     {INFINITY, 0, 0, 0, 0}, {NAN, 0, 0, 0, 0},
        {0.1f, 1.0f, 0, 0, 0},   {0.1f, -0.1f, 0, 0, 0}, {0.1f, 0.9f, 1.5f, 0, 0},
        {0.1f, 0, 0, -1e-4f, 0}, {0.1f, 0, 0, 0, 1},     {0.1f, 0.9f, 0.1f, 0, 1},
    };
    for (size_t i = 0; i < sizeof bad_sgd / sizeof bad_sgd[0]; i++)
        ck_assert_msg(clseg_sgd_step(ctx, &bad_sgd[i], 1, p, g, s) == CLSEG_STATUS_INVALID_ARGUMENT, "sgd case %zu", i);
    ck_assert_int_eq(clseg_sgd_step(ctx, &bad_sgd[8], 1, p, g, s), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "nesterov needs momentum > 0 and dampening 0"));
    ck_assert_int_eq(clseg_sgd_step(ctx, &ok, 0, p, g, s), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_sgd_step(ctx, NULL, 1, p, g, s), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_sgd_step(ctx, &ok, 1, p, g, NULL), CLSEG_STATUS_INVALID_ARGUMENT); /* momentum needs v */
    ck_assert_int_eq(clseg_sgd_step(ctx, &ok, 1, NULL, g, s), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_sgd_step(ctx, &ok, 1, p, short_, s), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_int_eq(clseg_sgd_step(ctx, &ok, 1, p, g, short_), CLSEG_STATUS_SHAPE_MISMATCH);
    const clseg_adam_desc good = {1e-3f, 0.9f, 0.999f, 1e-8f, 0, 0};
    const clseg_adam_desc bad_adam[] = {
        {-1e-3f, 0.9f, 0.999f, 1e-8f, 0, 0}, {1e-3f, 1.0f, 0.999f, 1e-8f, 0, 0}, {1e-3f, 0.9f, 1.0f, 1e-8f, 0, 0},
        {1e-3f, -0.1f, 0.999f, 1e-8f, 0, 0}, {1e-3f, 0.9f, 0.999f, 0.0f, 0, 0},  {1e-3f, 0.9f, 0.999f, NAN, 0, 0},
        {1e-3f, 0.9f, 0.999f, 1e-8f, -1, 1},
    };
    for (size_t i = 0; i < sizeof bad_adam / sizeof bad_adam[0]; i++)
        ck_assert_msg(clseg_adam_step(ctx, &bad_adam[i], 1, p, g, s, t) == CLSEG_STATUS_INVALID_ARGUMENT,
                      "adam case %zu", i);
    ck_assert_ptr_nonnull(strstr(clseg_context_last_error(ctx), "weight_decay is -1"));
    ck_assert_int_eq(clseg_adam_step(ctx, &good, 0, p, g, s, t), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_adam_step(ctx, &good, 1, p, g, s, NULL), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_int_eq(clseg_adam_step(ctx, &good, 1, p, g, short_, t), CLSEG_STATUS_SHAPE_MISMATCH);
    clseg_context *other = test_context("ref");
    clseg_tensor *foreign = tensor(other, 6, NULL);
    ck_assert_int_eq(clseg_adam_step(ctx, &good, 1, p, foreign, s, t), CLSEG_STATUS_CONTEXT_MISMATCH);
    clseg_tensor_destroy(foreign);
    clseg_context_destroy(other);
    clseg_tensor_destroy(p), clseg_tensor_destroy(g), clseg_tensor_destroy(s), clseg_tensor_destroy(t);
    clseg_tensor_destroy(short_);
    clseg_context_destroy(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("optim");
    if (!test_have_opencl()) {
        /* the reference backend alone */
        TCase *ref = tcase_create("reference");
        selector = "ref";
        tcase_add_test(ref, test_plain_sgd_exact);
        tcase_add_test(ref, test_sgd_momentum_and_nesterov_by_hand);
        tcase_add_test(ref, test_adam_and_adamw_by_hand);
        tcase_add_test(ref, test_invalid_arguments);
        suite_add_tcase(s, ref);
        return test_run(s, true) == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
    }
    TCase *dev = tcase_create("device and reference");
    tcase_add_test(dev, test_plain_sgd_exact);
    tcase_add_test(dev, test_sgd_momentum_and_nesterov_by_hand);
    tcase_add_test(dev, test_adam_and_adamw_by_hand);
    tcase_add_test(dev, test_device_matches_reference_over_steps);
    tcase_add_test(dev, test_invalid_arguments);
    suite_add_tcase(s, dev);
    return test_run(s, false);
}
