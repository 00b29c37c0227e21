/* Convolution and transposed convolution (deconvolution), float32 NCHW.
 *
 * One geometry describes both. A convolution maps x (N, C, H, W) with weights (K, C, kh, kw)
 * to y (N, K, Ho, Wo), Ho = floor((H + 2 pad_h - dilation_h (kh - 1) - 1) / stride_h) + 1.
 * A transposed convolution is the same linear map run backwards: it maps x (N, C, H, W) with
 * weights (C, K, kh, kw) (PyTorch's ConvTranspose2d layout) to y (N, K, Ho, Wo),
 * Ho = (H - 1) stride_h - 2 pad_h + dilation_h (kh - 1) + output_pad_h + 1. Its forward pass is
 * the convolution's backward-to-input and its backward-to-input the convolution's forward, so
 * both share one implementation.
 *
 * Backward calls accumulate: grad = beta * grad + (this contribution), and beta == 0 overwrites
 * (so NaNs in an unset gradient never leak through). Every call needs a workspace of at least
 * clseg_conv2d_workspace_bytes() (the same figure covers the forward and both backward passes);
 * pass NULL when that figure is 0. */
#ifndef CLSEG_CONV_H
#define CLSEG_CONV_H

#include <stddef.h>

#include "clseg/context.h"
#include "clseg/export.h"
#include "clseg/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clseg_conv2d_desc {
    int kernel_h, kernel_w;         /* >= 1 */
    int stride_h, stride_w;         /* >= 1 */
    int pad_h, pad_w;               /* >= 0, zero padding on both sides */
    int dilation_h, dilation_w;     /* >= 1; > 1 is atrous convolution */
    int output_pad_h, output_pad_w; /* transposed only: 0 <= output_pad < max(stride, dilation) */
    int transposed;                 /* 0: convolution, 1: transposed convolution */
} clseg_conv2d_desc;

/* A convolution's usual geometry: square kernel k, stride s, padding p, no dilation. */
CLSEG_API clseg_conv2d_desc clseg_conv2d_make(int k, int s, int p);

/* The output shape for input shape x and weight shape w; checks every argument. */
CLSEG_API clseg_status clseg_conv2d_output_shape(const clseg_conv2d_desc *desc, clseg_shape x, clseg_shape w,
                                                 clseg_shape *y);

/* Scratch bytes the forward and backward calls need for these shapes on this context's device. */
CLSEG_API size_t clseg_conv2d_workspace_bytes(const clseg_context *ctx, const clseg_conv2d_desc *desc,
                                              clseg_shape x, clseg_shape w);

/* Multiply-adds times two of one forward pass: the figure GFLOP/s are quoted against. */
CLSEG_API double clseg_conv2d_flops(const clseg_conv2d_desc *desc, clseg_shape x, clseg_shape w);

/* y = conv(x, w) + bias. bias (K elements, any shape) may be NULL. */
CLSEG_API clseg_status clseg_conv2d_forward(clseg_context *ctx, const clseg_conv2d_desc *desc, const clseg_tensor *x,
                                            const clseg_tensor *w, const clseg_tensor *bias, clseg_tensor *y,
                                            clseg_tensor *workspace);

/* dx = beta dx + dL/dx, from dy = dL/dy. */
CLSEG_API clseg_status clseg_conv2d_backward_data(clseg_context *ctx, const clseg_conv2d_desc *desc,
                                                  const clseg_tensor *dy, const clseg_tensor *w, clseg_tensor *dx,
                                                  float beta, clseg_tensor *workspace);

/* dw = beta dw + dL/dw and, when dbias is not NULL, dbias = beta dbias + dL/dbias. */
CLSEG_API clseg_status clseg_conv2d_backward_weights(clseg_context *ctx, const clseg_conv2d_desc *desc,
                                                     const clseg_tensor *x, const clseg_tensor *dy, clseg_tensor *dw,
                                                     clseg_tensor *dbias, float beta, clseg_tensor *workspace);

#ifdef __cplusplus
}
#endif
#endif
