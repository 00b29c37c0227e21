/* The optimiser family's parameters and its two implementations (ref/optim.c,
 * opencl/optim.c); the public entry points and their checks are in ops/optim.c. */
#ifndef CLSEG_OPS_OPTIM_H
#define CLSEG_OPS_OPTIM_H

#include <stdint.h>

#include "core/internal.h"

typedef struct clseg_sgd_params {
    float lr, momentum, dampening, weight_decay;
    int nesterov;
    int64_t step; /* from 1; on step 1 the velocity becomes the gradient, undamped */
} clseg_sgd_params;

typedef struct clseg_adam_params {
    float lr, beta1, beta2, eps, weight_decay;
    int decoupled;
    int64_t step;
    /* From the step number, in double on the host: lr / (1 - beta1^step), sqrt(1 - beta2^step)
     * and AdamW's 1 - lr weight_decay. */
    float step_size, bias2_sqrt, decay;
} clseg_adam_params;

/* tensors {param, grad, velocity}; velocity is NULL when momentum is 0 */
clseg_status clseg_ref_sgd_step(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_sgd_step(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {param, grad, m, v} */
clseg_status clseg_ref_adam_step(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_adam_step(clseg_context *ctx, const void *params, clseg_tensor *const *t);

#endif
