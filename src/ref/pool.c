#include <math.h>

#include "ops/pool.h"
#include "ref/pool_math.h"
#include "ref/ref.h"

#define CLSEG_REF_MATH "ref/pool_math.inc"
#include "ref/ref_instantiate.h"

/* The geometry of a pooling from x (unpooled) to y (pooled). */
static clseg_pool_geom geom(const clseg_pool2d_desc *d, clseg_shape x, clseg_shape y)
{
    return (clseg_pool_geom){x.n * x.c, x.h, x.w, y.h, y.w, d->kernel_h, d->kernel_w,
                             d->stride_h, d->stride_w, d->pad_h, d->pad_w};
}

clseg_status clseg_ref_maxpool2d_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_pool_params *p = params;
    clseg_pool_geom g = geom(&p->desc, t[0]->shape, t[1]->shape);
    clseg_ref32_maxpool2d_forward(clseg_ref_data(t[0]), &g, clseg_ref_data(t[1]), clseg_ref_data(t[2]));
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_maxpool2d_scatter(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_pool_params *p = params;
    clseg_pool_geom g = geom(&p->desc, t[2]->shape, t[0]->shape);
    clseg_ref32_maxpool2d_scatter(clseg_ref_data(t[0]), clseg_ref_data(t[1]), &g, clseg_ref_data(t[2]), p->beta);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_maxunpool2d_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_pool_params *p = params;
    clseg_pool_geom g = geom(&p->desc, t[0]->shape, t[2]->shape);
    clseg_ref32_maxunpool2d_backward(clseg_ref_data(t[0]), clseg_ref_data(t[1]), &g, clseg_ref_data(t[2]), p->beta);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_global_avgpool_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx, (void)params;
    clseg_shape s = t[0]->shape;
    clseg_ref32_global_avgpool_forward(clseg_ref_data(t[0]), s.n * s.c, s.h * s.w, clseg_ref_data(t[1]));
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_global_avgpool_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_pool_params *p = params;
    clseg_shape s = t[1]->shape;
    clseg_ref32_global_avgpool_backward(clseg_ref_data(t[0]), s.n * s.c, s.h * s.w, clseg_ref_data(t[1]), p->beta);
    return CLSEG_STATUS_SUCCESS;
}
