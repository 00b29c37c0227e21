/* The batch-normalisation family's reference math (ref/norm_math.inc) for float and double.
 * x is NCHW with n images, c channels and hw pixels per channel plane; per-channel vectors
 * hold c values. relu nonzero fuses a ReLU in: the forward passes write max(0, y), and the
 * backward pass takes dy masked by mask > 0 (mask: the fused forward's output; NULL: none). */
#ifndef CLSEG_REF_NORM_MATH_H
#define CLSEG_REF_NORM_MATH_H

#include "ref/ref_math.h"

#define CLSEG_REF_NORM_DECLARE(REAL, REF)                                                                              \
    void REF(bn_forward_train)(const REAL *x, int64_t n, int64_t c, int64_t hw, const REAL *weight, const REAL *bias,  \
                               REAL momentum, REAL eps, REAL *running_mean, REAL *running_var, REAL *y,                \
                               REAL *save_mean, REAL *save_invstd, int relu);                                          \
    void REF(bn_forward_infer)(const REAL *x, int64_t n, int64_t c, int64_t hw, const REAL *weight, const REAL *bias,  \
                               const REAL *running_mean, const REAL *running_var, REAL eps, REAL *y, int relu);        \
    void REF(bn_backward)(const REAL *x, const REAL *dy, const REAL *mask, int64_t n, int64_t c, int64_t hw,           \
                          const REAL *weight, const REAL *save_mean, const REAL *save_invstd, REAL *dx, REAL beta_dx,  \
                          REAL *dweight, REAL *dbias, REAL beta_params);

CLSEG_REF_NORM_DECLARE(float, CLSEG_REF32)
CLSEG_REF_NORM_DECLARE(double, CLSEG_REF64)

#endif
