/* Element-wise activations and the layers that only move data: ReLU, sigmoid, dropout,
 * element-wise addition and channel concatenation; float32 NCHW.
 *
 * Forward calls may work in place (y == x). Backward calls accumulate:
 * dx = beta dx + (this contribution), and beta == 0 overwrites; dx may be dy. */
#ifndef CLSEG_ACTIVATION_H
#define CLSEG_ACTIVATION_H

#include <stddef.h>
#include <stdint.h>

#include "clseg/context.h"
#include "clseg/export.h"
#include "clseg/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y = max(x, 0) */
CLSEG_API clseg_status clseg_relu_forward(clseg_context *ctx, const clseg_tensor *x, clseg_tensor *y);
/* From the forward output y: dx = beta dx + (y > 0 ? dy : 0). */
CLSEG_API clseg_status clseg_relu_backward(clseg_context *ctx, const clseg_tensor *y, const clseg_tensor *dy,
                                           clseg_tensor *dx, float beta);

/* y = 1 / (1 + exp(-x)) */
CLSEG_API clseg_status clseg_sigmoid_forward(clseg_context *ctx, const clseg_tensor *x, clseg_tensor *y);
/* From the forward output y: dx = beta dx + dy y (1 - y). */
CLSEG_API clseg_status clseg_sigmoid_backward(clseg_context *ctx, const clseg_tensor *y, const clseg_tensor *dy,
                                              clseg_tensor *dx, float beta);

/* Inverted dropout: each element is kept with probability 1 - p and scaled by 1 / (1 - p).
 * mask (shape of x) receives 0 or 1 / (1 - p) for the backward pass. The draw for element i
 * is a hash of (seed, i): the same mask on every device and run for the same seed.
 * 0 <= p < 1; p == 0 copies. */
CLSEG_API clseg_status clseg_dropout_forward(clseg_context *ctx, const clseg_tensor *x, float p, uint64_t seed,
                                             clseg_tensor *y, clseg_tensor *mask);
/* dx = beta dx + dy mask */
CLSEG_API clseg_status clseg_dropout_backward(clseg_context *ctx, const clseg_tensor *dy, const clseg_tensor *mask,
                                              clseg_tensor *dx, float beta);

/* y = a + b, all of one shape (y may be a or b). Its backward is dy itself: accumulate it into
 * both inputs' gradients with beta = 1 (clseg_axpby, or the producers' own beta). */
CLSEG_API clseg_status clseg_add(clseg_context *ctx, const clseg_tensor *a, const clseg_tensor *b, clseg_tensor *y);

/* y = the inputs stacked along channels: each input (N, C_i, H, W), y (N, sum C_i, H, W). */
CLSEG_API clseg_status clseg_concat_forward(clseg_context *ctx, const clseg_tensor *const *inputs, size_t count,
                                            clseg_tensor *y);
/* Splits dy back: dinputs[i] = beta dinputs[i] + dy's channels of input i. */
CLSEG_API clseg_status clseg_concat_backward(clseg_context *ctx, const clseg_tensor *dy, clseg_tensor *const *dinputs,
                                             size_t count, float beta);

#ifdef __cplusplus
}
#endif
#endif
