/* The pooling family's reference math (ref/pool_math.inc) for float and double. */
#ifndef CLSEG_REF_POOL_MATH_H
#define CLSEG_REF_POOL_MATH_H

#include "ref/ref_math.h"

/* One max pooling: planes (N C) of h x w pooled to oh x ow. */
typedef struct clseg_pool_geom {
    int64_t planes, h, w, oh, ow;
    int64_t kh, kw, sh, sw, ph, pw;
} clseg_pool_geom;

/* The outputs [*lo, *hi] along one axis whose windows (kernel k, stride s, padding p) contain
 * input coordinate i; empty when *lo > *hi. cl/pool.cl computes the same. */
static inline void clseg_pool_window_range(int64_t i, int64_t k, int64_t s, int64_t p, int64_t out, int64_t *lo,
                                           int64_t *hi)
{
    int64_t first = i + p - k + 1; /* the first window start that still reaches i */
    *lo = first <= 0 ? 0 : (first + s - 1) / s;
    *hi = (i + p) / s;
    if (*hi > out - 1)
        *hi = out - 1;
}

#define CLSEG_REF_POOL_DECLARE(REAL, REF)                                                                          \
    void REF(maxpool2d_forward)(const REAL *x, const clseg_pool_geom *g, REAL *y, REAL *indices);                   \
    void REF(maxpool2d_scatter)(const REAL *values, const REAL *indices, const clseg_pool_geom *g, REAL *out,      \
                                REAL beta);                                                                        \
    void REF(maxunpool2d_backward)(const REAL *dy, const REAL *indices, const clseg_pool_geom *g, REAL *dx,        \
                                   REAL beta);                                                                     \
    void REF(global_avgpool_forward)(const REAL *x, int64_t planes, int64_t hw, REAL *y);                          \
    void REF(global_avgpool_backward)(const REAL *dy, int64_t planes, int64_t hw, REAL *dx, REAL beta);

CLSEG_REF_POOL_DECLARE(float, CLSEG_REF32)
CLSEG_REF_POOL_DECLARE(double, CLSEG_REF64)

#endif
