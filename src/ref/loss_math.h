/* The loss family's reference math (ref/loss_math.inc) for float and double. */
#ifndef CLSEG_REF_LOSS_MATH_H
#define CLSEG_REF_LOSS_MATH_H

#include "clseg/loss.h"
#include "ref/ref_math.h"

/* loss: the loss of n values x against targets t; weights as in clseg_loss_params (1 and 0 for
 * BCE, 0 and 1 for Dice, ignored for MSE). dx, when not NULL, is overwritten with dloss/dx.
 * confusion_counts: [TP, FP, FN, TN] per image of `pixels` values, x > threshold and t > 0.5
 * counting as positive. */
#define CLSEG_REF_LOSS_DECLARE(REAL, REF)                                                                              \
    REAL REF(loss)(clseg_loss_kind kind, REAL smooth, REAL bce_weight, REAL dice_weight, const REAL *x, const REAL *t, \
                   size_t n, REAL *dx);                                                                                \
    void REF(confusion_counts)(const REAL *x, const REAL *t, size_t images, size_t pixels, REAL threshold,             \
                               REAL *counts);

CLSEG_REF_LOSS_DECLARE(float, CLSEG_REF32)
CLSEG_REF_LOSS_DECLARE(double, CLSEG_REF64)

#endif
