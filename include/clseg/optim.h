/* Optimiser updates as kernels, with PyTorch's semantics (torch.optim.SGD, Adam, AdamW). Each
 * call updates one parameter tensor in place from its gradient and its state tensors (same
 * shape, zero before the first step); a model keeps all parameters in one buffer so that one
 * call updates them all. */
#ifndef CLSEG_OPTIM_H
#define CLSEG_OPTIM_H

#include <stdint.h>

#include "clseg/context.h"
#include "clseg/export.h"
#include "clseg/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clseg_sgd_desc {
    float lr;
    float momentum;     /* 0: plain SGD (velocity may then be NULL) */
    float dampening;    /* PyTorch's: the velocity gets (1 - dampening) g after the first step */
    float weight_decay; /* L2: g += weight_decay param */
    int nesterov;       /* needs momentum > 0 and dampening 0 */
} clseg_sgd_desc;

/* g = grad + wd param; v = momentum v + (1 - dampening) g (v = g on step 1);
 * param -= lr (nesterov ? g + momentum v : v). step counts from 1. */
CLSEG_API clseg_status clseg_sgd_step(clseg_context *ctx, const clseg_sgd_desc *desc, int64_t step,
                                      clseg_tensor *param, const clseg_tensor *grad, clseg_tensor *velocity);

typedef struct clseg_adam_desc {
    float lr;
    float beta1, beta2; /* 0.9, 0.999 */
    float eps;          /* 1e-8 */
    float weight_decay;
    int decoupled; /* 0: Adam (L2 added to the gradient); 1: AdamW (param *= 1 - lr wd first) */
} clseg_adam_desc;

/* Adam(W) step number step (from 1; the bias corrections use it): m and v are the first and
 * second moments. */
CLSEG_API clseg_status clseg_adam_step(clseg_context *ctx, const clseg_adam_desc *desc, int64_t step,
                                       clseg_tensor *param, const clseg_tensor *grad, clseg_tensor *m,
                                       clseg_tensor *v);

#ifdef __cplusplus
}
#endif
#endif
