#include "verify/verify_case.h"

typedef struct act_arg {
    clseg_shape shape;
    float beta; /* backward accumulation; dropout: p */
} act_arg;

static clseg_status run_relu_forward(verify_run *r, const void *arg)
{
    const act_arg *a = arg;
    clseg_tensor *x = verify_input(r, a->shape, VERIFY_UNIFORM);
    return clseg_relu_forward(verify_ctx(r), x, verify_output(r, a->shape, VERIFY_UNIFORM));
}

static clseg_status run_relu_backward(verify_run *r, const void *arg)
{
    const act_arg *a = arg;
    clseg_tensor *y = verify_input(r, a->shape, VERIFY_UNIFORM), *dy = verify_input(r, a->shape, VERIFY_UNIFORM);
    return clseg_relu_backward(verify_ctx(r), y, dy, verify_output(r, a->shape, VERIFY_UNIFORM), a->beta);
}

static clseg_status run_sigmoid_forward(verify_run *r, const void *arg)
{
    const act_arg *a = arg;
    clseg_tensor *x = verify_input(r, a->shape, VERIFY_INTEGERS);
    return clseg_sigmoid_forward(verify_ctx(r), x, verify_output(r, a->shape, VERIFY_UNIFORM));
}

static clseg_status run_sigmoid_backward(verify_run *r, const void *arg)
{
    const act_arg *a = arg;
    clseg_tensor *y = verify_input(r, a->shape, VERIFY_POSITIVE), *dy = verify_input(r, a->shape, VERIFY_UNIFORM);
    return clseg_sigmoid_backward(verify_ctx(r), y, dy, verify_output(r, a->shape, VERIFY_UNIFORM), a->beta);
}

static clseg_status run_dropout_forward(verify_run *r, const void *arg)
{
    const act_arg *a = arg;
    clseg_tensor *x = verify_input(r, a->shape, VERIFY_UNIFORM);
    clseg_tensor *y = verify_output(r, a->shape, VERIFY_UNIFORM), *mask = verify_output(r, a->shape, VERIFY_UNIFORM);
    return clseg_dropout_forward(verify_ctx(r), x, a->beta, 0x0123456789abcdefull, y, mask);
}

static clseg_status run_dropout_backward(verify_run *r, const void *arg)
{
    const act_arg *a = arg;
    clseg_context *ctx = verify_ctx(r);
    clseg_tensor *x = verify_input(r, a->shape, VERIFY_UNIFORM), *dy = verify_input(r, a->shape, VERIFY_UNIFORM);
    clseg_tensor *y = verify_temp(r, a->shape), *mask = verify_temp(r, a->shape);
    clseg_status st = clseg_dropout_forward(ctx, x, 0.5f, 42, y, mask);
    return st != CLSEG_STATUS_SUCCESS ? st
                                      : clseg_dropout_backward(ctx, dy, mask, verify_output(r, a->shape, VERIFY_UNIFORM),
                                                               a->beta);
}

static clseg_status run_add(verify_run *r, const void *arg)
{
    const act_arg *a = arg;
    clseg_tensor *x = verify_input(r, a->shape, VERIFY_UNIFORM), *y = verify_input(r, a->shape, VERIFY_UNIFORM);
    return clseg_add(verify_ctx(r), x, y, verify_output(r, a->shape, VERIFY_UNIFORM));
}

/* Three inputs of 1, 2 and shape.c channels. */
static clseg_status run_concat_forward(verify_run *r, const void *arg)
{
    const act_arg *a = arg;
    clseg_shape s = a->shape;
    const clseg_tensor *in[3] = {verify_input(r, (clseg_shape){s.n, 1, s.h, s.w}, VERIFY_UNIFORM),
                                 verify_input(r, (clseg_shape){s.n, 2, s.h, s.w}, VERIFY_UNIFORM),
                                 verify_input(r, s, VERIFY_UNIFORM)};
    clseg_tensor *y = verify_output(r, (clseg_shape){s.n, s.c + 3, s.h, s.w}, VERIFY_UNIFORM);
    return clseg_concat_forward(verify_ctx(r), in, 3, y);
}

static clseg_status run_concat_backward(verify_run *r, const void *arg)
{
    const act_arg *a = arg;
    clseg_shape s = a->shape;
    clseg_tensor *dy = verify_input(r, (clseg_shape){s.n, s.c + 3, s.h, s.w}, VERIFY_UNIFORM);
    clseg_tensor *d[3] = {verify_output(r, (clseg_shape){s.n, 1, s.h, s.w}, VERIFY_UNIFORM),
                          verify_output(r, (clseg_shape){s.n, 2, s.h, s.w}, VERIFY_UNIFORM),
                          verify_output(r, s, VERIFY_UNIFORM)};
    return clseg_concat_backward(verify_ctx(r), dy, d, 3, a->beta);
}


static const act_arg one = {VERIFY_ONE, 0}, odd = {VERIFY_ODD, 0}, odd2 = {VERIFY_ODD2, 0}, wide = {VERIFY_WIDE, 0};
static const act_arg one_acc = {VERIFY_ONE, 1.0f}, odd_acc = {VERIFY_ODD, 0.5f}, odd2_acc = {VERIFY_ODD2, 1.0f}, wide_acc = {VERIFY_WIDE, 1.0f};
static const act_arg drop_odd = {VERIFY_ODD2, 0.3f}, drop_zero = {VERIFY_ODD, 0.0f}, drop_wide = {VERIFY_WIDE, 0.5f};

/* ReLU, dropout, addition and concatenation are exact; accumulation rounds once (a device
 * may fuse it into one multiply-add); sigmoid follows the device's exp(), which OpenCL allows
 * 3 ulp of error. */
static const verify_case cases[] = {
    {"relu.forward", "1x1x1x1", run_relu_forward, &one, 0},
    {"relu.forward", "2x5x13x11", run_relu_forward, &odd2, 0},
    {"relu.forward", "8x32x64x64", run_relu_forward, &wide, 0},
    {"relu.backward", "1x1x1x1 beta=0", run_relu_backward, &one, 0},
    {"relu.backward", "1x3x7x9 beta=0.5", run_relu_backward, &odd_acc, 1e-6},
    {"relu.backward", "8x32x64x64 beta=1", run_relu_backward, &wide_acc, 1e-6},
    {"sigmoid.forward", "1x1x1x1", run_sigmoid_forward, &one, 1e-6},
    {"sigmoid.forward", "2x5x13x11", run_sigmoid_forward, &odd2, 1e-6},
    {"sigmoid.backward", "1x3x7x9 beta=0", run_sigmoid_backward, &odd, 1e-6},
    {"sigmoid.backward", "2x5x13x11 beta=1", run_sigmoid_backward, &odd2_acc, 1e-6},
    {"dropout.forward", "2x5x13x11 p=0.3", run_dropout_forward, &drop_odd, 0},
    {"dropout.forward", "1x3x7x9 p=0", run_dropout_forward, &drop_zero, 0},
    {"dropout.forward", "8x32x64x64 p=0.5", run_dropout_forward, &drop_wide, 0},
    {"dropout.backward", "1x1x1x1 beta=1", run_dropout_backward, &one_acc, 1e-6},
    {"dropout.backward", "2x5x13x11 beta=0", run_dropout_backward, &odd2, 0},
    {"add", "1x1x1x1", run_add, &one, 0},
    {"add", "2x5x13x11", run_add, &odd2, 0},
    {"add", "8x32x64x64", run_add, &wide, 0},
    {"concat.forward", "1x1x1x1 + 2 + 1 channels", run_concat_forward, &one, 0},
    {"concat.forward", "2x(1,2,5)x13x11", run_concat_forward, &odd2, 0},
    {"concat.backward", "1x(1,2,3)x7x9 beta=0", run_concat_backward, &odd, 0},
    {"concat.backward", "2x(1,2,5)x13x11 beta=1", run_concat_backward, &odd2_acc, 1e-6},
};

const verify_family clseg_verify_activation = {cases, sizeof cases / sizeof cases[0]};
