/* Upsampling (and resizing in general) by nearest neighbour or bilinear interpolation, with
 * PyTorch's conventions (F.interpolate), float32 NCHW. The output size is the shape of y; the
 * scale factors, when given, only decide the coordinate mapping, as in PyTorch:
 *   source = (dst + 0.5) / scale - 0.5   bilinear, align_corners false (clamped at 0)
 *   source = dst (in - 1) / (out - 1)     bilinear, align_corners true
 *   source = floor(dst / scale)           nearest
 * with scale = out / in when the desc gives none. The backward call accumulates:
 * dx = beta dx + (this contribution); beta == 0 overwrites. */
#ifndef CLSEG_UPSAMPLE_H
#define CLSEG_UPSAMPLE_H

#include "clseg/context.h"
#include "clseg/export.h"
#include "clseg/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum clseg_upsample_mode { CLSEG_UPSAMPLE_NEAREST, CLSEG_UPSAMPLE_BILINEAR } clseg_upsample_mode;

typedef struct clseg_upsample_desc {
    clseg_upsample_mode mode;
    int align_corners;      /* bilinear only */
    float scale_h, scale_w; /* > 0: by factor (y's size must be floor(in * scale)); 0: to y's size */
} clseg_upsample_desc;

/* The output shape for a desc with scale factors. */
CLSEG_API clseg_status clseg_upsample2d_output_shape(const clseg_upsample_desc *desc, clseg_shape x, clseg_shape *y);

CLSEG_API clseg_status clseg_upsample2d_forward(clseg_context *ctx, const clseg_upsample_desc *desc,
                                                const clseg_tensor *x, clseg_tensor *y);

CLSEG_API clseg_status clseg_upsample2d_backward(clseg_context *ctx, const clseg_upsample_desc *desc,
                                                 const clseg_tensor *dy, clseg_tensor *dx, float beta);

#ifdef __cplusplus
}
#endif
#endif
