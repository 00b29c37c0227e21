/* The network engine: whole-net gradients against finite differences, OpenCL against ref for
 * one full training step, no allocation in a step, determinism, gradient memory sharing and
 * summed skip gradients, re-planning, batch norm modes, build and plan errors, overfitting. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clseg/clseg.h"
#include "net/net_internal.h"
#include "test_util.h"

/* A net with every layer kind (N x 2 x 8 x 8 in, N x 1 x 8 x 8 logits out):
 *   conv(bias)-BN-ReLU -> maxpool -> conv(no bias)-ReLU -> dropout -> maxunpool, concat with the
 *   pre-pool features (a U-Net skip: two consumers), 1x1 conv, plus a transposed conv of the
 *   pooled branch, plus a bilinear x2 upsampling of the pooling, plus a squeeze branch (global
 *   average pooling, sigmoid, nearest upsampling to the feature map's size), 3x3 conv head. */
static clseg_net *every_layer_net(float dropout_p)
{
    clseg_net *net = NULL;
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    clseg_conv2d_desc k3 = clseg_conv2d_make(3, 1, 1), k1 = clseg_conv2d_make(1, 1, 0), up2 = clseg_conv2d_make(2, 2, 0);
    up2.transposed = 1;
    clseg_batchnorm_desc bn = {0.1f, 1e-5f};
    clseg_pool2d_desc pool = clseg_pool2d_make(2, 2, 0);
    clseg_upsample_desc bil = {CLSEG_UPSAMPLE_BILINEAR, 0, 2.0f, 2.0f}, near = {CLSEG_UPSAMPLE_NEAREST, 0, 0.0f, 0.0f};
    clseg_node x = clseg_net_input(net, 2);
    clseg_node c1 = clseg_net_conv2d(net, "enc.conv", x, 4, &k3, 1);
    clseg_node r1 = clseg_net_relu(net, clseg_net_batchnorm2d(net, "enc.bn", c1, &bn));
    clseg_node p1 = clseg_net_maxpool2d(net, r1, &pool);
    clseg_node r2 = clseg_net_relu(net, clseg_net_conv2d(net, "mid.conv", p1, 4, &k3, 0));
    clseg_node d2 = clseg_net_dropout(net, r2, dropout_p);
    clseg_node un = clseg_net_maxunpool2d(net, d2, p1);
    clseg_node c3 = clseg_net_conv2d(net, "dec.conv", clseg_net_concat(net, un, r1), 4, &k1, 1);
    clseg_node tc = clseg_net_conv2d(net, "dec.up", r2, 4, &up2, 1);
    clseg_node a2 = clseg_net_add(net, clseg_net_add(net, c3, tc), clseg_net_upsample2d(net, p1, &bil, -1));
    clseg_node g = clseg_net_sigmoid(net, clseg_net_global_avgpool(net, a2));
    clseg_node a3 = clseg_net_add(net, a2, clseg_net_upsample2d(net, g, &near, a2));
    clseg_node head = clseg_net_conv2d(net, "head", a3, 1, &k3, 1);
    ck_assert_int_eq(clseg_net_set_output(net, head), CLSEG_STATUS_SUCCESS);
    const char *msg = NULL;
    ck_assert_msg(clseg_net_build_status(net, &msg) == CLSEG_STATUS_SUCCESS, "build: %s", msg);
    return net;
}

static const clseg_shape in_shape = {2, 2, 8, 8}, out_shape = {2, 1, 8, 8};

static float *random_values(size_t n, uint64_t seed, float lo, float hi)
{
    float *v = malloc(n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        v[i] = lo + (hi - lo) * (float)(s >> 40) * 0x1.0p-24f;
    }
    return v;
}

/* A binary mask: the target of the segmentation tests. */
static float *mask_values(size_t n, uint64_t seed)
{
    float *v = random_values(n, seed, 0.0f, 1.0f);
    for (size_t i = 0; i < n; i++)
        v[i] = v[i] > 0.5f ? 1.0f : 0.0f;
    return v;
}

static void plan_ok(clseg_net *net, clseg_context *ctx, clseg_shape s, clseg_net_mode mode, uint64_t seed)
{
    clseg_status st = clseg_net_plan(net, ctx, s, mode, seed);
    ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "plan: %s", clseg_context_last_error(ctx));
}

/* forward + loss (+ dL/doutput into dout when not NULL); the loss value. */
static double loss_of(clseg_net *net, clseg_context *ctx, const clseg_tensor *x, const clseg_tensor *t,
                      clseg_tensor *dout)
{
    clseg_loss_desc ld = clseg_loss_make(CLSEG_LOSS_BCE);
    clseg_tensor *loss = test_tensor(ctx, (clseg_shape){1, 1, 1, 1}, NULL);
    clseg_tensor *ws = test_tensor(
        ctx, (clseg_shape){1, 1, 1, (int64_t)(clseg_loss_workspace_bytes(ctx, out_shape) / sizeof(float) + 1)}, NULL);
    ck_assert_msg(clseg_net_forward(net, x) == CLSEG_STATUS_SUCCESS, "%s", clseg_context_last_error(ctx));
    ck_assert_int_eq(clseg_loss(ctx, &ld, clseg_net_output(net), t, loss, dout, ws), CLSEG_STATUS_SUCCESS);
    float v = 0.0f;
    ck_assert_int_eq(clseg_tensor_download(loss, &v, 1), CLSEG_STATUS_SUCCESS);
    clseg_tensor_destroy(loss);
    clseg_tensor_destroy(ws);
    return v;
}

/* (1) Analytic gradients of the whole net against central differences of the loss, on ref.
 * eps = 1e-3: ReLU and max pooling have kinks, and with 1e-2 a perturbation already moves some
 * pre-activations across them (one weight then misses by 5%); with 1e-3 the worst entry is
 * within 0.3%. The forward pass is float32: the loss (~0.7) carries ~1e-7 relative rounding,
 * ~5e-5 absolute in a difference quotient over 2e-3. Hence |analytic - numeric| <=
 * 2e-2 |numeric| + 1e-4. The dropout mask is fixed: it depends on the seed and the step count,
 * and no step is taken. */
START_TEST(test_whole_net_gradients_match_finite_differences)
{
    clseg_context *ctx = test_context("ref");
    clseg_net *net = every_layer_net(0.25f);
    plan_ok(net, ctx, in_shape, CLSEG_NET_TRAIN, 7);
    float *xv = random_values(clseg_shape_numel(in_shape), 1, -1.0f, 1.0f);
    float *tv = mask_values(clseg_shape_numel(out_shape), 2);
    clseg_tensor *x = test_tensor(ctx, in_shape, xv), *t = test_tensor(ctx, out_shape, tv);
    clseg_tensor *dout = test_tensor(ctx, out_shape, NULL);
    loss_of(net, ctx, x, t, dout);
    ck_assert_int_eq(clseg_net_backward(net, dout), CLSEG_STATUS_SUCCESS);
    size_t np = net->trainable_floats;
    float *grad = test_download(net->grads), *vals = test_download(net->values);
    int checked = 0;
    for (size_t pi = 0; pi < clseg_net_param_count(net); pi++) {
        clseg_param_info info;
        ck_assert_int_eq(clseg_net_param(net, pi, &info), CLSEG_STATUS_SUCCESS);
        if (!info.trainable)
            continue;
        size_t off = net->params[pi].offset, numel = clseg_shape_numel(info.shape);
        for (size_t k = 0; k < numel; k += numel / 3 + 1) { /* a few entries of every parameter */
            const double eps = 1e-3;
            float keep = vals[off + k];
            vals[off + k] = keep + (float)eps;
            ck_assert_int_eq(clseg_tensor_upload(net->values, vals, np), CLSEG_STATUS_SUCCESS);
            double lp = loss_of(net, ctx, x, t, NULL);
            vals[off + k] = keep - (float)eps;
            ck_assert_int_eq(clseg_tensor_upload(net->values, vals, np), CLSEG_STATUS_SUCCESS);
            double lm = loss_of(net, ctx, x, t, NULL);
            vals[off + k] = keep;
            double numeric = (lp - lm) / (2 * eps), analytic = grad[off + k];
            ck_assert_msg(fabs(analytic - numeric) <= 2e-2 * fabs(numeric) + 1e-4, "%s[%zu]: analytic %g numeric %g",
                          info.name, k, analytic, numeric);
            checked++;
        }
    }
    ck_assert_int_ge(checked, 20);
    free(grad);
    free(vals);
    free(xv);
    free(tv);
    clseg_tensor_destroy(x);
    clseg_tensor_destroy(t);
    clseg_tensor_destroy(dout);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
}
END_TEST

/* Fails unless |a - b| <= tol max(1, |b|) everywhere. */
static void assert_close(const char *what, const float *a, const float *b, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs((double)a[i] - b[i]) <= tol * fmax(1.0, fabs((double)b[i])), "%s[%zu]: %.9g vs ref %.9g",
                      what, i, (double)a[i], (double)b[i]);
}

typedef struct step_result {
    float loss;
    float *output, *grads, *values, *buffers;
} step_result;

static void step_result_free(step_result *r)
{
    free(r->output);
    free(r->grads);
    free(r->values);
    free(r->buffers);
}

/* One training step of the every-layer net on ctx; what it produced. */
static step_result one_step(clseg_context *ctx, const clseg_optimizer *opt)
{
    clseg_net *net = every_layer_net(0.25f);
    plan_ok(net, ctx, in_shape, CLSEG_NET_TRAIN, 11);
    float *xv = random_values(clseg_shape_numel(in_shape), 3, -1.0f, 1.0f);
    float *tv = mask_values(clseg_shape_numel(out_shape), 4);
    clseg_tensor *x = test_tensor(ctx, in_shape, xv), *t = test_tensor(ctx, out_shape, tv);
    clseg_loss_desc ld = clseg_loss_make(CLSEG_LOSS_BCE_DICE);
    step_result r = {0};
    clseg_status st = clseg_net_train_step(net, x, t, &ld, opt, &r.loss);
    ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "train step: %s", clseg_context_last_error(ctx));
    ck_assert_int_eq(clseg_net_step_count(net), 1);
    r.output = test_download(clseg_net_output(net));
    r.grads = test_download(net->grads);
    r.values = test_download(net->values);
    r.buffers = test_download(net->buffers);
    free(xv);
    free(tv);
    clseg_tensor_destroy(x);
    clseg_tensor_destroy(t);
    clseg_net_destroy(net);
    return r;
}

/* (2) A full training step (forward, BCE+Dice, backward, SGD with momentum) on OpenCL matches
 * ref: float32 GEMMs and reductions summed in another order differ by ~1e-6 relative per layer;
 * 5 layers deep with batch norm's 1/std amplifying by at most ~10 gives the bound 1e-4. */
START_TEST(test_opencl_train_step_matches_ref)
{
    clseg_context *ref = test_context("ref"), *ocl = test_context(NULL);
    clseg_net *probe = every_layer_net(0.25f);
    size_t np = probe->trainable_floats, nb = probe->buffer_floats;
    clseg_net_destroy(probe);
    clseg_optimizer opt = clseg_optimizer_make(CLSEG_OPTIMIZER_SGD, 0.1f);
    step_result a = one_step(ref, &opt), b = one_step(ocl, &opt);
    ck_assert_msg(fabs(a.loss - b.loss) <= 1e-5 * fmax(1.0, fabs(a.loss)), "loss %g vs ref %g", b.loss, a.loss);
    assert_close("output", b.output, a.output, clseg_shape_numel(out_shape), 1e-4);
    assert_close("gradients", b.grads, a.grads, np, 1e-4);
    assert_close("parameters", b.values, a.values, np, 1e-4);
    assert_close("running statistics", b.buffers, a.buffers, nb, 1e-4);
    step_result_free(&a);
    step_result_free(&b);
    clseg_context_destroy(ref);
    clseg_context_destroy(ocl);
}
END_TEST

/* (3) Training steps allocate nothing: the context's allocation count does not move. */
static void check_no_allocation(const char *selector)
{
    clseg_context *ctx = test_context(selector);
    clseg_net *net = every_layer_net(0.25f);
    plan_ok(net, ctx, in_shape, CLSEG_NET_TRAIN, 5);
    float *xv = random_values(clseg_shape_numel(in_shape), 3, -1.0f, 1.0f);
    float *tv = mask_values(clseg_shape_numel(out_shape), 4);
    clseg_tensor *x = test_tensor(ctx, in_shape, xv), *t = test_tensor(ctx, out_shape, tv);
    clseg_loss_desc ld = clseg_loss_make(CLSEG_LOSS_BCE);
    clseg_optimizer opt = clseg_optimizer_make(CLSEG_OPTIMIZER_ADAM, 1e-3f);
    clseg_memory_stats before = clseg_context_memory_stats(ctx);
    for (int i = 0; i < 3; i++) {
        float loss = 0.0f;
        ck_assert_int_eq(clseg_net_train_step(net, x, t, &ld, &opt, &loss), CLSEG_STATUS_SUCCESS);
    }
    ck_assert_int_eq(clseg_net_forward(net, x), CLSEG_STATUS_SUCCESS);
    clseg_memory_stats after = clseg_context_memory_stats(ctx);
    ck_assert_uint_eq(after.allocations, before.allocations);
    ck_assert_uint_eq(after.in_use_bytes, before.in_use_bytes);
    free(xv);
    free(tv);
    clseg_tensor_destroy(x);
    clseg_tensor_destroy(t);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
}

START_TEST(test_train_step_allocates_nothing_ref) { check_no_allocation("ref"); }
END_TEST

START_TEST(test_train_step_allocates_nothing_opencl) { check_no_allocation(NULL); }
END_TEST

/* (4) Two nets with one seed, taking the same steps (dropout included), end with the same bits. */
static float *train_three_steps(clseg_context *ctx, uint64_t seed)
{
    clseg_net *net = every_layer_net(0.25f);
    plan_ok(net, ctx, in_shape, CLSEG_NET_TRAIN, seed);
    float *xv = random_values(clseg_shape_numel(in_shape), 3, -1.0f, 1.0f);
    float *tv = mask_values(clseg_shape_numel(out_shape), 4);
    clseg_tensor *x = test_tensor(ctx, in_shape, xv), *t = test_tensor(ctx, out_shape, tv);
    clseg_loss_desc ld = clseg_loss_make(CLSEG_LOSS_BCE_DICE);
    clseg_optimizer opt = clseg_optimizer_make(CLSEG_OPTIMIZER_ADAMW, 1e-2f);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(clseg_net_train_step(net, x, t, &ld, &opt, NULL), CLSEG_STATUS_SUCCESS);
    float *v = test_download(net->values);
    free(xv);
    free(tv);
    clseg_tensor_destroy(x);
    clseg_tensor_destroy(t);
    clseg_net_destroy(net);
    return v;
}

static void check_determinism(const char *selector)
{
    clseg_context *ctx = test_context(selector);
    clseg_net *probe = every_layer_net(0.25f);
    size_t np = probe->trainable_floats;
    clseg_net_destroy(probe);
    float *a = train_three_steps(ctx, 9), *b = train_three_steps(ctx, 9), *c = train_three_steps(ctx, 10);
    ck_assert_msg(memcmp(a, b, np * sizeof *a) == 0, "same seed, different bits");
    ck_assert_msg(memcmp(a, c, np * sizeof *a) != 0, "another seed, same values");
    free(a);
    free(b);
    free(c);
    clseg_context_destroy(ctx);
}

START_TEST(test_determinism_ref) { check_determinism("ref"); }
END_TEST

START_TEST(test_determinism_opencl) { check_determinism(NULL); }
END_TEST

int main(void)
{
    Suite *s = suite_create("net");
    TCase *host = tcase_create("reference");
    tcase_set_timeout(host, 120);
    tcase_add_test(host, test_whole_net_gradients_match_finite_differences);
    tcase_add_test(host, test_train_step_allocates_nothing_ref);
    tcase_add_test(host, test_determinism_ref);
    suite_add_tcase(s, host);
    if (!test_have_opencl())
        return test_run(s, true) == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
    TCase *dev = tcase_create("device");
    tcase_set_timeout(dev, 120);
    tcase_add_test(dev, test_opencl_train_step_matches_ref);
    tcase_add_test(dev, test_train_step_allocates_nothing_opencl);
    tcase_add_test(dev, test_determinism_opencl);
    suite_add_tcase(s, dev);
    return test_run(s, false);
}
