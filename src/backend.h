/* The device interface: everything clseg asks of a device, implemented by the OpenCL backend
 * (src/opencl) and by the plain-C reference backend (src/ref) that every kernel is checked
 * against. Offsets and sizes are in bytes. No call blocks except read, finish and destroy. */
#ifndef CLSEG_BACKEND_H
#define CLSEG_BACKEND_H

#include <stddef.h>

#include "clseg/context.h"
#include "clseg/tensor.h"

typedef struct clseg_backend clseg_backend; /* each implementation's own state */
typedef struct clseg_buffer clseg_buffer;   /* each implementation's own buffer */

/* One operation as each backend runs it. params is the op's own struct; tensors its operands
 * in the order the op's file documents. Validation happens before, in src/ops. */
typedef clseg_status (*clseg_op_fn)(clseg_context *ctx, const void *params, clseg_tensor *const *tensors);

typedef struct clseg_op {
    const char *name;
    clseg_op_fn ref;
    clseg_op_fn opencl;
} clseg_op;

typedef struct clseg_backend_iface {
    const char *name;
    void (*destroy)(clseg_backend *be);
    clseg_status (*alloc)(clseg_context *ctx, size_t bytes, clseg_buffer **out);
    void (*release)(clseg_context *ctx, clseg_buffer *buf);
    clseg_status (*write)(clseg_context *ctx, clseg_buffer *buf, size_t off, size_t bytes, const void *src);
    clseg_status (*read)(clseg_context *ctx, clseg_buffer *buf, size_t off, size_t bytes, void *dst);
    clseg_status (*copy)(clseg_context *ctx, clseg_buffer *src, size_t src_off, clseg_buffer *dst, size_t dst_off,
                         size_t bytes);
    clseg_status (*fill)(clseg_context *ctx, clseg_buffer *buf, size_t off, size_t bytes, const void *pattern,
                         size_t pattern_bytes);
    clseg_status (*launch)(clseg_context *ctx, const clseg_op *op, const void *params, clseg_tensor *const *tensors);
    clseg_status (*finish)(clseg_context *ctx);
} clseg_backend_iface;

/* Each backend's constructor fills ctx->backend, ctx->iface and ctx->device. */
clseg_status clseg_ref_backend_create(clseg_context *ctx);
clseg_status clseg_opencl_backend_create(clseg_context *ctx, const clseg_device_info *device);

#endif
