#include "data/augment.h"

#include <math.h>

clseg_augment_options clseg_augment_options_default(void)
{
    return (clseg_augment_options){0.5f, 15.0f, 0.05f, 0.1f};
}

data_augment_draw data_augment_identity(void) { return (data_augment_draw){false, 0.0f, 1.0f, 1.0f, 0.0f}; }

/* uniform in [-1, 1) */
static float symmetric(clseg_rng *rng) { return 2.0f * clseg_rng_uniform(rng) - 1.0f; }

data_augment_draw data_augment_random(clseg_rng *rng, const clseg_augment_options *o)
{
    float flip = clseg_rng_uniform(rng);
    float angle = symmetric(rng), zoom = symmetric(rng), gain = symmetric(rng), bias = symmetric(rng);
    data_augment_draw d = {flip < o->flip_probability, angle * o->rotate_degrees, 1.0f + zoom * o->scale,
                           1.0f + gain * o->intensity, bias * o->intensity};
    return d;
}

data_affine data_affine_make(int src_w, int src_h, int out_w, int out_h, const data_augment_draw *d)
{
    /* Work in output pixels relative to the centre: undo the zoom and the rotation, undo the
     * flip, then scale to the source grid. Pixel centres sit at i + 0.5 in both grids. */
    double theta = (double)d->degrees * (3.14159265358979323846 / 180.0);
    double c = cos(theta), s = sin(theta), f = d->flip ? -1.0 : 1.0, z = (double)d->zoom;
    double cx = 0.5 * out_w, cy = 0.5 * out_h;
    double kx = (double)src_w / out_w, ky = (double)src_h / out_h;
    double u0 = 0.5 - cx, v0 = 0.5 - cy; /* u, v of output pixel (0, 0) */
    data_affine a;
    a.m[0] = (float)(kx * f * c / z);
    a.m[1] = (float)(kx * f * s / z);
    a.m[2] = (float)(kx * (f * (c * u0 + s * v0) / z + cx) - 0.5);
    a.m[3] = (float)(-ky * s / z);
    a.m[4] = (float)(ky * c / z);
    a.m[5] = (float)(ky * ((-s * u0 + c * v0) / z + cy) - 0.5);
    return a;
}
