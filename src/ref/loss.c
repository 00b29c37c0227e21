#include <math.h>

#include "ops/loss.h"
#include "ref/loss_math.h"
#include "ref/ref.h"

#define CLSEG_REF_MATH "ref/loss_math.inc"
#include "ref/ref_instantiate.h"

/* The sums run in double in one pass, so the workspace (t[4]) is not needed here. */
clseg_status clseg_ref_loss(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_loss_params *p = params;
    float loss =
        clseg_ref32_loss(p->kind, p->smooth, p->bce_weight, p->dice_weight, clseg_ref_data(t[0]), clseg_ref_data(t[1]),
                         clseg_tensor_numel(t[0]), t[3] != NULL ? clseg_ref_data(t[3]) : NULL);
    clseg_ref_data(t[2])[0] = loss;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_confusion_counts(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_confusion_params *p = params;
    size_t images = (size_t)t[0]->shape.n;
    clseg_ref32_confusion_counts(clseg_ref_data(t[0]), clseg_ref_data(t[1]), images, clseg_tensor_numel(t[0]) / images,
                                 p->threshold, clseg_ref_data(t[2]));
    return CLSEG_STATUS_SUCCESS;
}
