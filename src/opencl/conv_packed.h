/* Convolution on the packed GEMM kernels (CPU devices, where GEMM_PACKED is 1). im2col writes
 * the panels the micro-kernel reads, so the im2col matrix is written once and never copied;
 * the weights are packed once per call; each chunk of images is one launch. At stride 1 the
 * gradient to the image is itself a convolution, of the feature gradient with flipped and
 * transposed weights, so it runs on the same path instead of GEMM + col2im. */
#ifndef CLSEG_OCL_CONV_PACKED_H
#define CLSEG_OCL_CONV_PACKED_H

#include <stdbool.h>

#include "opencl/gemm.h"
#include "ops/conv.h"

/* Whether forward (gradient == false) or backward_data (true) of p takes the implicit GEMM. */
bool clseg_ocl_conv_packed_applies(clseg_context *ctx, const clseg_conv_geom *g, bool gradient);

/* Whether backward_weights takes clseg_ocl_conv_packed_weights. */
bool clseg_ocl_conv_packed_weights_applies(clseg_context *ctx, const clseg_conv_geom *g);

/* Elements per image of the panels im2col writes for either direction (0 when the path does
 * not apply). */
size_t clseg_ocl_conv_packed_col_elems(clseg_context *ctx, const clseg_conv_geom *g);

/* Scratch bytes for the packed (and, for the gradient, flipped) weights, alignment included. */
size_t clseg_ocl_conv_packed_scratch_bytes(clseg_context *ctx, const clseg_conv_geom *g);

/* out = p->beta out + the convolution of src + bias (NULL: none): src is the image side and out
 * the feature side, or, with gradient, src the feature-side gradient and out the image-side one.
 * ws's col region (p->col_images images of p->col_elems) takes the padded images, scratch (the
 * rest of the workspace) the packed weights. */
clseg_status clseg_ocl_conv_packed_run(clseg_context *ctx, const clseg_conv_params *p, bool gradient,
                                       const clseg_tensor *src, const clseg_tensor *w, const clseg_tensor *bias,
                                       const clseg_tensor *out, const clseg_tensor *ws, clseg_ocl_scratch scratch);

/* backward_data on this path: image = beta image + the convolution's transpose of feat, + bias
 * (NULL: none); U-Net's 2x2 stride-2 up-convolution without a col matrix. */
clseg_status clseg_ocl_conv_packed_data(clseg_context *ctx, const clseg_conv_params *p, const clseg_tensor *feat,
                                        const clseg_tensor *w, const clseg_tensor *bias, const clseg_tensor *img,
                                        const clseg_tensor *ws, clseg_ocl_scratch scratch);

/* dW = beta dW + sum over the images of feature_grad x im2col(image)^T, a chunk of images as
 * one product (the order of the sum depends only on the shapes); scratch holds the partial
 * products of a k split in shares. */
clseg_status clseg_ocl_conv_packed_weights(clseg_context *ctx, const clseg_conv_params *p, const clseg_tensor *img,
                                           const clseg_tensor *grad, const clseg_tensor *dw, const clseg_tensor *ws,
                                           clseg_ocl_scratch scratch);

#endif
