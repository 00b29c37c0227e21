#include <math.h>

#include "ops/norm.h"
#include "ref/norm_math.h"
#include "ref/ref.h"

#define CLSEG_REF_MATH "ref/norm_math.inc"
#include "ref/ref_instantiate.h"

#define D(i) clseg_ref_data(t[i])

clseg_status clseg_ref_bn_forward_train(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_bn_params *p = params;
    clseg_shape s = t[0]->shape;
    clseg_ref32_bn_forward_train(D(0), s.n, s.c, s.h * s.w, D(1), D(2), p->momentum, p->eps, D(3), D(4), D(5), D(6),
                                 D(7), p->relu);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_bn_forward_infer(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_bn_params *p = params;
    clseg_shape s = t[0]->shape;
    clseg_ref32_bn_forward_infer(D(0), s.n, s.c, s.h * s.w, D(1), D(2), D(3), D(4), p->eps, D(5), p->relu);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ref_bn_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t)
{
    (void)ctx;
    const clseg_bn_params *p = params;
    clseg_shape s = t[0]->shape;
    clseg_ref32_bn_backward(D(0), D(1), p->relu ? D(9) : NULL, s.n, s.c, s.h * s.w, D(2), D(3), D(4), D(5), p->beta_dx,
                            D(6), D(7), p->beta_params);
    return CLSEG_STATUS_SUCCESS;
}
