#include "verify/verify_case.h"

typedef struct ups_arg {
    clseg_shape x;
    int64_t oh, ow; /* the output size when the desc gives no scale */
    clseg_upsample_desc d;
    float beta; /* backward accumulation */
    verify_values values;
} ups_arg;

static clseg_shape out_shape(const ups_arg *a)
{
    clseg_shape y = {a->x.n, a->x.c, a->oh, a->ow};
    if (a->d.scale_h > 0)
        clseg_upsample2d_output_shape(&a->d, a->x, &y); /* the cases' descs are valid */
    return y;
}

static clseg_status run_forward(verify_run *r, const void *arg)
{
    const ups_arg *a = arg;
    clseg_tensor *x = verify_input(r, a->x, a->values);
    return clseg_upsample2d_forward(verify_ctx(r), &a->d, x, verify_output(r, out_shape(a), VERIFY_UNIFORM));
}

static clseg_status run_backward(verify_run *r, const void *arg)
{
    const ups_arg *a = arg;
    clseg_tensor *dy = verify_input(r, out_shape(a), a->values);
    return clseg_upsample2d_backward(verify_ctx(r), &a->d, dy, verify_output(r, a->x, VERIFY_UNIFORM), a->beta);
}

#define NEAREST(s) {CLSEG_UPSAMPLE_NEAREST, 0, s, s}
#define LINEAR(s) {CLSEG_UPSAMPLE_BILINEAR, 0, s, s}
#define CORNERS(s) {CLSEG_UPSAMPLE_BILINEAR, 1, s, s}

static const ups_arg n_one = {VERIFY_ONE, 0, 0, NEAREST(2), 0, VERIFY_UNIFORM};
static const ups_arg n_odd = {VERIFY_ODD, 0, 0, NEAREST(2), 1, VERIFY_INTEGERS};
static const ups_arg n_odd2_size = {VERIFY_ODD2, 20, 17, NEAREST(0), 0, VERIFY_UNIFORM};
static const ups_arg n_odd2_scale = {VERIFY_ODD2, 0, 0, NEAREST(1.5f), 1, VERIFY_UNIFORM};
static const ups_arg n_odd2_down = {VERIFY_ODD2, 6, 5, NEAREST(0), 0, VERIFY_UNIFORM};
static const ups_arg n_wide = {VERIFY_WIDE, 0, 0, NEAREST(2), 1, VERIFY_UNIFORM};
static const ups_arg l_one = {VERIFY_ONE, 0, 0, LINEAR(2), 0, VERIFY_UNIFORM};
static const ups_arg l_odd = {VERIFY_ODD, 0, 0, LINEAR(2), 1, VERIFY_UNIFORM};
static const ups_arg l_odd2_size = {VERIFY_ODD2, 20, 17, LINEAR(0), 0, VERIFY_UNIFORM};
static const ups_arg l_odd2_scale = {VERIFY_ODD2, 0, 0, LINEAR(1.5f), 1, VERIFY_UNIFORM};
static const ups_arg l_odd2_down = {VERIFY_ODD2, 6, 5, LINEAR(0), 0, VERIFY_UNIFORM};
static const ups_arg l_wide = {VERIFY_WIDE, 0, 0, LINEAR(2), 1, VERIFY_UNIFORM};
static const ups_arg c_one = {VERIFY_ONE, 3, 2, CORNERS(0), 1, VERIFY_UNIFORM};
static const ups_arg c_odd = {VERIFY_ODD, 0, 0, CORNERS(2), 0, VERIFY_UNIFORM};
static const ups_arg c_odd2_size = {VERIFY_ODD2, 20, 17, CORNERS(0), 1, VERIFY_UNIFORM};
static const ups_arg c_odd2_down = {VERIFY_ODD2, 6, 5, CORNERS(0), 0, VERIFY_UNIFORM};
static const ups_arg c_wide = {VERIFY_WIDE, 0, 0, CORNERS(2), 0, VERIFY_UNIFORM};

/* Nearest picks the same input on both backends (its coordinates are computed with the same
 * float operations): exact forward; its backward adds a few values in float on the device and
 * in double in the reference: 1e-6. Bilinear uses the same weights on both, but the device
 * combines four products in float and the reference in double (a few ulp apart), and its
 * backward sums about (2 / scale + 1)^2 weighted terms per input (16 at 2x) in float against
 * the reference's double. Observed errors stay below 5e-7 (PoCL); 1e-5 is the bound, with room
 * for larger factors and devices whose float rounding differs. */
static const verify_case cases[] = {
    {"upsample2d.forward", "nearest 1x1x1x1 x2", run_forward, &n_one, 0},
    {"upsample2d.forward", "nearest 1x3x7x9 x2 ints", run_forward, &n_odd, 0},
    {"upsample2d.forward", "nearest 2x5x13x11 to 20x17", run_forward, &n_odd2_size, 0},
    {"upsample2d.forward", "nearest 2x5x13x11 x1.5", run_forward, &n_odd2_scale, 0},
    {"upsample2d.forward", "nearest 2x5x13x11 to 6x5 (down)", run_forward, &n_odd2_down, 0},
    {"upsample2d.forward", "nearest 8x32x64x64 x2", run_forward, &n_wide, 0},
    {"upsample2d.forward", "bilinear 1x1x1x1 x2", run_forward, &l_one, 1e-5},
    {"upsample2d.forward", "bilinear 1x3x7x9 x2", run_forward, &l_odd, 1e-5},
    {"upsample2d.forward", "bilinear 2x5x13x11 to 20x17", run_forward, &l_odd2_size, 1e-5},
    {"upsample2d.forward", "bilinear 2x5x13x11 x1.5", run_forward, &l_odd2_scale, 1e-5},
    {"upsample2d.forward", "bilinear 2x5x13x11 to 6x5 (down)", run_forward, &l_odd2_down, 1e-5},
    {"upsample2d.forward", "bilinear 8x32x64x64 x2", run_forward, &l_wide, 1e-5},
    {"upsample2d.forward", "bilinear corners 1x1x1x1 to 3x2", run_forward, &c_one, 1e-5},
    {"upsample2d.forward", "bilinear corners 1x3x7x9 x2", run_forward, &c_odd, 1e-5},
    {"upsample2d.forward", "bilinear corners 2x5x13x11 to 20x17", run_forward, &c_odd2_size, 1e-5},
    {"upsample2d.forward", "bilinear corners 2x5x13x11 to 6x5 (down)", run_forward, &c_odd2_down, 1e-5},
    {"upsample2d.forward", "bilinear corners 8x32x64x64 x2", run_forward, &c_wide, 1e-5},
    {"upsample2d.backward", "nearest 1x1x1x1 x2 beta=0", run_backward, &n_one, 1e-6},
    {"upsample2d.backward", "nearest 1x3x7x9 x2 ints beta=1", run_backward, &n_odd, 0},
    {"upsample2d.backward", "nearest 2x5x13x11 to 20x17 beta=0", run_backward, &n_odd2_size, 1e-6},
    {"upsample2d.backward", "nearest 2x5x13x11 x1.5 beta=1", run_backward, &n_odd2_scale, 1e-6},
    {"upsample2d.backward", "nearest 2x5x13x11 to 6x5 (down) beta=0", run_backward, &n_odd2_down, 1e-6},
    {"upsample2d.backward", "nearest 8x32x64x64 x2 beta=1", run_backward, &n_wide, 1e-6},
    {"upsample2d.backward", "bilinear 1x1x1x1 x2 beta=0", run_backward, &l_one, 1e-5},
    {"upsample2d.backward", "bilinear 1x3x7x9 x2 beta=1", run_backward, &l_odd, 1e-5},
    {"upsample2d.backward", "bilinear 2x5x13x11 to 20x17 beta=0", run_backward, &l_odd2_size, 1e-5},
    {"upsample2d.backward", "bilinear 2x5x13x11 x1.5 beta=1", run_backward, &l_odd2_scale, 1e-5},
    {"upsample2d.backward", "bilinear 2x5x13x11 to 6x5 (down) beta=0", run_backward, &l_odd2_down, 1e-5},
    {"upsample2d.backward", "bilinear 8x32x64x64 x2 beta=1", run_backward, &l_wide, 1e-5},
    {"upsample2d.backward", "bilinear corners 1x1x1x1 to 3x2 beta=1", run_backward, &c_one, 1e-5},
    {"upsample2d.backward", "bilinear corners 1x3x7x9 x2 beta=0", run_backward, &c_odd, 1e-5},
    {"upsample2d.backward", "bilinear corners 2x5x13x11 to 20x17 beta=1", run_backward, &c_odd2_size, 1e-5},
    {"upsample2d.backward", "bilinear corners 2x5x13x11 to 6x5 (down) beta=0", run_backward, &c_odd2_down, 1e-5},
    {"upsample2d.backward", "bilinear corners 8x32x64x64 x2 beta=0", run_backward, &c_wide, 1e-5},
};

const verify_family clseg_verify_upsample = {cases, sizeof cases / sizeof cases[0]};
