/* Operations on tensors. Every op is enqueued on the context's queue and returns without
 * waiting; none allocates: scratch memory comes from the caller, sized by the op's
 * *_workspace_bytes() function. All tensors must belong to ctx. */
#ifndef CLSEG_OPS_H
#define CLSEG_OPS_H

#include <stddef.h>

#include "clseg/context.h"
#include "clseg/tensor.h"

#include "clseg/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- basic: element-wise helpers and reductions --------------------------------------- */

/* t[i] = value */
CLSEG_API clseg_status clseg_fill(clseg_context *ctx, clseg_tensor *t, float value);
/* dst[i] = src[i]; same element count, shapes may differ */
CLSEG_API clseg_status clseg_copy(clseg_context *ctx, const clseg_tensor *src, clseg_tensor *dst);
/* x[i] = alpha * x[i] */
CLSEG_API clseg_status clseg_scale(clseg_context *ctx, clseg_tensor *x, float alpha);
/* y[i] = alpha * x[i] + beta * y[i]; same element count */
CLSEG_API clseg_status clseg_axpby(clseg_context *ctx, float alpha, const clseg_tensor *x, float beta, clseg_tensor *y);

/* out[0] = sum of x, in a fixed order (the same bits on every run), through a two-stage
 * reduction whose partial sums go to workspace. out has one element. */
CLSEG_API size_t clseg_sum_workspace_bytes(const clseg_context *ctx, size_t numel);
CLSEG_API clseg_status clseg_sum(clseg_context *ctx, const clseg_tensor *x, clseg_tensor *out, clseg_tensor *workspace);

#ifdef __cplusplus
}
#endif
#endif
