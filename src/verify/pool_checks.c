#include "verify/verify_case.h"

typedef struct pool_arg {
    clseg_shape x; /* the unpooled shape */
    clseg_pool2d_desc d;
    float beta; /* backward accumulation */
    verify_values values;
} pool_arg;

static clseg_shape pooled(const pool_arg *a)
{
    clseg_shape y = {0, 0, 0, 0};
    clseg_pool2d_output_shape(&a->d, a->x, &y); /* the cases' descs are valid */
    return y;
}

/* Max pooling of a drawn x into temporaries: the indices every other case needs. */
static clseg_status pool_temp(verify_run *r, const pool_arg *a, clseg_tensor **indices)
{
    clseg_tensor *x = verify_input(r, a->x, a->values), *y = verify_temp(r, pooled(a));
    *indices = verify_temp(r, pooled(a));
    return clseg_maxpool2d_forward(verify_ctx(r), &a->d, x, y, *indices);
}

static clseg_status run_maxpool_forward(verify_run *r, const void *arg)
{
    const pool_arg *a = arg;
    clseg_tensor *x = verify_input(r, a->x, a->values);
    clseg_tensor *y = verify_output(r, pooled(a), VERIFY_UNIFORM), *i = verify_output(r, pooled(a), VERIFY_UNIFORM);
    return clseg_maxpool2d_forward(verify_ctx(r), &a->d, x, y, i);
}

static clseg_status run_maxpool_backward(verify_run *r, const void *arg)
{
    const pool_arg *a = arg;
    clseg_tensor *indices = NULL;
    clseg_status st = pool_temp(r, a, &indices);
    clseg_tensor *dy = verify_input(r, pooled(a), VERIFY_UNIFORM), *dx = verify_output(r, a->x, VERIFY_UNIFORM);
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_maxpool2d_backward(verify_ctx(r), &a->d, dy, indices, dx, a->beta);
}

static clseg_status run_maxunpool_forward(verify_run *r, const void *arg)
{
    const pool_arg *a = arg;
    clseg_tensor *indices = NULL;
    clseg_status st = pool_temp(r, a, &indices);
    clseg_tensor *x = verify_input(r, pooled(a), VERIFY_UNIFORM), *y = verify_output(r, a->x, VERIFY_UNIFORM);
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_maxunpool2d_forward(verify_ctx(r), &a->d, x, indices, y);
}

static clseg_status run_maxunpool_backward(verify_run *r, const void *arg)
{
    const pool_arg *a = arg;
    clseg_tensor *indices = NULL;
    clseg_status st = pool_temp(r, a, &indices);
    clseg_tensor *dy = verify_input(r, a->x, VERIFY_UNIFORM), *dx = verify_output(r, pooled(a), VERIFY_UNIFORM);
    return st != CLSEG_STATUS_SUCCESS ? st
                                      : clseg_maxunpool2d_backward(verify_ctx(r), &a->d, dy, indices, dx, a->beta);
}

static clseg_status run_gap_forward(verify_run *r, const void *arg)
{
    const pool_arg *a = arg;
    clseg_tensor *x = verify_input(r, a->x, VERIFY_UNIFORM);
    clseg_tensor *y = verify_output(r, (clseg_shape){a->x.n, a->x.c, 1, 1}, VERIFY_UNIFORM);
    return clseg_global_avgpool_forward(verify_ctx(r), x, y);
}

static clseg_status run_gap_backward(verify_run *r, const void *arg)
{
    const pool_arg *a = arg;
    clseg_tensor *dy = verify_input(r, (clseg_shape){a->x.n, a->x.c, 1, 1}, VERIFY_UNIFORM);
    return clseg_global_avgpool_backward(verify_ctx(r), dy, verify_output(r, a->x, VERIFY_UNIFORM), a->beta);
}

#define K2S2 {2, 2, 2, 2, 0, 0}
#define K3S2P1 {3, 3, 2, 2, 1, 1}
#define K3S1P1 {3, 3, 1, 1, 1, 1}
#define K3S1 {3, 3, 1, 1, 0, 0}
#define K3X2 {3, 2, 2, 1, 1, 1} /* rectangular: 3x2 window, strides 2 and 1, padding 1 and 1 */

/* Integer inputs make ties common, which checks the first-maximum rule on the device. */
static const pool_arg one = {VERIFY_ONE, K3S2P1, 0, VERIFY_UNIFORM}, one_acc = {VERIFY_ONE, K3S1P1, 1, VERIFY_UNIFORM};
static const pool_arg odd_k2 = {VERIFY_ODD, K2S2, 0, VERIFY_INTEGERS}, odd_k3s1 = {VERIFY_ODD, K3S1, 1, VERIFY_INTEGERS};
static const pool_arg odd_rect = {VERIFY_ODD, K3X2, 0.5f, VERIFY_INTEGERS};
static const pool_arg odd2_k3s2 = {VERIFY_ODD2, K3S2P1, 0, VERIFY_INTEGERS}, odd2_k3s2_acc = {VERIFY_ODD2, K3S2P1, 1, VERIFY_UNIFORM};
static const pool_arg odd2_k3s1 = {VERIFY_ODD2, K3S1P1, 1, VERIFY_INTEGERS}, odd2_k2 = {VERIFY_ODD2, K2S2, 1, VERIFY_UNIFORM};
static const pool_arg wide_k2 = {VERIFY_WIDE, K2S2, 0, VERIFY_UNIFORM}, wide_k3s2 = {VERIFY_WIDE, K3S2P1, 1, VERIFY_UNIFORM};
static const pool_arg wide_k3s2_ints = {VERIFY_WIDE, K3S2P1, 0, VERIFY_INTEGERS}; /* ties between windows */
static const pool_arg gap_one = {VERIFY_ONE, K2S2, 0, VERIFY_UNIFORM}, gap_odd = {VERIFY_ODD, K2S2, 1, VERIFY_UNIFORM};
static const pool_arg gap_odd2 = {VERIFY_ODD2, K2S2, 0, VERIFY_UNIFORM}, gap_wide = {VERIFY_WIDE, K2S2, 1, VERIFY_UNIFORM};

/* Max pooling and moving values to or from recorded positions are exact. Where windows overlap
 * (k > s) several values may add up in one position, in a fixed order, in float on the device
 * and in double in the reference: 1e-6. Accumulating with beta rounds once more: 1e-6. Global
 * average pooling sums a plane in a different order (a tree of partial sums in float) than the
 * reference (sequentially in double): 4096 uniform values in [-1, 1) stay within 1e-5. */
static const verify_case cases[] = {
    {"maxpool2d.forward", "1x1x1x1 k3 s2 p1", run_maxpool_forward, &one, 0},
    {"maxpool2d.forward", "1x3x7x9 k2 s2 ints", run_maxpool_forward, &odd_k2, 0},
    {"maxpool2d.forward", "1x3x7x9 k3 s1 ints", run_maxpool_forward, &odd_k3s1, 0},
    {"maxpool2d.forward", "1x3x7x9 k3x2 s2x1 p1 ints", run_maxpool_forward, &odd_rect, 0},
    {"maxpool2d.forward", "2x5x13x11 k3 s2 p1 ints", run_maxpool_forward, &odd2_k3s2, 0},
    {"maxpool2d.forward", "8x32x64x64 k2 s2", run_maxpool_forward, &wide_k2, 0},
    {"maxpool2d.forward", "8x32x64x64 k3 s2 p1", run_maxpool_forward, &wide_k3s2, 0},
    {"maxpool2d.forward", "8x32x64x64 k3 s2 p1 ints", run_maxpool_forward, &wide_k3s2_ints, 0},
    {"maxpool2d.backward", "1x1x1x1 k3 s2 p1 beta=0", run_maxpool_backward, &one, 0},
    {"maxpool2d.backward", "1x1x1x1 k3 s1 p1 beta=1", run_maxpool_backward, &one_acc, 1e-6},
    {"maxpool2d.backward", "1x3x7x9 k2 s2 beta=0", run_maxpool_backward, &odd_k2, 0},
    {"maxpool2d.backward", "1x3x7x9 k3 s1 beta=1", run_maxpool_backward, &odd_k3s1, 1e-6},
    {"maxpool2d.backward", "1x3x7x9 k3x2 s2x1 p1 beta=0.5", run_maxpool_backward, &odd_rect, 1e-6},
    {"maxpool2d.backward", "2x5x13x11 k3 s2 p1 beta=0", run_maxpool_backward, &odd2_k3s2, 1e-6},
    {"maxpool2d.backward", "2x5x13x11 k3 s1 p1 beta=1", run_maxpool_backward, &odd2_k3s1, 1e-6},
    {"maxpool2d.backward", "8x32x64x64 k2 s2 beta=0", run_maxpool_backward, &wide_k2, 0},
    {"maxpool2d.backward", "8x32x64x64 k3 s2 p1 beta=1", run_maxpool_backward, &wide_k3s2, 1e-6},
    {"maxpool2d.backward", "8x32x64x64 k3 s2 p1 ints beta=0", run_maxpool_backward, &wide_k3s2_ints, 1e-6},
    {"maxunpool2d.forward", "1x1x1x1 k3 s2 p1", run_maxunpool_forward, &one, 0},
    {"maxunpool2d.forward", "1x3x7x9 k2 s2", run_maxunpool_forward, &odd_k2, 0},
    {"maxunpool2d.forward", "1x3x7x9 k3 s1 ints", run_maxunpool_forward, &odd_k3s1, 1e-6},
    {"maxunpool2d.forward", "2x5x13x11 k3 s2 p1", run_maxunpool_forward, &odd2_k3s2_acc, 1e-6},
    {"maxunpool2d.forward", "8x32x64x64 k2 s2", run_maxunpool_forward, &wide_k2, 0},
    {"maxunpool2d.forward", "8x32x64x64 k3 s2 p1 ints", run_maxunpool_forward, &wide_k3s2_ints, 1e-6},
    {"maxunpool2d.backward", "1x1x1x1 k3 s2 p1 beta=0", run_maxunpool_backward, &one, 0},
    {"maxunpool2d.backward", "1x3x7x9 k3x2 s2x1 p1 beta=0.5", run_maxunpool_backward, &odd_rect, 1e-6},
    {"maxunpool2d.backward", "2x5x13x11 k2 s2 beta=1", run_maxunpool_backward, &odd2_k2, 1e-6},
    {"maxunpool2d.backward", "2x5x13x11 k3 s2 p1 beta=0", run_maxunpool_backward, &odd2_k3s2, 0},
    {"maxunpool2d.backward", "8x32x64x64 k3 s2 p1 beta=1", run_maxunpool_backward, &wide_k3s2, 1e-6},
    {"global_avgpool.forward", "1x1x1x1", run_gap_forward, &gap_one, 1e-6},
    {"global_avgpool.forward", "1x3x7x9", run_gap_forward, &gap_odd, 1e-6},
    {"global_avgpool.forward", "2x5x13x11", run_gap_forward, &gap_odd2, 1e-6},
    {"global_avgpool.forward", "8x32x64x64", run_gap_forward, &gap_wide, 1e-5},
    {"global_avgpool.backward", "1x1x1x1 beta=0", run_gap_backward, &gap_one, 1e-6},
    {"global_avgpool.backward", "1x3x7x9 beta=1", run_gap_backward, &gap_odd, 1e-6},
    {"global_avgpool.backward", "2x5x13x11 beta=0", run_gap_backward, &gap_odd2, 1e-6},
    {"global_avgpool.backward", "8x32x64x64 beta=1", run_gap_backward, &gap_wide, 1e-6},
};

const verify_family clseg_verify_pool = {cases, sizeof cases / sizeof cases[0]};
