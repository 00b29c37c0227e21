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
static clseg_net *build_every_layer(float dropout_p, bool with_bn)
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
    clseg_node r1 = clseg_net_relu(net, with_bn ? clseg_net_batchnorm2d(net, "enc.bn", c1, &bn) : c1);
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

static clseg_net *every_layer_net(float dropout_p) { return build_every_layer(dropout_p, true); }

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
        ctx, (clseg_shape){1, 1, 1, (int64_t)(clseg_loss_workspace_bytes(ctx, clseg_tensor_shape(t)) / sizeof(float) + 1)},
        NULL);
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
static void gradcheck_net(clseg_net *net, clseg_shape xs, int min_checked)
{
    clseg_context *ctx = test_context("ref");
    plan_ok(net, ctx, xs, CLSEG_NET_TRAIN, 7);
    clseg_shape ys = clseg_net_output_shape(net);
    float *xv = random_values(clseg_shape_numel(xs), 1, -1.0f, 1.0f);
    float *tv = mask_values(clseg_shape_numel(ys), 2);
    clseg_tensor *x = test_tensor(ctx, xs, xv), *t = test_tensor(ctx, ys, tv);
    clseg_tensor *dout = test_tensor(ctx, ys, NULL);
    loss_of(net, ctx, x, t, dout);
    /* every gradient must be written before it is read: first writers overwrite (beta 0) */
    for (size_t i = 0; i < net->plan.n_grad_slots; i++)
        ck_assert_int_eq(clseg_fill(ctx, net->plan.grad_slots[i], NAN), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_fill(ctx, net->grads, NAN), CLSEG_STATUS_SUCCESS);
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
    ck_assert_int_ge(checked, min_checked);
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

START_TEST(test_whole_net_gradients_match_finite_differences) { gradcheck_net(every_layer_net(0.25f), in_shape, 20); }
END_TEST

/* A layer that reads one tensor twice (concat(r, r), add(h, h)), a residual block, and a batch
 * norm and a concat on the net's input (whose gradient the plan then keeps): the same check. */
START_TEST(test_gradients_of_repeated_inputs)
{
    clseg_net *net = NULL;
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    clseg_conv2d_desc k3 = clseg_conv2d_make(3, 1, 1), k1 = clseg_conv2d_make(1, 1, 0);
    clseg_batchnorm_desc bn = {0.1f, 1e-5f};
    clseg_node x = clseg_net_input(net, 2);
    clseg_node b = clseg_net_batchnorm2d(net, "in.bn", x, &bn);
    clseg_node r = clseg_net_sigmoid(net, clseg_net_conv2d(net, "a", clseg_net_concat(net, b, x), 3, &k3, 1));
    clseg_node c = clseg_net_conv2d(net, "b", clseg_net_concat(net, r, r), 2, &k1, 0);
    /* a residual block: the add runs in place over the conv's output, the ReLU over the add's */
    clseg_node h = clseg_net_relu(net, clseg_net_add(net, clseg_net_conv2d(net, "res", c, 2, &k3, 0), c));
    clseg_node y = clseg_net_conv2d(net, "head", clseg_net_relu(net, clseg_net_add(net, h, h)), 1, &k3, 1);
    ck_assert_int_eq(clseg_net_set_output(net, y), CLSEG_STATUS_SUCCESS);
    gradcheck_net(net, (clseg_shape){2, 2, 5, 4}, 10);
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
    for (size_t i = 0; i < net->plan.n_grad_slots; i++) /* nothing may read a gradient before its first write */
        ck_assert_int_eq(clseg_fill(ctx, net->plan.grad_slots[i], NAN), CLSEG_STATUS_SUCCESS);
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

/* (5a) Gradient memory is shared, and activation memory too in inference; the plan's figures
 * are what plan allocates (and what the estimate predicts). */
START_TEST(test_memory_is_shared_and_accounted)
{
    clseg_context *ctx = test_context("ref");
    clseg_net *net = every_layer_net(0.25f);
    clseg_net_memory est;
    clseg_memory_stats before = clseg_context_memory_stats(ctx);
    ck_assert_int_eq(clseg_net_plan_estimate(net, ctx, in_shape, CLSEG_NET_TRAIN, &est), CLSEG_STATUS_SUCCESS);
    ck_assert_uint_eq(clseg_context_memory_stats(ctx).allocations, before.allocations);
    plan_ok(net, ctx, in_shape, CLSEG_NET_TRAIN, 1);
    clseg_memory_stats after = clseg_context_memory_stats(ctx);
    clseg_net_memory m = clseg_net_memory_plan(net);
    ck_assert_uint_eq(m.total, m.params + m.grads + m.optimizer + m.activations + m.workspace);
    ck_assert_uint_eq(after.in_use_bytes - before.in_use_bytes, m.total);
    ck_assert_uint_eq(est.total, m.total);
    ck_assert_uint_eq(m.optimizer, 2 * (uint64_t)net->trainable_floats * sizeof(float));
    uint64_t slots = 0;
    for (size_t i = 0; i < net->plan.n_grad_slots; i++)
        slots += net->plan.grad_slot_floats[i] * sizeof(float);
    ck_assert_msg(slots < net->plan.grad_unshared_bytes, "gradient slots %llu bytes, unshared %llu",
                  (unsigned long long)slots, (unsigned long long)net->plan.grad_unshared_bytes);
    ck_assert_uint_eq(m.grads, net->trainable_floats * sizeof(float) + slots +
                                   clseg_shape_numel(out_shape) * sizeof(float));
    /* inference: the activations share memory as well */
    plan_ok(net, ctx, in_shape, CLSEG_NET_INFER, 1);
    uint64_t act = 0;
    for (size_t i = 0; i < net->plan.n_act_slots; i++)
        act += net->plan.act_slot_floats[i] * sizeof(float);
    ck_assert_msg(act < net->plan.act_unshared_bytes / 2, "activation slots %llu bytes, unshared %llu",
                  (unsigned long long)act, (unsigned long long)net->plan.act_unshared_bytes);
    clseg_net_destroy(net);
    ck_assert_uint_eq(clseg_context_memory_stats(ctx).in_use_bytes, before.in_use_bytes);
    clseg_context_destroy(ctx);
}
END_TEST

/* (5b) A tensor read by two layers (a U-Net skip, a residual) gets the sum of both gradients:
 * the net's gradient of the first conv equals one computed with the ops by hand, bit for bit
 * (the two contributions are added once, and a + b == b + a). */
START_TEST(test_skip_gradients_are_summed)
{
    clseg_context *ctx = test_context("ref");
    clseg_net *net = NULL;
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    clseg_conv2d_desc k3 = clseg_conv2d_make(3, 1, 1), k1 = clseg_conv2d_make(1, 1, 0);
    clseg_node x = clseg_net_input(net, 2);
    clseg_node r = clseg_net_relu(net, clseg_net_conv2d(net, "a", x, 3, &k3, 1));
    clseg_node b = clseg_net_conv2d(net, "b", r, 2, &k3, 0), c = clseg_net_conv2d(net, "c", r, 2, &k1, 1);
    ck_assert_int_eq(clseg_net_set_output(net, clseg_net_add(net, b, c)), CLSEG_STATUS_SUCCESS);
    clseg_shape xs = {2, 2, 5, 6}, ys = {2, 2, 5, 6}, rs = {2, 3, 5, 6};
    plan_ok(net, ctx, xs, CLSEG_NET_TRAIN, 3);
    float *xv = random_values(clseg_shape_numel(xs), 5, -1.0f, 1.0f);
    float *dv = random_values(clseg_shape_numel(ys), 6, -1.0f, 1.0f);
    clseg_tensor *xt = test_tensor(ctx, xs, xv), *dy = test_tensor(ctx, ys, dv);
    ck_assert_int_eq(clseg_net_forward(net, xt), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_backward(net, dy), CLSEG_STATUS_SUCCESS);
    clseg_param_info wa, ba, wb, wc, bc;
    ck_assert_int_eq(clseg_net_param(net, 0, &wa), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_param(net, 1, &ba), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_param(net, 2, &wb), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_param(net, 3, &wc), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_param(net, 4, &bc), CLSEG_STATUS_SUCCESS);
    ck_assert_str_eq(wc.name, "c.weight");
    ck_assert_str_eq(bc.name, "c.bias");
    /* by hand */
    size_t wsf = clseg_conv2d_workspace_bytes(ctx, &k3, xs, wa.shape) + clseg_conv2d_workspace_bytes(ctx, &k3, rs, wb.shape) + 64;
    clseg_tensor *ws = test_tensor(ctx, (clseg_shape){1, 1, 1, (int64_t)wsf}, NULL);
    clseg_tensor *rt = test_tensor(ctx, rs, NULL), *dr = test_tensor(ctx, rs, NULL);
    clseg_tensor *dwa = test_tensor(ctx, wa.shape, NULL), *dba = test_tensor(ctx, ba.shape, NULL);
    ck_assert_int_eq(clseg_conv2d_forward(ctx, &k3, xt, wa.value, ba.value, rt, ws), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_relu_forward(ctx, rt, rt), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_conv2d_backward_data(ctx, &k3, dy, wb.value, dr, 0.0f, ws), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_conv2d_backward_data(ctx, &k1, dy, wc.value, dr, 1.0f, ws), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_relu_backward(ctx, rt, dr, dr, 0.0f), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_conv2d_backward_weights(ctx, &k3, xt, dr, dwa, dba, 0.0f, ws), CLSEG_STATUS_SUCCESS);
    float *got = test_download(wa.grad), *want = test_download(dwa);
    float *gotb = test_download(ba.grad), *wantb = test_download(dba);
    ck_assert_mem_eq(got, want, clseg_shape_numel(wa.shape) * sizeof(float));
    ck_assert_mem_eq(gotb, wantb, clseg_shape_numel(ba.shape) * sizeof(float));
    /* the add passes dy on unchanged: c's bias gradient is dy summed per channel */
    float *gbc = test_download(bc.grad);
    for (int ch = 0; ch < 2; ch++) {
        double sum = 0.0;
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 30; i++)
                sum += dv[(n * 2 + ch) * 30 + i];
        ck_assert_msg(fabs(gbc[ch] - sum) <= 1e-5 * fmax(1.0, fabs(sum)), "c.bias grad %g, sum %g", gbc[ch], sum);
    }
    free(got);
    free(want);
    free(gotb);
    free(wantb);
    free(gbc);
    free(xv);
    free(dv);
    clseg_tensor *all[] = {xt, dy, ws, rt, dr, dwa, dba};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clseg_tensor_destroy(all[i]);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
}
END_TEST

/* (6a) A new plan (another shape, then inference) keeps the parameters and the step count. */
START_TEST(test_replan_keeps_parameters)
{
    clseg_context *ctx = test_context("ref");
    clseg_net *net = every_layer_net(0.25f);
    plan_ok(net, ctx, in_shape, CLSEG_NET_TRAIN, 4);
    float *xv = random_values(clseg_shape_numel(in_shape), 3, -1.0f, 1.0f);
    float *tv = mask_values(clseg_shape_numel(out_shape), 4);
    clseg_tensor *x = test_tensor(ctx, in_shape, xv), *t = test_tensor(ctx, out_shape, tv);
    clseg_loss_desc ld = clseg_loss_make(CLSEG_LOSS_BCE);
    clseg_optimizer opt = clseg_optimizer_make(CLSEG_OPTIMIZER_ADAM, 1e-2f);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(clseg_net_train_step(net, x, t, &ld, &opt, NULL), CLSEG_STATUS_SUCCESS);
    float *v0 = test_download(net->values), *b0 = test_download(net->buffers);
    clseg_shape big = {1, 2, 16, 12};
    plan_ok(net, ctx, big, CLSEG_NET_INFER, 99); /* the seed only matters on the first plan */
    ck_assert_int_eq(clseg_net_step_count(net), 2);
    clseg_shape os = clseg_net_output_shape(net);
    ck_assert(os.n == 1 && os.c == 1 && os.h == 16 && os.w == 12);
    float *v1 = test_download(net->values), *b1 = test_download(net->buffers);
    ck_assert_mem_eq(v0, v1, net->trainable_floats * sizeof(float));
    ck_assert_mem_eq(b0, b1, net->buffer_floats * sizeof(float));
    float *bv = random_values(clseg_shape_numel(big), 8, -1.0f, 1.0f);
    clseg_tensor *bx = test_tensor(ctx, big, bv);
    ck_assert_int_eq(clseg_net_forward(net, bx), CLSEG_STATUS_SUCCESS);
    /* inference leaves the running statistics alone */
    float *b2 = test_download(net->buffers);
    ck_assert_mem_eq(b0, b2, net->buffer_floats * sizeof(float));
    /* and training again continues from the same values and moments */
    plan_ok(net, ctx, in_shape, CLSEG_NET_TRAIN, 4);
    ck_assert_int_eq(clseg_net_train_step(net, x, t, &ld, &opt, NULL), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_step_count(net), 3);
    float *all[] = {xv, tv, v0, b0, v1, b1, bv, b2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        free(all[i]);
    clseg_tensor_destroy(x);
    clseg_tensor_destroy(t);
    clseg_tensor_destroy(bx);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
}
END_TEST

/* (6b) Batch norm: training normalises with the batch's statistics and moves the running ones;
 * inference uses the running ones (at initialisation: mean 0, variance 1). */
START_TEST(test_batchnorm_train_and_infer)
{
    clseg_context *ctx = test_context("ref");
    clseg_net *net = NULL;
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    clseg_batchnorm_desc bn = {0.1f, 1e-5f};
    ck_assert_int_eq(clseg_net_set_output(net, clseg_net_batchnorm2d(net, "bn", clseg_net_input(net, 2), &bn)),
                     CLSEG_STATUS_SUCCESS);
    clseg_shape s = {3, 2, 4, 5};
    size_t n = clseg_shape_numel(s);
    float *xv = random_values(n, 12, 1.0f, 3.0f); /* mean about 2 */
    clseg_tensor *x = test_tensor(ctx, s, xv);
    plan_ok(net, ctx, s, CLSEG_NET_INFER, 1);
    ck_assert_int_eq(clseg_net_forward(net, x), CLSEG_STATUS_SUCCESS);
    float *y = test_download(clseg_net_output(net));
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(y[i] - xv[i] / sqrt(1.0 + 1e-5)) <= 1e-6, "infer %zu: %g from %g", i, y[i], xv[i]);
    free(y);
    plan_ok(net, ctx, s, CLSEG_NET_TRAIN, 1);
    ck_assert_int_eq(clseg_net_forward(net, x), CLSEG_STATUS_SUCCESS);
    y = test_download(clseg_net_output(net));
    float *run = test_download(net->buffers); /* running_mean[2], running_var[2] */
    for (int c = 0; c < 2; c++) {
        double mean = 0.0, ymean = 0.0, yvar = 0.0;
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < 20; i++) {
                mean += xv[(b * 2 + c) * 20 + i] / 60.0;
                ymean += y[(b * 2 + c) * 20 + i] / 60.0;
            }
        for (int b = 0; b < 3; b++)
            for (int i = 0; i < 20; i++)
                yvar += pow(y[(b * 2 + c) * 20 + i] - ymean, 2) / 60.0;
        ck_assert_msg(fabs(ymean) < 1e-5 && fabs(yvar - 1.0) < 1e-3, "channel %d: mean %g var %g", c, ymean, yvar);
        ck_assert_msg(fabs(run[c] - 0.1 * mean) < 1e-5, "running mean %g, batch mean %g", run[c], mean);
    }
    free(y);
    free(run);
    free(xv);
    clseg_tensor_destroy(x);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
}
END_TEST

static void assert_build_error(clseg_net *net, clseg_status want, const char *needle)
{
    const char *msg = NULL;
    ck_assert_int_eq(clseg_net_build_status(net, &msg), want);
    ck_assert_msg(strstr(msg, needle) != NULL, "message '%s' lacks '%s'", msg, needle);
}

/* (7) Build errors are sticky and name the layer; plan and run errors are statuses with
 * messages on the context. */
START_TEST(test_build_and_plan_errors)
{
    clseg_conv2d_desc k3 = clseg_conv2d_make(3, 1, 1);
    clseg_net *net = NULL;
    /* an unknown node, then later builders just fail: the first message stays */
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    clseg_node x = clseg_net_input(net, 3);
    ck_assert_int_lt(clseg_net_conv2d(net, "enc1.conv", 7, 4, &k3, 0), 0);
    ck_assert_int_lt(clseg_net_relu(net, x), 0);
    assert_build_error(net, CLSEG_STATUS_INVALID_ARGUMENT, "enc1.conv");
    ck_assert_int_ne(clseg_net_set_output(net, x), CLSEG_STATUS_SUCCESS);
    clseg_net_destroy(net);
    /* a negative node (what a failed builder returns) */
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    x = clseg_net_input(net, 3);
    ck_assert_int_lt(clseg_net_batchnorm2d(net, "bn1", -1, &(clseg_batchnorm_desc){0.1f, 1e-5f}), 0);
    assert_build_error(net, CLSEG_STATUS_INVALID_ARGUMENT, "bn1");
    clseg_net_destroy(net);
    /* names are unique; add needs equal channels; unpool needs a pooling node; one input */
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    x = clseg_net_input(net, 3);
    clseg_node a = clseg_net_conv2d(net, "a", x, 4, &k3, 1);
    ck_assert_int_lt(clseg_net_conv2d(net, "a", a, 4, &k3, 1), 0);
    assert_build_error(net, CLSEG_STATUS_INVALID_ARGUMENT, "'a'");
    clseg_net_destroy(net);
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    x = clseg_net_input(net, 3);
    a = clseg_net_conv2d(net, "a", x, 4, &k3, 1);
    ck_assert_int_lt(clseg_net_add(net, a, x), 0);
    assert_build_error(net, CLSEG_STATUS_SHAPE_MISMATCH, "channels");
    clseg_net_destroy(net);
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    x = clseg_net_input(net, 3);
    ck_assert_int_lt(clseg_net_maxunpool2d(net, x, x), 0);
    assert_build_error(net, CLSEG_STATUS_INVALID_ARGUMENT, "maxpool2d");
    clseg_net_destroy(net);
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    clseg_net_input(net, 3);
    ck_assert_int_lt(clseg_net_input(net, 3), 0);
    clseg_net_destroy(net);

    /* plan errors: a concat of two sizes, the wrong channels, no output */
    clseg_context *ctx = test_context("ref");
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    x = clseg_net_input(net, 3);
    clseg_pool2d_desc pd = clseg_pool2d_make(2, 2, 0);
    clseg_node p = clseg_net_maxpool2d(net, x, &pd);
    clseg_node cat = clseg_net_concat(net, x, p);
    ck_assert_int_eq(clseg_net_plan(net, ctx, (clseg_shape){1, 3, 8, 8}, CLSEG_NET_INFER, 1),
                     CLSEG_STATUS_INVALID_ARGUMENT); /* no output yet */
    ck_assert_int_eq(clseg_net_set_output(net, cat), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_plan(net, ctx, (clseg_shape){1, 3, 8, 8}, CLSEG_NET_INFER, 1),
                     CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_msg(strstr(clseg_context_last_error(ctx), "concat (node 2)") != NULL, "%s",
                  clseg_context_last_error(ctx));
    clseg_net_memory mem;
    ck_assert_int_eq(clseg_net_plan_estimate(net, NULL, (clseg_shape){1, 3, 8, 8}, CLSEG_NET_TRAIN, &mem),
                     CLSEG_STATUS_SHAPE_MISMATCH);
    clseg_net_destroy(net);

    net = every_layer_net(0.0f);
    ck_assert_int_eq(clseg_net_plan(net, ctx, (clseg_shape){2, 3, 8, 8}, CLSEG_NET_TRAIN, 1),
                     CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_msg(strstr(clseg_context_last_error(ctx), "channels") != NULL, "%s", clseg_context_last_error(ctx));
    /* an odd size that the unpooling cannot restore: 7 -> 3 -> 6 != 7 */
    ck_assert_int_eq(clseg_net_plan(net, ctx, (clseg_shape){2, 2, 7, 8}, CLSEG_NET_TRAIN, 1),
                     CLSEG_STATUS_SHAPE_MISMATCH);
    /* running before planning, backward on an inference plan, wrong shapes and contexts */
    clseg_tensor *in = test_tensor(ctx, in_shape, NULL), *dout = test_tensor(ctx, out_shape, NULL);
    ck_assert_int_eq(clseg_net_forward(net, in), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_ptr_null(clseg_net_output(net));
    plan_ok(net, ctx, in_shape, CLSEG_NET_INFER, 1);
    ck_assert_int_eq(clseg_net_forward(net, in), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_backward(net, dout), CLSEG_STATUS_INVALID_ARGUMENT);
    ck_assert_msg(strstr(clseg_context_last_error(ctx), "CLSEG_NET_TRAIN") != NULL, "%s", clseg_context_last_error(ctx));
    clseg_optimizer opt = clseg_optimizer_make(CLSEG_OPTIMIZER_SGD, 0.1f);
    ck_assert_int_eq(clseg_net_optimizer_step(net, &opt), CLSEG_STATUS_INVALID_ARGUMENT);
    clseg_tensor *wrong = test_tensor(ctx, (clseg_shape){2, 2, 8, 9}, NULL);
    ck_assert_int_eq(clseg_net_forward(net, wrong), CLSEG_STATUS_SHAPE_MISMATCH);
    clseg_context *other = test_context("ref");
    clseg_tensor *elsewhere = test_tensor(other, in_shape, NULL);
    ck_assert_int_eq(clseg_net_forward(net, elsewhere), CLSEG_STATUS_CONTEXT_MISMATCH);
    clseg_tensor_destroy(elsewhere);
    clseg_context_destroy(other);
    /* a training plan: the target must have the output's shape */
    plan_ok(net, ctx, in_shape, CLSEG_NET_TRAIN, 1);
    clseg_loss_desc ld = clseg_loss_make(CLSEG_LOSS_BCE);
    ck_assert_int_eq(clseg_net_train_step(net, in, in, &ld, &opt, NULL), CLSEG_STATUS_SHAPE_MISMATCH);
    ck_assert_msg(strstr(clseg_context_last_error(ctx), "target") != NULL, "%s", clseg_context_last_error(ctx));
    ck_assert_int_eq(clseg_net_step_count(net), 0);
    clseg_tensor_destroy(wrong);
    clseg_tensor_destroy(in);
    clseg_tensor_destroy(dout);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
}
END_TEST

/* Parameters in build order with PyTorch names and dims, layers with shapes and flops,
 * metadata, optimiser names. */
START_TEST(test_introspection)
{
    clseg_net *net = every_layer_net(0.1f);
    ck_assert_int_eq(clseg_net_param_count(net), 13);
    const char *names[] = {"enc.conv.weight", "enc.conv.bias", "enc.bn.weight", "enc.bn.bias",
                           "enc.bn.running_mean", "enc.bn.running_var", "mid.conv.weight", "dec.conv.weight",
                           "dec.conv.bias", "dec.up.weight", "dec.up.bias", "head.weight", "head.bias"};
    int64_t trainable = 0;
    for (size_t i = 0; i < 13; i++) {
        clseg_param_info p;
        ck_assert_int_eq(clseg_net_param(net, i, &p), CLSEG_STATUS_SUCCESS);
        ck_assert_str_eq(p.name, names[i]);
        ck_assert_ptr_null(p.value);
        if (p.trainable)
            trainable += (int64_t)clseg_shape_numel(p.shape);
    }
    clseg_param_info p;
    ck_assert_int_eq(clseg_net_param(net, 9, &p), CLSEG_STATUS_SUCCESS); /* transposed: (C_in, C_out, kh, kw) */
    ck_assert(p.dims == 4 && p.shape.n == 4 && p.shape.c == 4 && p.shape.h == 2 && p.shape.w == 2);
    ck_assert_int_eq(clseg_net_param(net, 4, &p), CLSEG_STATUS_SUCCESS);
    ck_assert(p.dims == 1 && !p.trainable && p.shape.n == 1 && p.shape.w == 4);
    ck_assert_int_eq(clseg_net_trainable_scalars(net), trainable);
    ck_assert_int_eq(trainable, (4 * 2 * 9 + 4) + 8 + 4 * 4 * 9 + (4 * 8 + 4) + (4 * 4 * 4 + 4) + (4 * 9 + 1));
    ck_assert_int_eq(clseg_net_param(net, 13, &p), CLSEG_STATUS_INVALID_ARGUMENT);

    clseg_net_memory mem;
    ck_assert_int_eq(clseg_net_plan_estimate(net, NULL, in_shape, CLSEG_NET_TRAIN, &mem), CLSEG_STATUS_SUCCESS);
    ck_assert_uint_gt(mem.total, 0);
    clseg_layer_info l;
    ck_assert_int_eq(clseg_net_layer(net, 1, &l), CLSEG_STATUS_SUCCESS);
    ck_assert_str_eq(l.kind, "conv2d");
    ck_assert_str_eq(l.name, "enc.conv");
    ck_assert_int_eq(l.params, 4 * 2 * 9 + 4);
    ck_assert(l.output.n == 2 && l.output.c == 4 && l.output.h == 8 && l.output.w == 8);
    clseg_conv2d_desc k3 = clseg_conv2d_make(3, 1, 1);
    ck_assert_double_eq(l.flops, clseg_conv2d_flops(&k3, in_shape, (clseg_shape){4, 2, 3, 3}));
    size_t nl = clseg_net_layer_count(net);
    ck_assert_int_eq(clseg_net_layer(net, nl - 1, &l), CLSEG_STATUS_SUCCESS);
    ck_assert(l.output.n == 2 && l.output.c == 1 && l.output.h == 8 && l.output.w == 8);
    ck_assert_int_eq(clseg_net_layer(net, 3, &l), CLSEG_STATUS_SUCCESS);
    ck_assert_str_eq(l.kind, "relu");
    ck_assert_str_eq(l.name, "");

    ck_assert_ptr_null(clseg_net_meta(net, "clseg.model"));
    ck_assert_int_eq(clseg_net_set_meta(net, "clseg.model", "unet"), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_set_meta(net, "clseg.model", "linknet"), CLSEG_STATUS_SUCCESS);
    ck_assert_str_eq(clseg_net_meta(net, "clseg.model"), "linknet");
    ck_assert_int_eq(clseg_net_set_meta(net, "clseg.base", "64"), CLSEG_STATUS_SUCCESS);
    const char *key = NULL, *value = NULL;
    ck_assert_uint_eq(clseg_net_meta_count(net), 2);
    ck_assert_int_eq(clseg_net_meta_at(net, 1, &key, &value), CLSEG_STATUS_SUCCESS);
    ck_assert(strcmp(key, "clseg.base") == 0 && strcmp(value, "64") == 0);
    ck_assert_int_eq(clseg_net_meta_at(net, 2, &key, &value), CLSEG_STATUS_INVALID_ARGUMENT);

    clseg_optimizer_kind k;
    ck_assert_int_eq(clseg_optimizer_kind_parse("adamw", &k), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(k, CLSEG_OPTIMIZER_ADAMW);
    ck_assert_str_eq(clseg_optimizer_kind_str(CLSEG_OPTIMIZER_SGD), "sgd");
    ck_assert_int_eq(clseg_optimizer_kind_parse("rmsprop", &k), CLSEG_STATUS_INVALID_ARGUMENT);
    clseg_optimizer o = clseg_optimizer_make(CLSEG_OPTIMIZER_ADAMW, 1e-3f);
    ck_assert(o.adam.decoupled && o.adam.weight_decay == 1e-2f && o.adam.beta2 == 0.999f);
    clseg_net_destroy(net);
}
END_TEST

/* He/Kaiming initialisation: conv weights with std sqrt(2 / fan_in), fan_in from weight dim 1
 * (a transposed conv's C_out, as PyTorch computes it); ones and zeros for batch norm. */
START_TEST(test_initialisation)
{
    clseg_context *ctx = test_context("ref");
    clseg_net *net = NULL;
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    clseg_conv2d_desc k3 = clseg_conv2d_make(3, 1, 1), t2 = clseg_conv2d_make(2, 2, 0);
    t2.transposed = 1;
    clseg_batchnorm_desc bn = {0.1f, 1e-5f};
    clseg_node c = clseg_net_conv2d(net, "c", clseg_net_input(net, 32), 64, &k3, 1);
    clseg_node t = clseg_net_conv2d(net, "t", clseg_net_batchnorm2d(net, "bn", c, &bn), 16, &t2, 1);
    ck_assert_int_eq(clseg_net_set_output(net, t), CLSEG_STATUS_SUCCESS);
    plan_ok(net, ctx, (clseg_shape){1, 32, 4, 4}, CLSEG_NET_INFER, 21);
    for (size_t i = 0; i < clseg_net_param_count(net); i++) {
        clseg_param_info p;
        ck_assert_int_eq(clseg_net_param(net, i, &p), CLSEG_STATUS_SUCCESS);
        float *v = test_download(p.value);
        size_t n = clseg_shape_numel(p.shape);
        double sum = 0.0, sq = 0.0;
        for (size_t k = 0; k < n; k++) {
            sum += v[k];
            sq += (double)v[k] * v[k];
        }
        if (p.dims == 4) {
            double want = sqrt(2.0 / (double)(p.shape.c * p.shape.h * p.shape.w));
            double sd = sqrt(sq / (double)n - pow(sum / (double)n, 2));
            ck_assert_msg(fabs(sd / want - 1.0) < 0.05 && fabs(sum / (double)n) < 0.05 * want, "%s: std %g, want %g",
                          p.name, sd, want);
        } else {
            bool one = strstr(p.name, "bn.weight") != NULL || strstr(p.name, "running_var") != NULL;
            for (size_t k = 0; k < n; k++)
                ck_assert_float_eq(v[k], one ? 1.0f : 0.0f);
        }
        free(v);
    }
    /* re-initialising from the same seed gives the same bits */
    float *a = test_download(net->values);
    ck_assert_int_eq(clseg_net_init(net, 21), CLSEG_STATUS_SUCCESS);
    float *b = test_download(net->values);
    ck_assert_mem_eq(a, b, net->trainable_floats * sizeof(float));
    free(a);
    free(b);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
}
END_TEST

/* (8) A small segmentation net overfits a tiny synthetic batch: bright discs on a noisy
 * background, the discs as targets. BCE falls by a factor of 10 within 60 Adam steps. */
static void check_overfit(const char *selector)
{
    clseg_context *ctx = test_context(selector);
    clseg_net *net = NULL;
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    clseg_conv2d_desc k3 = clseg_conv2d_make(3, 1, 1), k1 = clseg_conv2d_make(1, 1, 0);
    clseg_batchnorm_desc bn = {0.1f, 1e-5f};
    clseg_pool2d_desc pd = clseg_pool2d_make(2, 2, 0);
    clseg_upsample_desc up = {CLSEG_UPSAMPLE_NEAREST, 0, 2.0f, 2.0f};
    clseg_node x = clseg_net_input(net, 1);
    clseg_node e = clseg_net_relu(net, clseg_net_batchnorm2d(net, "e.bn", clseg_net_conv2d(net, "e.conv", x, 8, &k3, 0), &bn));
    clseg_node m = clseg_net_relu(net, clseg_net_batchnorm2d(
                                           net, "m.bn", clseg_net_conv2d(net, "m.conv", clseg_net_maxpool2d(net, e, &pd), 8, &k3, 0), &bn));
    clseg_node d = clseg_net_concat(net, clseg_net_upsample2d(net, m, &up, -1), e);
    clseg_node y = clseg_net_conv2d(net, "out", clseg_net_relu(net, clseg_net_conv2d(net, "d.conv", d, 8, &k3, 1)), 1, &k1, 1);
    ck_assert_int_eq(clseg_net_set_output(net, y), CLSEG_STATUS_SUCCESS);
    clseg_shape s = {2, 1, 16, 16}, ts = {2, 1, 16, 16};
    plan_ok(net, ctx, s, CLSEG_NET_TRAIN, 2);
    float *img = random_values(clseg_shape_numel(s), 77, -0.3f, 0.3f);
    float *tgt = calloc(clseg_shape_numel(ts), sizeof *tgt);
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 16; i++)
            for (int j = 0; j < 16; j++) {
                double cy = b ? 5.0 : 9.0, cx = b ? 10.0 : 6.0, r = b ? 3.5 : 4.5;
                bool in = (i - cy) * (i - cy) + (j - cx) * (j - cx) < r * r;
                tgt[(b * 16 + i) * 16 + j] = in ? 1.0f : 0.0f;
                img[(b * 16 + i) * 16 + j] += in ? 1.0f : 0.0f;
            }
    clseg_tensor *xt = test_tensor(ctx, s, img), *tt = test_tensor(ctx, ts, tgt);
    clseg_loss_desc ld = clseg_loss_make(CLSEG_LOSS_BCE);
    clseg_optimizer opt = clseg_optimizer_make(CLSEG_OPTIMIZER_ADAM, 1e-2f);
    float first = 0.0f, last = 0.0f;
    for (int step = 0; step < 60; step++) {
        ck_assert_int_eq(clseg_net_train_step(net, xt, tt, &ld, &opt, &last), CLSEG_STATUS_SUCCESS);
        if (step == 0)
            first = last;
    }
    ck_assert_msg(last < first / 10.0f, "loss %g -> %g after 60 steps", first, last);
    free(img);
    free(tgt);
    clseg_tensor_destroy(xt);
    clseg_tensor_destroy(tt);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
}

START_TEST(test_overfits_tiny_batch_ref) { check_overfit("ref"); }
END_TEST

START_TEST(test_overfits_tiny_batch_opencl) { check_overfit(NULL); }
END_TEST

/* An output that feeds other layers (here a branch that does not reach the output) gets
 * dL/doutput as its gradient all the same, and the dead branch's parameters get zeros. */
static float *first_conv_grad(bool dead_branch, size_t *count)
{
    clseg_context *ctx = test_context("ref");
    clseg_net *net = NULL;
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    clseg_conv2d_desc k3 = clseg_conv2d_make(3, 1, 1);
    clseg_node y = clseg_net_sigmoid(net, clseg_net_conv2d(net, "a", clseg_net_input(net, 2), 2, &k3, 1));
    if (dead_branch)
        clseg_net_conv2d(net, "dead", y, 3, &k3, 1);
    ck_assert_int_eq(clseg_net_set_output(net, y), CLSEG_STATUS_SUCCESS);
    clseg_shape s = {2, 2, 5, 5};
    plan_ok(net, ctx, s, CLSEG_NET_TRAIN, 3);
    float *xv = random_values(clseg_shape_numel(s), 5, -1.0f, 1.0f);
    float *dv = random_values(clseg_shape_numel(s), 6, -1.0f, 1.0f);
    clseg_tensor *xt = test_tensor(ctx, s, xv), *dy = test_tensor(ctx, s, dv);
    ck_assert_int_eq(clseg_fill(ctx, net->grads, NAN), CLSEG_STATUS_SUCCESS); /* must all be overwritten */
    ck_assert_int_eq(clseg_net_forward(net, xt), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_backward(net, dy), CLSEG_STATUS_SUCCESS);
    float *g = test_download(net->grads);
    *count = net->trainable_floats;
    free(xv);
    free(dv);
    clseg_tensor_destroy(xt);
    clseg_tensor_destroy(dy);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
    return g;
}

START_TEST(test_output_feeding_a_dead_branch)
{
    size_t n0, n1;
    float *plain = first_conv_grad(false, &n0), *branched = first_conv_grad(true, &n1);
    ck_assert_uint_eq(n1, n0 + 3 * 2 * 9 + 3);
    ck_assert_mem_eq(plain, branched, n0 * sizeof(float));
    for (size_t i = n0; i < n1; i++)
        ck_assert_float_eq(branched[i], 0.0f);
    free(plain);
    free(branched);
}
END_TEST

/* Inference shares activation memory and runs layers in place; training keeps what backward
 * reads. Without batch norm and with dropout off both compute the same function: the same bits. */
static void check_infer_matches_train(const char *selector)
{
    clseg_context *ctx = test_context(selector);
    clseg_net *net = build_every_layer(0.0f, false);
    float *xv = random_values(clseg_shape_numel(in_shape), 3, -1.0f, 1.0f);
    clseg_tensor *x = test_tensor(ctx, in_shape, xv);
    plan_ok(net, ctx, in_shape, CLSEG_NET_TRAIN, 5);
    ck_assert_int_eq(clseg_net_forward(net, x), CLSEG_STATUS_SUCCESS);
    float *train = test_download(clseg_net_output(net));
    plan_ok(net, ctx, in_shape, CLSEG_NET_INFER, 5);
    ck_assert_int_eq(clseg_net_forward(net, x), CLSEG_STATUS_SUCCESS);
    float *infer = test_download(clseg_net_output(net));
    ck_assert_mem_eq(train, infer, clseg_shape_numel(out_shape) * sizeof(float));
    free(train);
    free(infer);
    free(xv);
    clseg_tensor_destroy(x);
    clseg_net_destroy(net);
    clseg_context_destroy(ctx);
}

START_TEST(test_infer_matches_train_ref) { check_infer_matches_train("ref"); }
END_TEST

START_TEST(test_infer_matches_train_opencl) { check_infer_matches_train(NULL); }
END_TEST

/* A plan on another context moves the parameters, statistics and optimiser moments there: a
 * step after the move gives the bits of the same step on a twin net that stayed. */
static void check_move(const char *to)
{
    clseg_context *a = test_context("ref"), *b = test_context(to);
    clseg_net *net = every_layer_net(0.25f), *twin = every_layer_net(0.25f);
    plan_ok(net, a, in_shape, CLSEG_NET_TRAIN, 4);
    plan_ok(twin, a, in_shape, CLSEG_NET_TRAIN, 4);
    float *xv = random_values(clseg_shape_numel(in_shape), 3, -1.0f, 1.0f);
    float *tv = mask_values(clseg_shape_numel(out_shape), 4);
    clseg_tensor *xa = test_tensor(a, in_shape, xv), *ta = test_tensor(a, out_shape, tv);
    clseg_tensor *xb = test_tensor(b, in_shape, xv), *tb = test_tensor(b, out_shape, tv);
    clseg_loss_desc ld = clseg_loss_make(CLSEG_LOSS_BCE);
    clseg_optimizer opt = clseg_optimizer_make(CLSEG_OPTIMIZER_ADAM, 1e-2f);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(clseg_net_train_step(net, xa, ta, &ld, &opt, NULL), CLSEG_STATUS_SUCCESS);
        ck_assert_int_eq(clseg_net_train_step(twin, xa, ta, &ld, &opt, NULL), CLSEG_STATUS_SUCCESS);
    }
    plan_ok(net, b, in_shape, CLSEG_NET_TRAIN, 99);
    ck_assert_ptr_eq(clseg_tensor_context(net->values), b);
    clseg_param_info p;
    ck_assert_int_eq(clseg_net_param(net, 0, &p), CLSEG_STATUS_SUCCESS);
    ck_assert_ptr_eq(clseg_tensor_context(p.value), b);
    ck_assert_ptr_eq(clseg_tensor_context(p.grad), b);
    clseg_tensor *m1 = NULL, *m2 = NULL, *t1 = NULL, *t2 = NULL;
    ck_assert_int_eq(clseg_net_optimizer_state(net, &m1, &m2), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_optimizer_state(twin, &t1, &t2), CLSEG_STATUS_SUCCESS);
    const clseg_tensor *pairs[][2] = {{net->values, twin->values}, {net->buffers, twin->buffers}, {m1, t1}, {m2, t2}};
    for (size_t k = 0; k < 4; k++) {
        float *u = test_download(pairs[k][0]), *v = test_download(pairs[k][1]);
        ck_assert_mem_eq(u, v, clseg_tensor_numel(pairs[k][1]) * sizeof(float));
        free(u);
        free(v);
    }
    ck_assert_int_eq(clseg_net_step_count(net), 2);
    ck_assert_int_eq(clseg_net_train_step(net, xb, tb, &ld, &opt, NULL), CLSEG_STATUS_SUCCESS);
    ck_assert_int_eq(clseg_net_train_step(twin, xa, ta, &ld, &opt, NULL), CLSEG_STATUS_SUCCESS);
    if (to != NULL && strcmp(to, "ref") == 0) { /* same arithmetic: same bits */
        float *u = test_download(net->values), *v = test_download(twin->values);
        ck_assert_mem_eq(u, v, net->trainable_floats * sizeof(float));
        free(u);
        free(v);
    }
    free(xv);
    free(tv);
    clseg_tensor *all[] = {xa, ta, xb, tb};
    for (size_t i = 0; i < 4; i++)
        clseg_tensor_destroy(all[i]);
    clseg_net_destroy(net);
    clseg_net_destroy(twin);
    clseg_context_destroy(a);
    clseg_context_destroy(b);
}

START_TEST(test_plan_moves_to_another_context_ref) { check_move("ref"); }
END_TEST

START_TEST(test_plan_moves_to_another_context_opencl) { check_move(NULL); }
END_TEST

/* --- batch norm + ReLU fusion (net/fuse.c) ------------------------------------------------- */

/* Two conv-BN-ReLU blocks reading one conv (whose gradient then sums both), a batch norm read by
 * a ReLU and by an add (it stays apart), and a last block whose ReLU is the net's output; with
 * dead_branch the output also feeds a layer that does not reach it, so its gradient is the net's
 * own copy of dL/doutput. */
static clseg_net *fusion_net(bool dead_branch)
{
    clseg_net *net = NULL;
    ck_assert_int_eq(clseg_net_create(&net), CLSEG_STATUS_SUCCESS);
    clseg_conv2d_desc k3 = clseg_conv2d_make(3, 1, 1), k1 = clseg_conv2d_make(1, 1, 0);
    clseg_batchnorm_desc bn = {0.1f, 1e-5f};
    clseg_node x = clseg_net_input(net, 2);
    clseg_node c1 = clseg_net_conv2d(net, "c1", x, 4, &k3, 0);
    clseg_node r1 = clseg_net_relu(net, clseg_net_batchnorm2d(net, "b1", c1, &bn));
    clseg_node r1b = clseg_net_relu(net, clseg_net_batchnorm2d(net, "b1b", c1, &bn));
    clseg_node c2 = clseg_net_conv2d(net, "c2", clseg_net_add(net, r1, r1b), 4, &k3, 0);
    clseg_node b2 = clseg_net_batchnorm2d(net, "b2", c2, &bn);
    clseg_node a2 = clseg_net_add(net, clseg_net_relu(net, b2), b2);
    clseg_node c3 = clseg_net_conv2d(net, "c3", a2, 1, &k3, 1);
    clseg_node r3 = clseg_net_relu(net, clseg_net_batchnorm2d(net, "b3", c3, &bn));
    if (dead_branch)
        clseg_net_conv2d(net, "dead", r3, 1, &k1, 1);
    ck_assert_int_eq(clseg_net_set_output(net, r3), CLSEG_STATUS_SUCCESS);
    const char *msg = NULL;
    ck_assert_msg(clseg_net_build_status(net, &msg) == CLSEG_STATUS_SUCCESS, "build: %s", msg);
    return net;
}

static void set_fusion(bool on)
{
    if (on)
        unsetenv("CLSEG_FUSION");
    else
        setenv("CLSEG_FUSION", "off", 1);
}

/* The batch norms the plan runs fused; checks that each names a ReLU reading it, marked as run by
 * it, and that no other ReLU is marked. */
static int fused_batchnorms(const clseg_net *net)
{
    int count = 0, marked = 0;
    for (size_t i = 0; i < net->n_nodes; i++) {
        int r = net->plan.nodes[i].fused_relu;
        marked += net->plan.nodes[i].fused;
        if (r < 0)
            continue;
        ck_assert_int_eq(net->nodes[i].kind, NET_BATCHNORM);
        ck_assert_int_eq(net->nodes[r].kind, NET_RELU);
        ck_assert_int_eq(net->nodes[r].in[0], (int)i);
        ck_assert(net->plan.nodes[r].fused);
        count++;
    }
    ck_assert_int_eq(marked, count);
    return count;
}

/* Batch norms whose one reader is a ReLU, and which are not the net's output: what should fuse. */
static int fusable_batchnorms(const clseg_net *net)
{
    int count = 0;
    for (size_t b = 0; b < net->n_nodes; b++) {
        if (net->nodes[b].kind != NET_BATCHNORM || (int)b == net->output)
            continue;
        int readers = 0, relu = 0;
        for (size_t i = 0; i < net->n_nodes; i++)
            for (int k = 0; k < net->nodes[i].nin; k++)
                if (net->nodes[i].in[k] == (int)b) {
                    readers++;
                    relu += net->nodes[i].kind == NET_RELU;
                }
        count += readers == 1 && relu == 1;
    }
    return count;
}

static bool node_fused(const clseg_net *net, const char *name)
{
    for (size_t i = 0; i < net->n_nodes; i++)
        if (strcmp(net->nodes[i].name, name) == 0)
            return net->plan.nodes[i].fused_relu >= 0;
    ck_abort_msg("no node %s", name);
    return false;
}

/* Which batch norms fuse, in both modes, with the output's gradient external or a copy; none
 * with CLSEG_FUSION=off; the memory plan and the layers' kinds do not change. */
START_TEST(test_fusion_is_planned)
{
    clseg_context *ctx = test_context("ref");
    for (int dead = 0; dead < 2; dead++)
        for (int mode = 0; mode < 2; mode++) {
            clseg_net_mode m = mode ? CLSEG_NET_TRAIN : CLSEG_NET_INFER;
            clseg_net *net = fusion_net(dead);
            set_fusion(false);
            plan_ok(net, ctx, in_shape, m, 3);
            ck_assert_int_eq(fused_batchnorms(net), 0);
            clseg_net_memory unfused = clseg_net_memory_plan(net);
            clseg_layer_info before;
            ck_assert_int_eq(clseg_net_layer(net, 3, &before), CLSEG_STATUS_SUCCESS);
            set_fusion(true);
            plan_ok(net, ctx, in_shape, m, 3);
            ck_assert_int_eq(fused_batchnorms(net), 3);
            ck_assert_int_eq(fusable_batchnorms(net), 3);
            ck_assert(node_fused(net, "b1") && node_fused(net, "b1b") && node_fused(net, "b3"));
            ck_assert(!node_fused(net, "b2")); /* also read by the add */
            clseg_net_memory fused = clseg_net_memory_plan(net);
            ck_assert_mem_eq(&fused, &unfused, sizeof fused);
            clseg_layer_info after;
            ck_assert_int_eq(clseg_net_layer(net, 3, &after), CLSEG_STATUS_SUCCESS);
            ck_assert_str_eq(after.kind, before.kind);
            ck_assert_str_eq(after.kind, "relu");
            clseg_net_destroy(net);
        }
    clseg_context_destroy(ctx);
}
END_TEST

typedef struct fusion_result {
    step_result step;
    float *infer; /* the output of an inference pass after the step */
} fusion_result;

/* One SGD step with momentum (loss, output, gradients, parameters, running statistics), then an
 * inference pass, of a net built by make at input shape in. */
static fusion_result fusion_run(clseg_context *ctx, clseg_net *net, clseg_shape in, bool fused)
{
    clseg_shape out = {in.n, 1, in.h, in.w};
    float *xv = random_values(clseg_shape_numel(in), 5, -1.0f, 1.0f), *tv = mask_values(clseg_shape_numel(out), 6);
    clseg_tensor *x = test_tensor(ctx, in, xv), *t = test_tensor(ctx, out, tv);
    clseg_loss_desc ld = clseg_loss_make(CLSEG_LOSS_BCE_DICE);
    clseg_optimizer opt = clseg_optimizer_make(CLSEG_OPTIMIZER_SGD, 0.1f);
    fusion_result r = {0};
    set_fusion(fused);
    plan_ok(net, ctx, in, CLSEG_NET_TRAIN, 21);
    ck_assert_int_eq(fused_batchnorms(net), fused ? fusable_batchnorms(net) : 0);
    for (size_t i = 0; i < net->plan.n_grad_slots; i++) /* nothing may read a gradient before its first write */
        ck_assert_int_eq(clseg_fill(ctx, net->plan.grad_slots[i], NAN), CLSEG_STATUS_SUCCESS);
    clseg_status st = clseg_net_train_step(net, x, t, &ld, &opt, &r.step.loss);
    ck_assert_msg(st == CLSEG_STATUS_SUCCESS, "train step: %s", clseg_context_last_error(ctx));
    r.step.output = test_download(clseg_net_output(net));
    r.step.grads = test_download(net->grads);
    r.step.values = test_download(net->values);
    r.step.buffers = test_download(net->buffers);
    plan_ok(net, ctx, in, CLSEG_NET_INFER, 21);
    ck_assert_int_eq(fused_batchnorms(net), fused ? fusable_batchnorms(net) : 0);
    ck_assert_int_eq(clseg_net_forward(net, x), CLSEG_STATUS_SUCCESS);
    r.infer = test_download(clseg_net_output(net));
    set_fusion(true);
    free(xv), free(tv);
    clseg_tensor_destroy(x), clseg_tensor_destroy(t);
    return r;
}

static void assert_same_bits(const char *what, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(memcmp(&a[i], &b[i], sizeof(float)) == 0, "%s[%zu]: fused %.9g, unfused %.9g", what, i,
                      (double)a[i], (double)b[i]);
}

/* Fused and unfused runs of the same net (two nets from one seed) give the same bits: the fused
 * kernels do the same arithmetic as batch norm then ReLU. */
static void check_fusion_bits(clseg_context *ctx, clseg_net *(*make)(const void *), const void *arg, clseg_shape in)
{
    clseg_net *nets[2] = {make(arg), make(arg)};
    fusion_result r[2];
    for (int f = 0; f < 2; f++)
        r[f] = fusion_run(ctx, nets[f], in, f == 0);
    int fused = fused_batchnorms(nets[0]), batchnorms = 0;
    for (size_t i = 0; i < nets[0]->n_nodes; i++)
        batchnorms += nets[0]->nodes[i].kind == NET_BATCHNORM;
    ck_assert_int_gt(fused, 0);
    printf("fusion: %d of %d batch norms run their ReLU\n", fused, batchnorms);
    size_t np = nets[0]->trainable_floats, nb = nets[0]->buffer_floats, no = (size_t)(in.n * in.h * in.w);
    ck_assert_msg(memcmp(&r[0].step.loss, &r[1].step.loss, sizeof(float)) == 0, "loss: fused %.9g, unfused %.9g",
                  (double)r[0].step.loss, (double)r[1].step.loss);
    assert_same_bits("output", r[0].step.output, r[1].step.output, no);
    assert_same_bits("gradients", r[0].step.grads, r[1].step.grads, np);
    assert_same_bits("parameters", r[0].step.values, r[1].step.values, np);
    assert_same_bits("running statistics", r[0].step.buffers, r[1].step.buffers, nb);
    assert_same_bits("inference output", r[0].infer, r[1].infer, no);
    for (int f = 0; f < 2; f++) {
        step_result_free(&r[f].step);
        free(r[f].infer);
        clseg_net_destroy(nets[f]);
    }
}

static clseg_net *make_fusion_net(const void *dead) { return fusion_net(*(const bool *)dead); }

static void check_fusion_net(const char *selector)
{
    clseg_context *ctx = test_context(selector);
    for (int dead = 0; dead < 2; dead++)
        check_fusion_bits(ctx, make_fusion_net, &(bool){dead != 0}, in_shape);
    /* planes of 8 x 8 above take the vector kernels on CPU devices; 7 x 9 do not */
    check_fusion_bits(ctx, make_fusion_net, &(bool){false}, (clseg_shape){3, 2, 7, 9});
    clseg_context_destroy(ctx);
}

START_TEST(test_fusion_gives_the_same_bits_ref) { check_fusion_net("ref"); }
END_TEST

START_TEST(test_fusion_gives_the_same_bits_opencl) { check_fusion_net(NULL); }
END_TEST

typedef struct model_arg {
    const char *name;
    int64_t base;
} model_arg;

static clseg_net *make_model(const void *arg)
{
    const model_arg *m = arg;
    clseg_model_config cfg;
    ck_assert_int_eq(clseg_model_config_default(m->name, &cfg), CLSEG_STATUS_SUCCESS);
    cfg.base = m->base;
    clseg_net *net = NULL;
    char err[512] = "";
    ck_assert_msg(clseg_model_build(&cfg, &net, err, sizeof err) == CLSEG_STATUS_SUCCESS, "%s: %s", m->name, err);
    return net;
}

/* The real models, whose blocks are conv-BN-ReLU throughout. */
START_TEST(test_fusion_gives_the_same_bits_in_models)
{
    clseg_context *ctx = test_context(NULL);
    check_fusion_bits(ctx, make_model, &(model_arg){"unet", 4}, (clseg_shape){2, 3, 32, 32});
    check_fusion_bits(ctx, make_model, &(model_arg){"linknet", 8}, (clseg_shape){2, 3, 64, 64});
    clseg_context_destroy(ctx);
}
END_TEST

/* Calls of one kernel in a CLSEG_PROFILE file (0 when it has no row). */
static unsigned long profiled_calls(const char *path, const char *kernel)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[512], name[256];
    unsigned long calls = 0, c = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "%255s %lu", name, &c) == 2 && strcmp(name, kernel) == 0)
            calls = c;
    fclose(f);
    return calls;
}

/* A fused ReLU launches nothing, forward or backward: one training step of the fusion net runs
 * one ReLU pass each way (the ReLU of the batch norm with two readers), four without fusion. */
START_TEST(test_fused_relus_launch_nothing)
{
    char *dir = test_tmpdir("clseg-fusion-profile"), path[4200];
    snprintf(path, sizeof path, "%s/profile.txt", dir);
    for (int fused = 0; fused < 2; fused++) {
        setenv("CLSEG_PROFILE", path, 1);
        clseg_context *ctx = test_context(NULL);
        unsetenv("CLSEG_PROFILE");
        clseg_net *net = fusion_net(false);
        set_fusion(fused);
        plan_ok(net, ctx, in_shape, CLSEG_NET_TRAIN, 4);
        set_fusion(true);
        float *xv = random_values(clseg_shape_numel(in_shape), 3, -1.0f, 1.0f);
        float *tv = mask_values(clseg_shape_numel(out_shape), 4);
        clseg_tensor *x = test_tensor(ctx, in_shape, xv), *t = test_tensor(ctx, out_shape, tv);
        clseg_loss_desc ld = clseg_loss_make(CLSEG_LOSS_BCE);
        clseg_optimizer opt = clseg_optimizer_make(CLSEG_OPTIMIZER_SGD, 0.1f);
        ck_assert_int_eq(clseg_net_train_step(net, x, t, &ld, &opt, NULL), CLSEG_STATUS_SUCCESS);
        free(xv), free(tv);
        clseg_tensor_destroy(x), clseg_tensor_destroy(t);
        clseg_net_destroy(net);
        clseg_context_destroy(ctx); /* writes the profile */
        unsigned long want = fused ? 1 : 4;
        ck_assert_uint_eq(profiled_calls(path, "activation/relu_forward"), want);
        ck_assert_uint_eq(profiled_calls(path, "activation/relu_backward"), want);
        ck_assert_uint_eq(profiled_calls(path, "norm/bn_sum_x_serial") + profiled_calls(path, "norm/bn_sum_x"), 4);
    }
    test_rmdir(dir);
    free(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("net");
    TCase *host = tcase_create("reference");
    tcase_set_timeout(host, 120);
    tcase_add_test(host, test_whole_net_gradients_match_finite_differences);
    tcase_add_test(host, test_gradients_of_repeated_inputs);
    tcase_add_test(host, test_train_step_allocates_nothing_ref);
    tcase_add_test(host, test_determinism_ref);
    tcase_add_test(host, test_memory_is_shared_and_accounted);
    tcase_add_test(host, test_skip_gradients_are_summed);
    tcase_add_test(host, test_replan_keeps_parameters);
    tcase_add_test(host, test_batchnorm_train_and_infer);
    tcase_add_test(host, test_build_and_plan_errors);
    tcase_add_test(host, test_introspection);
    tcase_add_test(host, test_plan_moves_to_another_context_ref);
    tcase_add_test(host, test_infer_matches_train_ref);
    tcase_add_test(host, test_output_feeding_a_dead_branch);
    tcase_add_test(host, test_initialisation);
    tcase_add_test(host, test_overfits_tiny_batch_ref);
    tcase_add_test(host, test_fusion_is_planned);
    tcase_add_test(host, test_fusion_gives_the_same_bits_ref);
    suite_add_tcase(s, host);
    if (!test_have_opencl())
        return test_run(s, true) == EXIT_SUCCESS ? TEST_SKIP : EXIT_FAILURE;
    TCase *dev = tcase_create("device");
    tcase_set_timeout(dev, 120);
    tcase_add_test(dev, test_opencl_train_step_matches_ref);
    tcase_add_test(dev, test_train_step_allocates_nothing_opencl);
    tcase_add_test(dev, test_determinism_opencl);
    tcase_add_test(dev, test_overfits_tiny_batch_opencl);
    tcase_add_test(dev, test_infer_matches_train_opencl);
    tcase_add_test(dev, test_plan_moves_to_another_context_opencl);
    tcase_add_test(dev, test_fusion_gives_the_same_bits_opencl);
    tcase_add_test(dev, test_fusion_gives_the_same_bits_in_models);
    tcase_add_test(dev, test_fused_relus_launch_nothing);
    suite_add_tcase(s, dev);
    return test_run(s, false);
}
