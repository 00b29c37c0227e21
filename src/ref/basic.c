#include "ops/basic.h"
#include "ref/ref.h"

clseg_status clseg_ref_fill(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_scalars *p = params;
    float *x = clseg_ref_data(t[0]);
    for (size_t i = 0, n = clseg_tensor_numel(t[0]); i < n; i++)
        x[i] = p->alpha;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_copy(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    (void)params;
    const float *src = clseg_ref_data(t[0]);
    float *dst = clseg_ref_data(t[1]);
    for (size_t i = 0, n = clseg_tensor_numel(t[0]); i < n; i++)
        dst[i] = src[i];
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_scale(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_scalars *p = params;
    float *x = clseg_ref_data(t[0]);
    for (size_t i = 0, n = clseg_tensor_numel(t[0]); i < n; i++)
        x[i] *= p->alpha;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_axpby(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_scalars *p = params;
    const float *x = clseg_ref_data(t[0]);
    float *y = clseg_ref_data(t[1]);
    for (size_t i = 0, n = clseg_tensor_numel(t[0]); i < n; i++)
        y[i] = p->beta == 0.0f ? p->alpha * x[i] : p->alpha * x[i] + p->beta * y[i];
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_sum(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    (void)params;
    const float *x = clseg_ref_data(t[0]);
    double total = 0.0;
    for (size_t i = 0, n = clseg_tensor_numel(t[0]); i < n; i++)
        total += x[i];
    clseg_ref_data(t[1])[0] = (float)total;
    return CLSEG_STATUS_SUCCESS;
}
