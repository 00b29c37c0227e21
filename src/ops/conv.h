/* The conv family's internal geometry, parameters and its two implementations (ref/conv.c,
 * opencl/conv.c); the public entry points and their checks are in ops/conv.c.
 *
 * Convolution and transposed convolution share one set of ops, written for a convolution
 * between an "image" side (N, C, H, W) and a "feature" side (N, K, Ho, Wo) with weights
 * (K, C, kh, kw):
 *   conv.forward        feature = beta feature + W * image (+ bias over K)
 *   conv.backward_data  image   = beta image + W^T * feature (+ bias over C)
 *   conv.backward_weights  dW   = beta dW + feature_grad x image
 *   conv.bias_grad      db      = beta db + per-channel sum of a tensor
 * A convolution runs x -> y as image -> feature; a transposed convolution runs x -> y as
 * feature -> image (its weights (C_in, C_out, kh, kw) are exactly (K, C, kh, kw)). Both sides'
 * sizes are stored, not derived, so a transposed convolution's output padding needs no care. */
#ifndef CLSEG_OPS_CONV_H
#define CLSEG_OPS_CONV_H

#include <stdint.h>

#include "core/internal.h"

typedef struct clseg_conv_geom {
    int64_t n, c, h, w; /* image side */
    int64_t k, ho, wo;  /* feature side (same n) */
    int64_t kh, kw;     /* kernel */
    int64_t sh, sw, ph, pw, dh, dw;
} clseg_conv_geom;

typedef struct clseg_conv_params {
    clseg_conv_geom g;
    float beta;         /* accumulation into the output */
    int64_t col_images; /* images per chunk of the im2col buffer (workspace) */
    int64_t col_elems;  /* that buffer's elements per image (clseg_conv_col_elems) */
} clseg_conv_params;

/* Work-items' partial sums per channel in the bias gradient's first stage (workspace). */
#define CLSEG_CONV_BIAS_PARTIALS 64

/* Rows of the im2col matrix (C kh kw) and its columns per image (Ho Wo). */
static inline int64_t clseg_conv_col_rows(const clseg_conv_geom *g)
{
    return g->c * g->kh * g->kw;
}
static inline int64_t clseg_conv_col_cols(const clseg_conv_geom *g)
{
    return g->ho * g->wo;
}

/* A 1x1 kernel with stride 1 and no padding: the image is its own im2col matrix. */
static inline int clseg_conv_is_pointwise(const clseg_conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0 && g->h == g->ho &&
           g->w == g->wo;
}

/* Scratch bytes the OpenCL GEMMs of this geometry need on ctx's device (the workspace's last
 * part, after the im2col chunk and the bias partials); 0 on other backends. */
size_t clseg_ocl_conv_gemm_scratch_bytes(const clseg_context *ctx, const clseg_conv_geom *g);

/* Elements per image of the im2col chunk on ctx's OpenCL device: the im2col matrix, or what
 * the packed path writes instead (opencl/conv_packed.c), whichever is larger. */
int64_t clseg_ocl_conv_col_elems(const clseg_context *ctx, const clseg_conv_geom *g);

/* tensors {image, weights, bias or NULL, feature, workspace or NULL} */
clseg_status clseg_ref_conv_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_conv_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {feature, weights, bias or NULL, image, workspace or NULL} */
clseg_status clseg_ref_conv_backward_data(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_conv_backward_data(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {image, feature_grad, dweights, workspace or NULL} */
clseg_status clseg_ref_conv_backward_weights(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_conv_backward_weights(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {grad (N, channels, ...), dbias, workspace}: sums each channel */
clseg_status clseg_ref_conv_bias_grad(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_conv_bias_grad(clseg_context *ctx, const void *params, clseg_tensor *const *t);

#endif
