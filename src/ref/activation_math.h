/* The activation family's reference math (ref/activation_math.inc) for float and double. */
#ifndef CLSEG_REF_ACTIVATION_MATH_H
#define CLSEG_REF_ACTIVATION_MATH_H

#include "ref/ref_math.h"

#define CLSEG_REF_ACTIVATION_DECLARE(REAL, REF)                                                                    \
    void REF(relu_forward)(const REAL *x, REAL *y, size_t n);                                                      \
    void REF(relu_backward)(const REAL *y, const REAL *dy, REAL *dx, size_t n, REAL beta);                         \
    void REF(sigmoid_forward)(const REAL *x, REAL *y, size_t n);                                                   \
    void REF(sigmoid_backward)(const REAL *y, const REAL *dy, REAL *dx, size_t n, REAL beta);                      \
    void REF(mask_multiply)(const REAL *x, const REAL *mask, REAL *y, size_t n, REAL beta);                        \
    void REF(concat_forward)(const REAL *in, int64_t n, int64_t c, int64_t hw, int64_t y_channels,                 \
                             int64_t offset, REAL *y);                                                             \
    void REF(concat_backward)(const REAL *dy, int64_t n, int64_t c, int64_t hw, int64_t y_channels,                \
                              int64_t offset, REAL *dx, REAL beta);

CLSEG_REF_ACTIVATION_DECLARE(float, CLSEG_REF32)
CLSEG_REF_ACTIVATION_DECLARE(double, CLSEG_REF64)

#endif
