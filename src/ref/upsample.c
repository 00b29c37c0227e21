#include <math.h>

#include "ops/upsample.h"
#include "ref/ref.h"
#include "ref/upsample_math.h"

#define CLSEG_REF_MATH "ref/upsample_math.inc"
#include "ref/ref_instantiate.h"

static clseg_upsample_geom geom(const clseg_upsample_params *p, clseg_shape in, clseg_shape out)
{
    return (clseg_upsample_geom){in.n * in.c, in.h, in.w, out.h, out.w, p->bilinear, p->align_corners};
}

clseg_status clseg_ref_upsample2d_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_upsample_params *p = params;
    clseg_upsample_geom g = geom(p, t[0]->shape, t[1]->shape);
    clseg_ref32_upsample2d_forward(clseg_ref_data(t[0]), &g, p->rh, p->rw, clseg_ref_data(t[1]));
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_upsample2d_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_upsample_params *p = params;
    clseg_upsample_geom g = geom(p, t[1]->shape, t[0]->shape);
    clseg_ref32_upsample2d_backward(clseg_ref_data(t[0]), &g, p->rh, p->rw, clseg_ref_data(t[1]), p->beta);
    return CLSEG_STATUS_SUCCESS;
}
