/* Max pooling that records where each maximum came from, max-unpooling that puts values back
 * there (SegNet's decoder), and global average pooling; float32 NCHW.
 *
 * Indices are stored in a float32 tensor of the pooled shape: for every output, the position
 * h * W + w of its maximum inside its (n, c) plane of the unpooled input. They are exact while a
 * plane has at most 2^24 elements, which the calls check. Ties go to the first maximum in
 * row-major window order; a NaN in a window is the maximum.
 *
 * Backward calls accumulate: grad = beta * grad + (this contribution); beta == 0 overwrites. */
#ifndef CLSEG_POOL_H
#define CLSEG_POOL_H

#include "clseg/context.h"
#include "clseg/export.h"
#include "clseg/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clseg_pool2d_desc {
    int kernel_h, kernel_w; /* >= 1 */
    int stride_h, stride_w; /* >= 1 */
    int pad_h, pad_w;       /* 0 <= pad <= kernel / 2; padding never wins the maximum */
} clseg_pool2d_desc;

/* Square window k, stride s, padding p. */
CLSEG_API clseg_pool2d_desc clseg_pool2d_make(int k, int s, int p);

/* Ho = floor((H + 2 pad_h - kernel_h) / stride_h) + 1 (PyTorch's floor mode). */
CLSEG_API clseg_status clseg_pool2d_output_shape(const clseg_pool2d_desc *desc, clseg_shape x, clseg_shape *y);

/* y = max over each window of x; indices (shape of y) = where each maximum is. */
CLSEG_API clseg_status clseg_maxpool2d_forward(clseg_context *ctx, const clseg_pool2d_desc *desc,
                                               const clseg_tensor *x, clseg_tensor *y, clseg_tensor *indices);

/* dx = beta dx + every dy sent to the position its index names. */
CLSEG_API clseg_status clseg_maxpool2d_backward(clseg_context *ctx, const clseg_pool2d_desc *desc,
                                                const clseg_tensor *dy, const clseg_tensor *indices, clseg_tensor *dx,
                                                float beta);

/* Max-unpooling with the indices of a max pooling of the same desc: y has the shape of that
 * pooling's input; y is zero except at the recorded positions, which get the values of x (the
 * sum of them, where overlapping windows recorded one position more than once). */
CLSEG_API clseg_status clseg_maxunpool2d_forward(clseg_context *ctx, const clseg_pool2d_desc *desc,
                                                 const clseg_tensor *x, const clseg_tensor *indices, clseg_tensor *y);

/* dx = beta dx + dy read at each recorded position. */
CLSEG_API clseg_status clseg_maxunpool2d_backward(clseg_context *ctx, const clseg_pool2d_desc *desc,
                                                  const clseg_tensor *dy, const clseg_tensor *indices,
                                                  clseg_tensor *dx, float beta);

/* y (N, C, 1, 1) = mean of each plane of x (N, C, H, W). */
CLSEG_API clseg_status clseg_global_avgpool_forward(clseg_context *ctx, const clseg_tensor *x, clseg_tensor *y);

/* dx = beta dx + dy / (H W) over each plane. */
CLSEG_API clseg_status clseg_global_avgpool_backward(clseg_context *ctx, const clseg_tensor *dy, clseg_tensor *dx,
                                                     float beta);

#ifdef __cplusplus
}
#endif
#endif
