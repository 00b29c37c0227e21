#include "verify/verify_case.h"

typedef struct sgd_arg {
    clseg_shape shape;
    clseg_sgd_desc desc;
    int64_t step;
} sgd_arg;

typedef struct adam_arg {
    clseg_shape shape;
    clseg_adam_desc desc;
    int64_t step;
} adam_arg;

static clseg_status run_sgd(verify_run *r, const void *arg)
{
    const sgd_arg *a = arg;
    clseg_tensor *p = verify_output(r, a->shape, VERIFY_UNIFORM), *g = verify_input(r, a->shape, VERIFY_UNIFORM);
    clseg_tensor *v = a->desc.momentum != 0.0f ? verify_output(r, a->shape, VERIFY_UNIFORM) : NULL;
    return clseg_sgd_step(verify_ctx(r), &a->desc, a->step, p, g, v);
}

static clseg_status run_adam(verify_run *r, const void *arg)
{
    const adam_arg *a = arg;
    clseg_tensor *p = verify_output(r, a->shape, VERIFY_UNIFORM), *g = verify_input(r, a->shape, VERIFY_UNIFORM);
    clseg_tensor *m = verify_output(r, a->shape, VERIFY_UNIFORM), *v = verify_output(r, a->shape, VERIFY_POSITIVE);
    return clseg_adam_step(verify_ctx(r), &a->desc, a->step, p, g, m, v);
}


static const sgd_arg sgd_plain = {VERIFY_ODD2, {0.1f, 0, 0, 0, 0}, 1};
static const sgd_arg sgd_plain_wd = {VERIFY_WIDE, {0.05f, 0, 0, 1e-2f, 0}, 3};
static const sgd_arg sgd_mom1 = {VERIFY_ONE, {0.1f, 0.9f, 0.1f, 0, 0}, 1};
static const sgd_arg sgd_mom1_odd = {VERIFY_ODD2, {0.1f, 0.9f, 0.1f, 1e-4f, 0}, 1};
static const sgd_arg sgd_mom5 = {VERIFY_ODD2, {0.1f, 0.9f, 0.1f, 1e-4f, 0}, 5};
static const sgd_arg sgd_nesterov = {VERIFY_WIDE, {0.01f, 0.9f, 0, 5e-4f, 1}, 5};
static const adam_arg adam1 = {VERIFY_ONE, {1e-3f, 0.9f, 0.999f, 1e-8f, 0, 0}, 1};
static const adam_arg adam5 = {VERIFY_ODD2, {1e-2f, 0.9f, 0.999f, 1e-8f, 1e-2f, 0}, 5};
static const adam_arg adam_wide = {VERIFY_WIDE, {1e-3f, 0.8f, 0.99f, 1e-6f, 0, 0}, 1000};
static const adam_arg adamw1 = {VERIFY_ONE, {1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, 1}, 1};
static const adam_arg adamw5 = {VERIFY_ODD2, {1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 1}, 5};
static const adam_arg adamw_wide = {VERIFY_WIDE, {1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, 1}, 2};

/* One element-wise update: float32 rounds each of a handful of operations on values below
 * ~3 once (fused multiply-adds allowed), sqrt and division within 3 ulp, so a result differs
 * from the double reference by a few 1e-7 of max(1, |value|) (measured: 1.2e-7, one ulp). */
#define OPTIM_RTOL 1e-6

static const verify_case cases[] = {
    {"sgd.step", "2x5x13x11 plain step 1", run_sgd, &sgd_plain, OPTIM_RTOL},
    {"sgd.step", "8x32x64x64 plain wd step 3", run_sgd, &sgd_plain_wd, OPTIM_RTOL},
    {"sgd.step", "1x1x1x1 momentum step 1", run_sgd, &sgd_mom1, OPTIM_RTOL},
    {"sgd.step", "2x5x13x11 momentum wd step 1", run_sgd, &sgd_mom1_odd, OPTIM_RTOL},
    {"sgd.step", "2x5x13x11 momentum wd step 5", run_sgd, &sgd_mom5, OPTIM_RTOL},
    {"sgd.step", "8x32x64x64 nesterov wd step 5", run_sgd, &sgd_nesterov, OPTIM_RTOL},
    {"adam.step", "1x1x1x1 step 1", run_adam, &adam1, OPTIM_RTOL},
    {"adam.step", "2x5x13x11 wd step 5", run_adam, &adam5, OPTIM_RTOL},
    {"adam.step", "8x32x64x64 step 1000", run_adam, &adam_wide, OPTIM_RTOL},
    {"adamw.step", "1x1x1x1 step 1", run_adam, &adamw1, OPTIM_RTOL},
    {"adamw.step", "2x5x13x11 step 5", run_adam, &adamw5, OPTIM_RTOL},
    {"adamw.step", "8x32x64x64 step 2", run_adam, &adamw_wide, OPTIM_RTOL},
};

const verify_family clseg_verify_optim = {cases, sizeof cases / sizeof cases[0]};
