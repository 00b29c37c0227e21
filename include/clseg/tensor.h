/* float32 NCHW tensors in a device buffer. */
#ifndef CLSEG_TENSOR_H
#define CLSEG_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "clseg/context.h"
#include "clseg/export.h"
#include "clseg/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clseg_tensor clseg_tensor;

typedef struct clseg_shape {
    int64_t n, c, h, w;
} clseg_shape;

/* A new tensor with its own buffer, contents undefined. Every dimension must be >= 1. */
CLSEG_API clseg_status clseg_tensor_create(clseg_context *ctx, clseg_shape shape, clseg_tensor **out);

/* A tensor that shares base's buffer, starting offset elements after base's first element.
 * It keeps the buffer alive: base may be destroyed first. */
CLSEG_API clseg_status clseg_tensor_view(clseg_tensor *base, size_t offset, clseg_shape shape, clseg_tensor **out);

CLSEG_API void clseg_tensor_destroy(clseg_tensor *t);

CLSEG_API clseg_shape clseg_tensor_shape(const clseg_tensor *t);
CLSEG_API size_t clseg_tensor_numel(const clseg_tensor *t);
CLSEG_API size_t clseg_shape_numel(clseg_shape shape);
CLSEG_API clseg_context *clseg_tensor_context(const clseg_tensor *t);

/* Copies count floats, which must equal the tensor's element count. Both block until done. */
CLSEG_API clseg_status clseg_tensor_upload(clseg_tensor *t, const float *host, size_t count);
CLSEG_API clseg_status clseg_tensor_download(const clseg_tensor *t, float *host, size_t count);

#ifdef __cplusplus
}
#endif
#endif
