/* The conv family's reference math (ref/conv_math.inc) for float and double, over the shared
 * image/feature geometry of ops/conv.h. bias may be NULL; beta == 0 overwrites. */
#ifndef CLSEG_REF_CONV_MATH_H
#define CLSEG_REF_CONV_MATH_H

#include "ops/conv.h"
#include "ref/ref_math.h"

#define CLSEG_REF_CONV_DECLARE(REAL, REF)                                                                              \
    void REF(conv_forward)(const clseg_conv_geom *g, const REAL *image, const REAL *w, const REAL *bias,               \
                           REAL *feature, REAL beta);                                                                  \
    void REF(conv_backward_data)(const clseg_conv_geom *g, const REAL *feature, const REAL *w, const REAL *bias,       \
                                 REAL *image, REAL beta);                                                              \
    void REF(conv_backward_weights)(const clseg_conv_geom *g, const REAL *image, const REAL *feature_grad, REAL *dw,   \
                                    REAL beta);                                                                        \
    void REF(channel_sum)(const REAL *x, int64_t n, int64_t channels, int64_t hw, REAL *out, REAL beta);

CLSEG_REF_CONV_DECLARE(float, CLSEG_REF32)
CLSEG_REF_CONV_DECLARE(double, CLSEG_REF64)

#endif
