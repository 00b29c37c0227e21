/* Argument checks shared by the op families' public entry points. Each records what is wrong,
 * naming the op and the argument, as the context's last error and returns its status. */
#ifndef CLSEG_OPS_CHECK_H
#define CLSEG_OPS_CHECK_H

#include "core/internal.h"

typedef struct clseg_named_tensor {
    const char *name;
    const clseg_tensor *t;
} clseg_named_tensor;

/* Every tensor present and on ctx. */
clseg_status clseg_check_tensors(clseg_context *ctx, const char *op, const clseg_named_tensor *args, size_t count);

/* CLSEG_CHECK_TENSORS(ctx, "clseg_copy", {"src", src}, {"dst", dst}) */
#define CLSEG_CHECK_TENSORS(ctx, op, ...)                                                                          \
    clseg_check_tensors(ctx, op, (const clseg_named_tensor[]){__VA_ARGS__},                                      \
                        sizeof((const clseg_named_tensor[]){__VA_ARGS__}) / sizeof(clseg_named_tensor))

/* t has exactly the shape want. */
clseg_status clseg_check_shape(clseg_context *ctx, const char *op, const char *name, const clseg_tensor *t,
                               clseg_shape want);

/* t holds exactly count elements, whatever its shape. */
clseg_status clseg_check_numel(clseg_context *ctx, const char *op, const char *name, const clseg_tensor *t,
                               size_t count);

/* workspace holds at least need bytes (it may be NULL when need is 0). */
clseg_status clseg_check_workspace(clseg_context *ctx, const char *op, const clseg_tensor *workspace, size_t need);

/* Every dimension of a shape argument >= 1. */
clseg_status clseg_check_shape_valid(clseg_context *ctx, const char *op, const char *name, clseg_shape s);

/* "2x5x13x11" */
const char *clseg_shape_str(clseg_shape s, char *buf, size_t size);

#endif
