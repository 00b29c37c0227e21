#include "verify/verify_case.h"

typedef struct conv_arg {
    clseg_shape x;
    int out_channels;
    clseg_conv2d_desc d;
    int bias;
    float beta;
} conv_arg;

static clseg_shape weight_shape(const conv_arg *a)
{
    return a->d.transposed ? (clseg_shape){a->x.c, a->out_channels, a->d.kernel_h, a->d.kernel_w}
                           : (clseg_shape){a->out_channels, a->x.c, a->d.kernel_h, a->d.kernel_w};
}

/* y's shape and the workspace; the case's geometry is valid by construction. */
static clseg_tensor *setup(verify_run *r, const conv_arg *a, clseg_shape *y)
{
    clseg_shape w = weight_shape(a);
    if (clseg_conv2d_output_shape(&a->d, a->x, w, y) != CLSEG_STATUS_SUCCESS)
        *y = (clseg_shape){0, 0, 0, 0};
    return verify_workspace(r, clseg_conv2d_workspace_bytes(verify_ctx(r), &a->d, a->x, w));
}

static clseg_status run_forward(verify_run *r, const void *arg)
{
    const conv_arg *a = arg;
    clseg_shape ys;
    clseg_tensor *ws = setup(r, a, &ys);
    clseg_tensor *x = verify_input(r, a->x, VERIFY_UNIFORM), *w = verify_input(r, weight_shape(a), VERIFY_UNIFORM);
    clseg_tensor *bias = a->bias ? verify_input(r, (clseg_shape){1, ys.c, 1, 1}, VERIFY_UNIFORM) : NULL;
    return clseg_conv2d_forward(verify_ctx(r), &a->d, x, w, bias, verify_output(r, ys, VERIFY_UNIFORM), ws);
}

static clseg_status run_backward_data(verify_run *r, const void *arg)
{
    const conv_arg *a = arg;
    clseg_shape ys;
    clseg_tensor *ws = setup(r, a, &ys);
    clseg_tensor *dy = verify_input(r, ys, VERIFY_UNIFORM), *w = verify_input(r, weight_shape(a), VERIFY_UNIFORM);
    return clseg_conv2d_backward_data(verify_ctx(r), &a->d, dy, w, verify_output(r, a->x, VERIFY_UNIFORM), a->beta, ws);
}

static clseg_status run_backward_weights(verify_run *r, const void *arg)
{
    const conv_arg *a = arg;
    clseg_shape ys;
    clseg_tensor *ws = setup(r, a, &ys);
    clseg_tensor *x = verify_input(r, a->x, VERIFY_UNIFORM), *dy = verify_input(r, ys, VERIFY_UNIFORM);
    clseg_tensor *dw = verify_output(r, weight_shape(a), VERIFY_UNIFORM);
    clseg_tensor *db = a->bias ? verify_output(r, (clseg_shape){1, ys.c, 1, 1}, VERIFY_UNIFORM) : NULL;
    return clseg_conv2d_backward_weights(verify_ctx(r), &a->d, x, dy, dw, db, a->beta, ws);
}

/* kernel kh x kw, stride, pad, dilation, output pad, transposed */
#define DESC(kh, kw, s, p, dil, op, tr)                                                                                \
    {                                                                                                                  \
        kh, kw, s, s, p, p, dil, dil, op, op, tr                                                                       \
    }

static const conv_arg one = {{1, 1, 1, 1}, 1, DESC(1, 1, 1, 0, 1, 0, 0), 1, 0.0f};
static const conv_arg odd = {{1, 3, 7, 9}, 4, DESC(3, 3, 1, 1, 1, 0, 0), 1, 1.0f};
static const conv_arg odd_s2 = {{2, 5, 13, 11}, 6, DESC(3, 3, 2, 1, 1, 0, 0), 0, 0.0f};
static const conv_arg rect = {{2, 3, 11, 13}, 5, {3, 5, 1, 2, 1, 2, 1, 1, 0, 0, 0}, 1, 0.5f};
static const conv_arg dil2 = {{2, 4, 15, 17}, 3, DESC(3, 3, 1, 2, 2, 0, 0), 1, 1.0f};
static const conv_arg dil6 = {{1, 8, 33, 29}, 8, DESC(3, 3, 1, 6, 6, 0, 0), 0, 0.0f};
static const conv_arg pointwise = {{2, 16, 13, 11}, 7, DESC(1, 1, 1, 0, 1, 0, 0), 1, 1.0f};
static const conv_arg unet = {{2, 32, 64, 64}, 64, DESC(3, 3, 1, 1, 1, 0, 0), 1, 1.0f};
/* onto at most 4 channels with rows of 64 or more: the CPU kernels' narrow panels (a classifier;
 * backward to the 3-channel input) */
static const conv_arg narrow = {{2, 3, 16, 96}, 2, DESC(3, 3, 1, 1, 1, 0, 0), 1, 0.5f};
/* ... every width of them: panels computing 4 channels (forward), 3 (backward) and 1 */
static const conv_arg narrow4 = {{2, 3, 9, 128}, 4, DESC(3, 3, 1, 1, 1, 0, 0), 1, 0.5f};
static const conv_arg classifier = {{2, 8, 5, 64}, 1, DESC(3, 3, 1, 1, 1, 0, 0), 1, 0.0f};
static const conv_arg up2 = {{2, 16, 9, 7}, 8, DESC(2, 2, 2, 0, 1, 0, 1), 1, 0.0f};
static const conv_arg up3 = {{2, 8, 7, 9}, 5, DESC(3, 3, 2, 1, 1, 1, 1), 1, 1.0f};
static const conv_arg up_dil = {{1, 3, 6, 5}, 4, {3, 3, 1, 2, 1, 0, 2, 2, 1, 1, 1}, 0, 0.5f};
static const conv_arg up_one = {{1, 1, 1, 1}, 1, DESC(1, 1, 1, 0, 1, 0, 1), 0, 0.0f};
static const conv_arg up_unet = {{2, 64, 32, 32}, 32, DESC(2, 2, 2, 0, 1, 0, 1), 1, 1.0f};
static const conv_arg up_pointwise = {{2, 6, 5, 7}, 3, DESC(1, 1, 1, 0, 1, 0, 1), 1, 1.0f};

/* Every output is a sum of K = C kh kw (forward), K_out kh kw (backward to the input) or
 * N Ho Wo (weights) products, summed by the GEMM in float32 against the reference's double:
 * the error grows like sqrt(K) eps relative to the sum of |terms|. The largest K here is the
 * U-Net weight gradient's 2 * 64 * 64 = 8192 terms: its partial sums reach ~30, so float32
 * rounds each addition by ~30 * 6e-8 and sqrt(8192) ~ 90 of those add up to ~2e-4 against
 * sums of ~1..30: that case and the U-Net transposed layer's (2 * 32 * 32 = 2048 terms) get 1e-3, every other
 * one 1e-4. */
static const verify_case cases[] = {
    {"conv2d.forward", "1x1x1x1 k1 bias", run_forward, &one, 1e-4},
    {"conv2d.forward", "1x3x7x9 -> 4 k3 p1 bias", run_forward, &odd, 1e-4},
    {"conv2d.forward", "2x5x13x11 -> 6 k3 s2 p1", run_forward, &odd_s2, 1e-4},
    {"conv2d.forward", "2x3x11x13 -> 5 k3x5 s1x2 p1x2 bias", run_forward, &rect, 1e-4},
    {"conv2d.forward", "2x4x15x17 -> 3 k3 d2 p2 bias", run_forward, &dil2, 1e-4},
    {"conv2d.forward", "1x8x33x29 -> 8 k3 d6 p6", run_forward, &dil6, 1e-4},
    {"conv2d.forward", "2x16x13x11 -> 7 k1 bias", run_forward, &pointwise, 1e-4},
    {"conv2d.forward", "2x32x64x64 -> 64 k3 p1 bias", run_forward, &unet, 1e-4},
    {"conv2d.forward", "2x3x16x96 -> 2 k3 p1 bias", run_forward, &narrow, 1e-4},
    {"conv2d.forward", "2x3x9x128 -> 4 k3 p1 bias", run_forward, &narrow4, 1e-4},
    {"conv2d.forward", "2x8x5x64 -> 1 k3 p1 bias", run_forward, &classifier, 1e-4},
    {"conv2d.backward_data", "1x1x1x1 k1 beta=0", run_backward_data, &one, 1e-4},
    {"conv2d.backward_data", "1x3x7x9 k3 p1 beta=1", run_backward_data, &odd, 1e-4},
    {"conv2d.backward_data", "2x5x13x11 k3 s2 p1 beta=0", run_backward_data, &odd_s2, 1e-4},
    {"conv2d.backward_data", "2x3x11x13 k3x5 s1x2 p1x2 beta=0.5", run_backward_data, &rect, 1e-4},
    {"conv2d.backward_data", "2x4x15x17 k3 d2 p2 beta=1", run_backward_data, &dil2, 1e-4},
    {"conv2d.backward_data", "1x8x33x29 k3 d6 p6 beta=0", run_backward_data, &dil6, 1e-4},
    {"conv2d.backward_data", "2x16x13x11 k1 beta=1", run_backward_data, &pointwise, 1e-4},
    {"conv2d.backward_data", "2x32x64x64 -> 64 k3 p1 beta=1", run_backward_data, &unet, 1e-4},
    {"conv2d.backward_data", "2x3x16x96 -> 2 k3 p1 beta=0.5", run_backward_data, &narrow, 1e-4},
    {"conv2d.backward_data", "2x3x9x128 -> 4 k3 p1 beta=0.5", run_backward_data, &narrow4, 1e-4},
    {"conv2d.backward_weights", "1x1x1x1 k1 bias beta=0", run_backward_weights, &one, 1e-4},
    {"conv2d.backward_weights", "1x3x7x9 k3 p1 bias beta=1", run_backward_weights, &odd, 1e-4},
    {"conv2d.backward_weights", "2x5x13x11 k3 s2 p1 beta=0", run_backward_weights, &odd_s2, 1e-4},
    {"conv2d.backward_weights", "2x3x11x13 k3x5 s1x2 p1x2 bias beta=0.5", run_backward_weights, &rect, 1e-4},
    {"conv2d.backward_weights", "2x4x15x17 k3 d2 p2 bias beta=1", run_backward_weights, &dil2, 1e-4},
    {"conv2d.backward_weights", "1x8x33x29 k3 d6 p6 beta=0", run_backward_weights, &dil6, 1e-4},
    {"conv2d.backward_weights", "2x16x13x11 k1 bias beta=1", run_backward_weights, &pointwise, 1e-4},
    {"conv2d.backward_weights", "2x32x64x64 -> 64 k3 p1 bias beta=1", run_backward_weights, &unet, 1e-3},
    {"conv2d.backward_weights", "2x3x16x96 -> 2 k3 p1 bias beta=0.5", run_backward_weights, &narrow, 1e-4},
    {"deconv2d.forward", "1x1x1x1 k1", run_forward, &up_one, 1e-4},
    {"deconv2d.forward", "2x16x9x7 -> 8 k2 s2 bias", run_forward, &up2, 1e-4},
    {"deconv2d.forward", "2x8x7x9 -> 5 k3 s2 p1 op1 bias", run_forward, &up3, 1e-4},
    {"deconv2d.forward", "1x3x6x5 -> 4 k3 d2 p2 op1", run_forward, &up_dil, 1e-4},
    {"deconv2d.forward", "2x6x5x7 -> 3 k1 bias", run_forward, &up_pointwise, 1e-4},
    {"deconv2d.forward", "2x64x32x32 -> 32 k2 s2 bias", run_forward, &up_unet, 1e-4},
    {"deconv2d.backward_data", "1x1x1x1 k1 beta=0", run_backward_data, &up_one, 1e-4},
    {"deconv2d.backward_data", "2x16x9x7 k2 s2 beta=0", run_backward_data, &up2, 1e-4},
    {"deconv2d.backward_data", "2x8x7x9 k3 s2 p1 op1 beta=1", run_backward_data, &up3, 1e-4},
    {"deconv2d.backward_data", "1x3x6x5 k3 d2 p2 op1 beta=0.5", run_backward_data, &up_dil, 1e-4},
    {"deconv2d.backward_data", "2x6x5x7 k1 beta=1", run_backward_data, &up_pointwise, 1e-4},
    {"deconv2d.backward_data", "2x64x32x32 -> 32 k2 s2 beta=1", run_backward_data, &up_unet, 1e-4},
    {"deconv2d.backward_weights", "1x1x1x1 k1 beta=0", run_backward_weights, &up_one, 1e-4},
    {"deconv2d.backward_weights", "2x16x9x7 k2 s2 bias beta=0", run_backward_weights, &up2, 1e-4},
    {"deconv2d.backward_weights", "2x8x7x9 k3 s2 p1 op1 bias beta=1", run_backward_weights, &up3, 1e-4},
    {"deconv2d.backward_weights", "1x3x6x5 k3 d2 p2 op1 beta=0.5", run_backward_weights, &up_dil, 1e-4},
    {"deconv2d.backward_weights", "2x6x5x7 k1 bias beta=1", run_backward_weights, &up_pointwise, 1e-4},
    {"deconv2d.backward_weights", "2x64x32x32 -> 32 k2 s2 bias beta=1", run_backward_weights, &up_unet, 1e-3},
};

const verify_family clseg_verify_conv = {cases, sizeof cases / sizeof cases[0]};
