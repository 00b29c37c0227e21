#include "ops/conv.h"
#include "ref/conv_math.h"
#include "ref/ref.h"

#define CLSEG_REF_MATH "ref/conv_math.inc"
#include "ref/ref_instantiate.h"

static const float *data_or_null(const clseg_tensor *t)
{
    return t != NULL ? clseg_ref_data(t) : NULL;
}

clseg_status clseg_ref_conv_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_conv_params *p = params;
    clseg_ref32_conv_forward(&p->g, clseg_ref_data(t[0]), clseg_ref_data(t[1]), data_or_null(t[2]),
                             clseg_ref_data(t[3]), p->beta);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_conv_backward_data(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_conv_params *p = params;
    clseg_ref32_conv_backward_data(&p->g, clseg_ref_data(t[0]), clseg_ref_data(t[1]), data_or_null(t[2]),
                                   clseg_ref_data(t[3]), p->beta);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_conv_backward_weights(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_conv_params *p = params;
    clseg_ref32_conv_backward_weights(&p->g, clseg_ref_data(t[0]), clseg_ref_data(t[1]), clseg_ref_data(t[2]), p->beta);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_conv_bias_grad(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_conv_params *p = params;
    clseg_shape s = t[0]->shape;
    clseg_ref32_channel_sum(clseg_ref_data(t[0]), s.n, s.c, s.h * s.w, clseg_ref_data(t[1]), p->beta);
    return CLSEG_STATUS_SUCCESS;
}
