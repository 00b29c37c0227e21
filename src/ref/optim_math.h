/* The optimiser family's reference math (ref/optim_math.inc) for float and double: torch.optim's
 * SGD and Adam(W) updates of n parameters, computed in double whatever REAL is. */
#ifndef CLSEG_REF_OPTIM_MATH_H
#define CLSEG_REF_OPTIM_MATH_H

#include "ref/ref_math.h"

#define CLSEG_REF_OPTIM_DECLARE(REAL, REF)                                                                             \
    void REF(sgd_step)(REAL * param, const REAL *grad, REAL *velocity, size_t n, double lr, double momentum,           \
                       double dampening, double weight_decay, int nesterov, int64_t step);                             \
    void REF(adam_step)(REAL * param, const REAL *grad, REAL *m, REAL *v, size_t n, double lr, double beta1,           \
                        double beta2, double eps, double weight_decay, int decoupled, int64_t step);

CLSEG_REF_OPTIM_DECLARE(float, CLSEG_REF32)
CLSEG_REF_OPTIM_DECLARE(double, CLSEG_REF64)

#endif
