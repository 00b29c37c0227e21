/* The activation family's parameters and its two implementations (ref/activation.c,
 * opencl/activation.c); the public entry points and their checks are in ops/activation.c. */
#ifndef CLSEG_OPS_ACTIVATION_H
#define CLSEG_OPS_ACTIVATION_H

#include <stdint.h>

#include "core/internal.h"

typedef struct clseg_act_params {
    float beta;             /* backward accumulation */
    float p, scale;         /* dropout: drop probability and 1 / (1 - p) */
    uint32_t seed_lo, seed_hi;
} clseg_act_params;

typedef struct clseg_concat_params {
    int64_t channel_offset; /* where this input's channels start in y */
    float beta;
} clseg_concat_params;

/* The dropout draw for element i: kept when this returns true. The kernel in cl/activation.cl
 * computes the same integers. */
static inline uint32_t clseg_dropout_mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    x *= 0xc2b2ae35u;
    x ^= x >> 16;
    return x;
}
static inline int clseg_dropout_keep(uint32_t seed_lo, uint32_t seed_hi, uint32_t i, float p)
{
    uint32_t h = clseg_dropout_mix(clseg_dropout_mix(i * 0x9e3779b9u ^ seed_lo) ^ seed_hi);
    return (float)(h >> 8) * (1.0f / 16777216.0f) >= p;
}

/* tensors {x, y} */
clseg_status clseg_ref_relu_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_relu_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ref_sigmoid_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_sigmoid_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {y, dy, dx} */
clseg_status clseg_ref_relu_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_relu_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ref_sigmoid_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_sigmoid_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {x, y, mask} */
clseg_status clseg_ref_dropout_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_dropout_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {dy, mask, dx} */
clseg_status clseg_ref_dropout_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_dropout_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {a, b, y} */
clseg_status clseg_ref_add(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_add(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {input, y}: copies one input into its channels of y */
clseg_status clseg_ref_concat_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_concat_forward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
/* tensors {dy, dinput} */
clseg_status clseg_ref_concat_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);
clseg_status clseg_ocl_concat_backward(clseg_context *ctx, const void *params, clseg_tensor *const *t);

#endif
