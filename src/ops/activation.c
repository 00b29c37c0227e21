#include "ops/activation.h"

#include <stdio.h>

#include "clseg/activation.h"
#include "ops/check.h"

static const clseg_op op_relu_forward = {"relu.forward", clseg_ref_relu_forward, clseg_ocl_relu_forward};
static const clseg_op op_relu_backward = {"relu.backward", clseg_ref_relu_backward, clseg_ocl_relu_backward};
static const clseg_op op_sigmoid_forward = {"sigmoid.forward", clseg_ref_sigmoid_forward, clseg_ocl_sigmoid_forward};
static const clseg_op op_sigmoid_backward = {"sigmoid.backward", clseg_ref_sigmoid_backward,
                                             clseg_ocl_sigmoid_backward};
static const clseg_op op_dropout_forward = {"dropout.forward", clseg_ref_dropout_forward, clseg_ocl_dropout_forward};
static const clseg_op op_dropout_backward = {"dropout.backward", clseg_ref_dropout_backward,
                                             clseg_ocl_dropout_backward};
static const clseg_op op_add = {"add", clseg_ref_add, clseg_ocl_add};
static const clseg_op op_concat_forward = {"concat.forward", clseg_ref_concat_forward, clseg_ocl_concat_forward};
static const clseg_op op_concat_backward = {"concat.backward", clseg_ref_concat_backward, clseg_ocl_concat_backward};

#define T(x) ((clseg_tensor *)(x))

/* Two tensors of one shape: x and y, or y and dy. */
static clseg_status unary(clseg_context *ctx, const char *op, const char *an, const clseg_tensor *a, const char *bn,
                          const clseg_tensor *b)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {an, a}, {bn, b});
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_check_shape(ctx, op, bn, b, a->shape);
}

/* {a, b, dx}: all of a's shape. */
static clseg_status binary(clseg_context *ctx, const char *op, const char *an, const clseg_tensor *a,
                           const char *bn, const clseg_tensor *b, const char *cn, const clseg_tensor *c)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {an, a}, {bn, b}, {cn, c});
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_shape(ctx, op, bn, b, a->shape);
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_check_shape(ctx, op, cn, c, a->shape);
}

clseg_status clseg_relu_forward(clseg_context *ctx, const clseg_tensor *x, clseg_tensor *y)
{
    clseg_status st = unary(ctx, "clseg_relu_forward", "x", x, "y", y);
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_launch(ctx, &op_relu_forward, NULL, (clseg_tensor *[]){T(x), y});
}

clseg_status clseg_relu_backward(clseg_context *ctx, const clseg_tensor *y, const clseg_tensor *dy, clseg_tensor *dx,
                                 float beta)
{
    clseg_status st = binary(ctx, "clseg_relu_backward", "y", y, "dy", dy, "dx", dx);
    clseg_act_params p = {.beta = beta};
    return st != CLSEG_STATUS_SUCCESS ? st
                                      : clseg_launch(ctx, &op_relu_backward, &p, (clseg_tensor *[]){T(y), T(dy), dx});
}

clseg_status clseg_sigmoid_forward(clseg_context *ctx, const clseg_tensor *x, clseg_tensor *y)
{
    clseg_status st = unary(ctx, "clseg_sigmoid_forward", "x", x, "y", y);
    return st != CLSEG_STATUS_SUCCESS ? st
                                      : clseg_launch(ctx, &op_sigmoid_forward, NULL, (clseg_tensor *[]){T(x), y});
}

clseg_status clseg_sigmoid_backward(clseg_context *ctx, const clseg_tensor *y, const clseg_tensor *dy,
                                    clseg_tensor *dx, float beta)
{
    clseg_status st = binary(ctx, "clseg_sigmoid_backward", "y", y, "dy", dy, "dx", dx);
    clseg_act_params p = {.beta = beta};
    return st != CLSEG_STATUS_SUCCESS
               ? st
               : clseg_launch(ctx, &op_sigmoid_backward, &p, (clseg_tensor *[]){T(y), T(dy), dx});
}

clseg_status clseg_dropout_forward(clseg_context *ctx, const clseg_tensor *x, float p, uint64_t seed, clseg_tensor *y,
                                   clseg_tensor *mask)
{
    const char *op = "clseg_dropout_forward";
    clseg_status st = binary(ctx, op, "x", x, "y", y, "mask", mask);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (!(p >= 0.0f && p < 1.0f))
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: p is %g; it must be in [0, 1)", op, (double)p);
    if (clseg_tensor_numel(x) > UINT32_MAX)
        return clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED, "%s: more than 2^32 elements", op);
    clseg_act_params params = {.p = p, .scale = 1.0f / (1.0f - p), .seed_lo = (uint32_t)seed,
                               .seed_hi = (uint32_t)(seed >> 32)};
    return clseg_launch(ctx, &op_dropout_forward, &params, (clseg_tensor *[]){T(x), y, mask});
}

clseg_status clseg_dropout_backward(clseg_context *ctx, const clseg_tensor *dy, const clseg_tensor *mask,
                                    clseg_tensor *dx, float beta)
{
    clseg_status st = binary(ctx, "clseg_dropout_backward", "dy", dy, "mask", mask, "dx", dx);
    clseg_act_params p = {.beta = beta};
    return st != CLSEG_STATUS_SUCCESS
               ? st
               : clseg_launch(ctx, &op_dropout_backward, &p, (clseg_tensor *[]){T(dy), T(mask), dx});
}

clseg_status clseg_add(clseg_context *ctx, const clseg_tensor *a, const clseg_tensor *b, clseg_tensor *y)
{
    clseg_status st = binary(ctx, "clseg_add", "a", a, "b", b, "y", y);
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_launch(ctx, &op_add, NULL, (clseg_tensor *[]){T(a), T(b), y});
}

/* Each part matches y except in channels, and the channels add up to y's. */
static clseg_status check_concat(clseg_context *ctx, const char *op, const clseg_tensor *const *parts, size_t count,
                                 const char *part_name, const clseg_tensor *y, const char *y_name)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, op, {y_name, y});
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (parts == NULL || count == 0)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: no %s to concatenate", op, part_name);
    int64_t channels = 0;
    for (size_t i = 0; i < count; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s[%zu]", part_name, i);
        if ((st = CLSEG_CHECK_TENSORS(ctx, op, {name, parts[i]})) != CLSEG_STATUS_SUCCESS ||
            (st = clseg_check_shape(ctx, op, name, parts[i],
                                    (clseg_shape){y->shape.n, parts[i]->shape.c, y->shape.h, y->shape.w})) !=
                CLSEG_STATUS_SUCCESS)
            return st;
        channels += parts[i]->shape.c;
    }
    if (channels != y->shape.c)
        return clseg_fail(ctx, CLSEG_STATUS_SHAPE_MISMATCH, "%s: the %s have %lld channels in all; %s has %lld", op,
                          part_name, (long long)channels, y_name, (long long)y->shape.c);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_concat_forward(clseg_context *ctx, const clseg_tensor *const *inputs, size_t count, clseg_tensor *y)
{
    clseg_status st = check_concat(ctx, "clseg_concat_forward", inputs, count, "inputs", y, "y");
    clseg_concat_params p = {0, 0.0f};
    for (size_t i = 0; st == CLSEG_STATUS_SUCCESS && i < count; i++) {
        st = clseg_launch(ctx, &op_concat_forward, &p, (clseg_tensor *[]){T(inputs[i]), y});
        p.channel_offset += inputs[i]->shape.c;
    }
    return st;
}

clseg_status clseg_concat_backward(clseg_context *ctx, const clseg_tensor *dy, clseg_tensor *const *dinputs,
                                   size_t count, float beta)
{
    clseg_status st =
        check_concat(ctx, "clseg_concat_backward", (const clseg_tensor *const *)dinputs, count, "dinputs", dy, "dy");
    clseg_concat_params p = {0, beta};
    for (size_t i = 0; st == CLSEG_STATUS_SUCCESS && i < count; i++) {
        st = clseg_launch(ctx, &op_concat_backward, &p, (clseg_tensor *[]){T(dy), dinputs[i]});
        p.channel_offset += dinputs[i]->shape.c;
    }
    return st;
}
