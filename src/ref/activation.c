#include <math.h>

#include "ops/activation.h"
#include "ref/activation_math.h"
#include "ref/ref.h"

#define CLSEG_REF_MATH "ref/activation_math.inc"
#include "ref/ref_instantiate.h"

static size_t numel(clseg_tensor *const *t) { return clseg_tensor_numel(t[0]); }

clseg_status clseg_ref_relu_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx, (void)params;
    clseg_ref32_relu_forward(clseg_ref_data(t[0]), clseg_ref_data(t[1]), numel(t));
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_relu_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_act_params *p = params;
    clseg_ref32_relu_backward(clseg_ref_data(t[0]), clseg_ref_data(t[1]), clseg_ref_data(t[2]), numel(t), p->beta);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_sigmoid_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx, (void)params;
    clseg_ref32_sigmoid_forward(clseg_ref_data(t[0]), clseg_ref_data(t[1]), numel(t));
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_sigmoid_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_act_params *p = params;
    clseg_ref32_sigmoid_backward(clseg_ref_data(t[0]), clseg_ref_data(t[1]), clseg_ref_data(t[2]), numel(t),
                                 p->beta);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_dropout_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_act_params *p = params;
    float *mask = clseg_ref_data(t[2]);
    size_t n = numel(t);
    for (size_t i = 0; i < n; i++)
        mask[i] = clseg_dropout_keep(p->seed_lo, p->seed_hi, (uint32_t)i, p->p) ? p->scale : 0.0f;
    clseg_ref32_mask_multiply(clseg_ref_data(t[0]), mask, clseg_ref_data(t[1]), n, 0.0f);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_dropout_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_act_params *p = params;
    clseg_ref32_mask_multiply(clseg_ref_data(t[0]), clseg_ref_data(t[1]), clseg_ref_data(t[2]), numel(t), p->beta);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_add(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx, (void)params;
    const float *a = clseg_ref_data(t[0]), *b = clseg_ref_data(t[1]);
    float *y = clseg_ref_data(t[2]);
    for (size_t i = 0, n = numel(t); i < n; i++)
        y[i] = a[i] + b[i];
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_concat_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_concat_params *p = params;
    clseg_shape in = t[0]->shape, y = t[1]->shape;
    clseg_ref32_concat_forward(clseg_ref_data(t[0]), in.n, in.c, in.h * in.w, y.c, p->channel_offset,
                               clseg_ref_data(t[1]));
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_concat_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_concat_params *p = params;
    clseg_shape y = t[0]->shape, in = t[1]->shape;
    clseg_ref32_concat_backward(clseg_ref_data(t[0]), in.n, in.c, in.h * in.w, y.c, p->channel_offset,
                                clseg_ref_data(t[1]), p->beta);
    return CLSEG_STATUS_SUCCESS;
}
