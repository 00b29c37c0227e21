#include "verify/verify_case.h"

typedef struct bn_arg {
    clseg_shape shape;
    float beta;   /* backward accumulation (dx and the parameters alike) */
    int in_place; /* forward: y is x */
    int relu;     /* the fused ReLU (clseg_batchnorm2d_relu_*) */
} bn_arg;

static const clseg_batchnorm_desc desc = {0.1f, 1e-5f};

static clseg_shape channels(clseg_shape s)
{
    return (clseg_shape){1, s.c, 1, 1};
}

static clseg_status run_forward_train(verify_run *r, const void *arg)
{
    const bn_arg *a = arg;
    clseg_context *ctx = verify_ctx(r);
    clseg_shape cs = channels(a->shape);
    clseg_tensor *x =
        a->in_place ? verify_output(r, a->shape, VERIFY_UNIFORM) : verify_input(r, a->shape, VERIFY_UNIFORM);
    clseg_tensor *w = verify_input(r, cs, VERIFY_UNIFORM), *b = verify_input(r, cs, VERIFY_UNIFORM);
    clseg_tensor *rm = verify_output(r, cs, VERIFY_UNIFORM), *rv = verify_output(r, cs, VERIFY_POSITIVE);
    clseg_tensor *y = a->in_place ? x : verify_output(r, a->shape, VERIFY_UNIFORM);
    clseg_tensor *mean = verify_output(r, cs, VERIFY_UNIFORM), *invstd = verify_output(r, cs, VERIFY_UNIFORM);
    clseg_tensor *ws = verify_workspace(r, clseg_batchnorm2d_workspace_bytes(ctx, a->shape));
    if (a->relu)
        return clseg_batchnorm2d_relu_forward_train(ctx, &desc, x, w, b, rm, rv, y, mean, invstd, ws);
    return clseg_batchnorm2d_forward_train(ctx, &desc, x, w, b, rm, rv, y, mean, invstd, ws);
}

static clseg_status run_forward_infer(verify_run *r, const void *arg)
{
    const bn_arg *a = arg;
    clseg_shape cs = channels(a->shape);
    clseg_tensor *x =
        a->in_place ? verify_output(r, a->shape, VERIFY_UNIFORM) : verify_input(r, a->shape, VERIFY_UNIFORM);
    clseg_tensor *w = verify_input(r, cs, VERIFY_UNIFORM), *b = verify_input(r, cs, VERIFY_UNIFORM);
    clseg_tensor *rm = verify_input(r, cs, VERIFY_UNIFORM), *rv = verify_input(r, cs, VERIFY_POSITIVE);
    clseg_tensor *y = a->in_place ? x : verify_output(r, a->shape, VERIFY_UNIFORM);
    if (a->relu)
        return clseg_batchnorm2d_relu_forward_infer(verify_ctx(r), &desc, x, w, b, rm, rv, y);
    return clseg_batchnorm2d_forward_infer(verify_ctx(r), &desc, x, w, b, rm, rv, y);
}

/* The saved statistics come from a training forward pass on the same backend. The fused ReLU's
 * mask is an input of its own rather than that pass's output: values within an ulp or two of
 * zero would otherwise take different sides on the two backends. */
static clseg_status run_backward(verify_run *r, const void *arg)
{
    const bn_arg *a = arg;
    clseg_context *ctx = verify_ctx(r);
    clseg_shape cs = channels(a->shape);
    clseg_tensor *x = verify_input(r, a->shape, VERIFY_UNIFORM), *dy = verify_input(r, a->shape, VERIFY_UNIFORM);
    clseg_tensor *w = verify_input(r, cs, VERIFY_UNIFORM), *b = verify_input(r, cs, VERIFY_UNIFORM);
    clseg_tensor *rm = verify_input(r, cs, VERIFY_UNIFORM), *rv = verify_input(r, cs, VERIFY_POSITIVE);
    clseg_tensor *y = verify_temp(r, a->shape), *mean = verify_temp(r, cs), *invstd = verify_temp(r, cs);
    clseg_tensor *ws = verify_workspace(r, clseg_batchnorm2d_workspace_bytes(ctx, a->shape));
    clseg_status st = clseg_batchnorm2d_forward_train(ctx, &desc, x, w, b, rm, rv, y, mean, invstd, ws);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_tensor *dx = verify_output(r, a->shape, VERIFY_UNIFORM);
    clseg_tensor *dw = verify_output(r, cs, VERIFY_UNIFORM), *db = verify_output(r, cs, VERIFY_UNIFORM);
    if (a->relu)
        return clseg_batchnorm2d_relu_backward(ctx, &desc, x, verify_input(r, a->shape, VERIFY_UNIFORM), dy, w, mean,
                                               invstd, dx, a->beta, dw, db, a->beta, ws);
    return clseg_batchnorm2d_backward(ctx, &desc, x, dy, w, mean, invstd, dx, a->beta, dw, db, a->beta, ws);
}

#define TINY {1, 1, 2, 1}
#define TINY2 {2, 3, 1, 1}

static const bn_arg tiny = {TINY, 0, 0, 0}, tiny2 = {TINY2, 1.0f, 0, 0}, odd = {VERIFY_ODD, 0, 0, 0};
static const bn_arg odd2 = {VERIFY_ODD2, 0, 0, 0}, wide = {VERIFY_WIDE, 0, 0, 0}, odd_in_place = {VERIFY_ODD2, 0, 1, 0};
static const bn_arg odd_acc = {VERIFY_ODD, 0.5f, 0, 0}, odd2_acc = {VERIFY_ODD2, 1.0f, 0, 0};
static const bn_arg wide_acc = {VERIFY_WIDE, 1.0f, 0, 0};
/* the fused ReLU: odd planes, planes of whole 16-value vectors (4096), in place, accumulating */
static const bn_arg relu_odd = {VERIFY_ODD, 0, 0, 1}, relu_odd2_in_place = {VERIFY_ODD2, 0, 1, 1};
static const bn_arg relu_wide = {VERIFY_WIDE, 0, 0, 1}, relu_odd2_acc = {VERIFY_ODD2, 0.5f, 0, 1};
static const bn_arg relu_wide_acc = {VERIFY_WIDE, 1.0f, 0, 1};

/* The device sums a channel's M = N H W values in float32 (a compensated strided loop per
 * work-item, a work-group halving tree, the chunks in order), the reference in double and
 * rounds once. The statistics and y (|y| ~ 1) then differ by a few ulp: measured below 5e-7 on
 * PoCL. dweight and dbias are sums of up to 32768 terms with |sum| ~ 100; they differ by a few
 * of their own ulp (measured 7e-5 absolute, under 1e-6 relative), and a different device's
 * tree order moves that by a similar amount. 1e-4 of max(1, |ref|) bounds every element with a
 * margin of 100 for the statistics and y, and still catches any wrong term in a formula. */
#define BN_RTOL 1e-4

static const verify_case cases[] = {
    {"batchnorm2d.forward_train", "1x1x2x1", run_forward_train, &tiny, BN_RTOL},
    {"batchnorm2d.forward_train", "2x3x1x1", run_forward_train, &tiny2, BN_RTOL},
    {"batchnorm2d.forward_train", "1x3x7x9", run_forward_train, &odd, BN_RTOL},
    {"batchnorm2d.forward_train", "2x5x13x11", run_forward_train, &odd2, BN_RTOL},
    {"batchnorm2d.forward_train", "2x5x13x11 y=x", run_forward_train, &odd_in_place, BN_RTOL},
    {"batchnorm2d.forward_train", "8x32x64x64", run_forward_train, &wide, BN_RTOL},
    {"batchnorm2d.forward_infer", "1x1x2x1", run_forward_infer, &tiny, BN_RTOL},
    {"batchnorm2d.forward_infer", "1x3x7x9", run_forward_infer, &odd, BN_RTOL},
    {"batchnorm2d.forward_infer", "2x5x13x11 y=x", run_forward_infer, &odd_in_place, BN_RTOL},
    {"batchnorm2d.forward_infer", "8x32x64x64", run_forward_infer, &wide, BN_RTOL},
    {"batchnorm2d.backward", "1x1x2x1 beta=0", run_backward, &tiny, BN_RTOL},
    {"batchnorm2d.backward", "2x3x1x1 beta=1", run_backward, &tiny2, BN_RTOL},
    {"batchnorm2d.backward", "1x3x7x9 beta=0", run_backward, &odd, BN_RTOL},
    {"batchnorm2d.backward", "1x3x7x9 beta=0.5", run_backward, &odd_acc, BN_RTOL},
    {"batchnorm2d.backward", "2x5x13x11 beta=0", run_backward, &odd2, BN_RTOL},
    {"batchnorm2d.backward", "2x5x13x11 beta=1", run_backward, &odd2_acc, BN_RTOL},
    {"batchnorm2d.backward", "8x32x64x64 beta=0", run_backward, &wide, BN_RTOL},
    {"batchnorm2d.backward", "8x32x64x64 beta=1", run_backward, &wide_acc, BN_RTOL},
    {"batchnorm2d_relu.forward_train", "1x3x7x9", run_forward_train, &relu_odd, BN_RTOL},
    {"batchnorm2d_relu.forward_train", "2x5x13x11 y=x", run_forward_train, &relu_odd2_in_place, BN_RTOL},
    {"batchnorm2d_relu.forward_train", "8x32x64x64", run_forward_train, &relu_wide, BN_RTOL},
    {"batchnorm2d_relu.forward_infer", "1x3x7x9", run_forward_infer, &relu_odd, BN_RTOL},
    {"batchnorm2d_relu.forward_infer", "2x5x13x11 y=x", run_forward_infer, &relu_odd2_in_place, BN_RTOL},
    {"batchnorm2d_relu.forward_infer", "8x32x64x64", run_forward_infer, &relu_wide, BN_RTOL},
    {"batchnorm2d_relu.backward", "1x3x7x9 beta=0", run_backward, &relu_odd, BN_RTOL},
    {"batchnorm2d_relu.backward", "2x5x13x11 beta=0.5", run_backward, &relu_odd2_acc, BN_RTOL},
    {"batchnorm2d_relu.backward", "8x32x64x64 beta=0", run_backward, &relu_wide, BN_RTOL},
    {"batchnorm2d_relu.backward", "8x32x64x64 beta=1", run_backward, &relu_wide_acc, BN_RTOL},
};

const verify_family clseg_verify_norm = {cases, sizeof cases / sizeof cases[0]};
