/* The upsampling family's parameters and its two implementations (ref/upsample.c,
 * opencl/upsample.c); the public entry points and their checks are in ops/upsample.c.
 *
 * Along each axis an output coordinate j maps to a source coordinate through one float factor
 * r (PyTorch's area_pixel_compute_scale), computed once on the host so that the kernel and the
 * reference round the same float operations:
 *   nearest:                      i = min(floor(j r), in - 1)
 *   bilinear, align_corners false: s = max(0, r (j + 0.5) - 0.5)
 *   bilinear, align_corners true:  s = r j
 * and bilinear takes i0 = floor(s), i1 = min(i0 + 1, in - 1) with weights 1 - (s - i0), s - i0.
 * The backward pass is a gather: each input pixel finds, per axis, a small range of outputs
 * that can touch it and loops it in order, keeping those that do. */
#ifndef CLSEG_OPS_UPSAMPLE_H
#define CLSEG_OPS_UPSAMPLE_H

#include "clseg/upsample.h"
#include "core/internal.h"

/* Sides longer than this are refused: the kernels find each gather's range in float. */
#define CLSEG_UPSAMPLE_MAX_SIDE (1 << 22)

typedef struct clseg_upsample_params {
    int bilinear, align_corners;
    float rh, rw; /* the source factor per axis */
    float beta;   /* backward accumulation */
} clseg_upsample_params;

/* tensors {x, y} */
clseg_status clseg_ref_upsample2d_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_upsample2d_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {dy, dx} */
clseg_status clseg_ref_upsample2d_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_upsample2d_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);

#endif
