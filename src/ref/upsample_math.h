/* The upsampling family's reference math (ref/upsample_math.inc) for float and double. See
 * ops/upsample.h for the coordinate mapping. */
#ifndef CLSEG_REF_UPSAMPLE_MATH_H
#define CLSEG_REF_UPSAMPLE_MATH_H

#include <math.h>

#include "ref/ref_math.h"

typedef struct clseg_upsample_geom {
    int64_t planes, ih, iw, oh, ow;
    int bilinear, align_corners;
} clseg_upsample_geom;

/* A superset [*lo, *hi] of the outputs along one axis whose mapping touches input i (margins of
 * two outputs absorb rounding; the caller tests each). cl/upsample.cl computes the same in float. */
static inline void clseg_upsample_candidates(int64_t i, int64_t in, int64_t out, double r, int bilinear, int align,
                                             int64_t *lo, int64_t *hi)
{
    double c = bilinear && !align ? 0.5 * r - 0.5 : 0.0; /* source = r j + c */
    double from = bilinear ? (double)i - 1.0 : (double)i, to = (double)i + 1.0;
    *lo = 0;
    *hi = out - 1;
    if (r > 0) {
        double a = floor((from - c) / r) - 2.0, b = ceil((to - c) / r) + 2.0;
        if (i > 0 && a > 0)
            *lo = a < (double)(out - 1) ? (int64_t)a : out - 1;
        if (i < in - 1 && b < (double)(out - 1))
            *hi = b > 0 ? (int64_t)b : 0;
    }
}

#define CLSEG_REF_UPSAMPLE_DECLARE(REAL, REF)                                                                      \
    REAL REF(upsample_ratio)(int bilinear, int align, int64_t in, int64_t out, double scale);                       \
    void REF(upsample2d_forward)(const REAL *x, const clseg_upsample_geom *g, REAL rh, REAL rw, REAL *y);          \
    void REF(upsample2d_backward)(const REAL *dy, const clseg_upsample_geom *g, REAL rh, REAL rw, REAL *dx,        \
                                  REAL beta);

CLSEG_REF_UPSAMPLE_DECLARE(float, CLSEG_REF32)
CLSEG_REF_UPSAMPLE_DECLARE(double, CLSEG_REF64)

#endif
