#include <math.h>

#include "ops/optim.h"
#include "ref/optim_math.h"
#include "ref/ref.h"

#define CLSEG_REF_MATH "ref/optim_math.inc"
#include "ref/ref_instantiate.h"

clseg_status clseg_ref_sgd_step(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_sgd_params *p = params;
    float *velocity = p->momentum != 0.0f ? clseg_ref_data(t[2]) : NULL;
    clseg_ref32_sgd_step(clseg_ref_data(t[0]), clseg_ref_data(t[1]), velocity, clseg_tensor_numel(t[0]), p->lr,
                         p->momentum, p->dampening, p->weight_decay, p->nesterov, p->step);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_adam_step(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_adam_params *p = params;
    clseg_ref32_adam_step(clseg_ref_data(t[0]), clseg_ref_data(t[1]), clseg_ref_data(t[2]), clseg_ref_data(t[3]),
                          clseg_tensor_numel(t[0]), p->lr, p->beta1, p->beta2, p->eps, p->weight_decay, p->decoupled,
                          p->step);
    return CLSEG_STATUS_SUCCESS;
}
