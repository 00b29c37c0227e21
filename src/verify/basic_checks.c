#include "verify/verify_case.h"

typedef struct basic_arg {
    clseg_shape shape;
    float alpha, beta;
} basic_arg;

static clseg_status run_fill(verify_run *r, const void *arg)
{
    const basic_arg *a = arg;
    return clseg_fill(verify_ctx(r), verify_output(r, a->shape, VERIFY_UNIFORM), a->alpha);
}

static clseg_status run_copy(verify_run *r, const void *arg)
{
    const basic_arg *a = arg;
    clseg_tensor *x = verify_input(r, a->shape, VERIFY_UNIFORM);
    return clseg_copy(verify_ctx(r), x, verify_output(r, a->shape, VERIFY_UNIFORM));
}

static clseg_status run_scale(verify_run *r, const void *arg)
{
    const basic_arg *a = arg;
    return clseg_scale(verify_ctx(r), verify_output(r, a->shape, VERIFY_UNIFORM), a->alpha);
}

static clseg_status run_axpby(verify_run *r, const void *arg)
{
    const basic_arg *a = arg;
    clseg_tensor *x = verify_input(r, a->shape, VERIFY_UNIFORM);
    return clseg_axpby(verify_ctx(r), a->alpha, x, a->beta, verify_output(r, a->shape, VERIFY_UNIFORM));
}

static clseg_status run_sum(verify_run *r, const void *arg)
{
    const basic_arg *a = arg;
    clseg_context *ctx = verify_ctx(r);
    clseg_tensor *x = verify_input(r, a->shape, VERIFY_POSITIVE);
    clseg_tensor *ws = verify_workspace(r, clseg_sum_workspace_bytes(ctx, clseg_shape_numel(a->shape)));
    return clseg_sum(ctx, x, verify_output(r, (clseg_shape){1, 1, 1, 1}, VERIFY_UNIFORM), ws);
}

#define BIG {1, 1, 1, 1048579}

/* Element-wise ops are exact or within one rounding; a float32 sum of positive values differs
 * from the double reference by a few ulps per tree level (log2 n levels). */
static const basic_arg fill1 = {VERIFY_ONE, 3.5f, 0}, fill_odd = {VERIFY_ODD2, -1.25f, 0}, fill_big = {BIG, 0.5f, 0};
static const basic_arg copy1 = {VERIFY_ONE, 0, 0}, copy_odd = {VERIFY_ODD, 0, 0}, copy_big = {BIG, 0, 0};
static const basic_arg scale_odd = {VERIFY_ODD2, -0.375f, 0}, scale_big = {BIG, 3.0f, 0};
static const basic_arg axpby1 = {VERIFY_ONE, 2.0f, -1.0f}, axpby_odd = {VERIFY_ODD2, 0.7f, 1.3f}, axpby_beta0 = {VERIFY_ODD, -1.5f, 0.0f},
                       axpby_big = {BIG, 1.0f, 1.0f};
static const basic_arg sum1 = {VERIFY_ONE, 0, 0}, sum7 = {{1, 1, 1, 7}, 0, 0}, sum_odd = {VERIFY_ODD2, 0, 0},
                       sum_mid = {{1, 1, 257, 255}, 0, 0}, sum_big = {BIG, 0, 0};

static const verify_case cases[] = {
    {"fill", "1x1x1x1", run_fill, &fill1, 0},
    {"fill", "2x5x13x11", run_fill, &fill_odd, 0},
    {"fill", "1x1x1x1048579", run_fill, &fill_big, 0},
    {"copy", "1x1x1x1", run_copy, &copy1, 0},
    {"copy", "1x3x7x9", run_copy, &copy_odd, 0},
    {"copy", "1x1x1x1048579", run_copy, &copy_big, 0},
    {"scale", "2x5x13x11 alpha=-0.375", run_scale, &scale_odd, 0},
    {"scale", "1x1x1x1048579 alpha=3", run_scale, &scale_big, 1e-7},
    {"axpby", "1x1x1x1 alpha=2 beta=-1", run_axpby, &axpby1, 1e-6},
    {"axpby", "2x5x13x11 alpha=0.7 beta=1.3", run_axpby, &axpby_odd, 1e-6},
    {"axpby", "1x3x7x9 alpha=-1.5 beta=0", run_axpby, &axpby_beta0, 1e-6},
    {"axpby", "1x1x1x1048579 alpha=1 beta=1", run_axpby, &axpby_big, 1e-6},
    {"sum", "1x1x1x1", run_sum, &sum1, 1e-6},
    {"sum", "1x1x1x7", run_sum, &sum7, 1e-6},
    {"sum", "2x5x13x11", run_sum, &sum_odd, 1e-5},
    {"sum", "1x1x257x255", run_sum, &sum_mid, 1e-5},
    {"sum", "1x1x1x1048579", run_sum, &sum_big, 1e-5},
};

const verify_family clseg_verify_basic = {cases, sizeof cases / sizeof cases[0]};
