#include "ops/basic.h"

#include "clseg/ops.h"

static const clseg_op op_fill = {"fill", clseg_ref_fill, clseg_ocl_fill};
static const clseg_op op_copy = {"copy", clseg_ref_copy, clseg_ocl_copy};
static const clseg_op op_scale = {"scale", clseg_ref_scale, clseg_ocl_scale};
static const clseg_op op_axpby = {"axpby", clseg_ref_axpby, clseg_ocl_axpby};
static const clseg_op op_sum = {"sum", clseg_ref_sum, clseg_ocl_sum};

/* Every tensor present and on ctx. */
static clseg_status check_tensors(clseg_context *ctx, const char *op, const clseg_tensor *const *t, size_t n)
{
    if (ctx == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == NULL)
            return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: tensor argument %zu is NULL", op, i + 1);
        if (t[i]->ctx != ctx)
            return clseg_fail(ctx, CLSEG_STATUS_CONTEXT_MISMATCH,
                              "%s: tensor argument %zu belongs to another context", op, i + 1);
    }
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status check_same_numel(clseg_context *ctx, const char *op, const clseg_tensor *a, const clseg_tensor *b)
{
    if (clseg_tensor_numel(a) != clseg_tensor_numel(b))
        return clseg_fail(ctx, CLSEG_STATUS_SHAPE_MISMATCH, "%s: %zu elements against %zu", op, clseg_tensor_numel(a),
                          clseg_tensor_numel(b));
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_fill(clseg_context *ctx, clseg_tensor *t, float value)
{
    clseg_status st = check_tensors(ctx, "clseg_fill", (const clseg_tensor *[]){t}, 1);
    clseg_scalars p = {value, 0.0f};
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_launch(ctx, &op_fill, &p, (clseg_tensor *[]){t});
}

clseg_status clseg_copy(clseg_context *ctx, const clseg_tensor *src, clseg_tensor *dst)
{
    clseg_status st = check_tensors(ctx, "clseg_copy", (const clseg_tensor *[]){src, dst}, 2);
    if (st == CLSEG_STATUS_SUCCESS)
        st = check_same_numel(ctx, "clseg_copy", src, dst);
    return st != CLSEG_STATUS_SUCCESS ? st
                                      : clseg_launch(ctx, &op_copy, NULL, (clseg_tensor *[]){(clseg_tensor *)src, dst});
}

clseg_status clseg_scale(clseg_context *ctx, clseg_tensor *x, float alpha)
{
    clseg_status st = check_tensors(ctx, "clseg_scale", (const clseg_tensor *[]){x}, 1);
    clseg_scalars p = {alpha, 0.0f};
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_launch(ctx, &op_scale, &p, (clseg_tensor *[]){x});
}

clseg_status clseg_axpby(clseg_context *ctx, float alpha, const clseg_tensor *x, float beta, clseg_tensor *y)
{
    clseg_status st = check_tensors(ctx, "clseg_axpby", (const clseg_tensor *[]){x, y}, 2);
    if (st == CLSEG_STATUS_SUCCESS)
        st = check_same_numel(ctx, "clseg_axpby", x, y);
    clseg_scalars p = {alpha, beta};
    return st != CLSEG_STATUS_SUCCESS ? st
                                      : clseg_launch(ctx, &op_axpby, &p, (clseg_tensor *[]){(clseg_tensor *)x, y});
}

size_t clseg_sum_workspace_bytes(const clseg_context *ctx, size_t numel)
{
    (void)ctx;
    size_t partials = numel < CLSEG_SUM_MAX_PARTIALS ? numel : CLSEG_SUM_MAX_PARTIALS;
    return (partials > 0 ? partials : 1) * sizeof(float);
}

clseg_status clseg_sum(clseg_context *ctx, const clseg_tensor *x, clseg_tensor *out, clseg_tensor *workspace)
{
    clseg_status st = check_tensors(ctx, "clseg_sum", (const clseg_tensor *[]){x, out, workspace}, 3);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    if (clseg_tensor_numel(out) != 1)
        return clseg_fail(ctx, CLSEG_STATUS_SHAPE_MISMATCH, "clseg_sum: the output has %zu elements instead of 1",
                          clseg_tensor_numel(out));
    size_t need = clseg_sum_workspace_bytes(ctx, clseg_tensor_numel(x));
    if (clseg_tensor_numel(workspace) * sizeof(float) < need)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT,
                          "clseg_sum: the workspace has %zu bytes; %zu are needed (clseg_sum_workspace_bytes)",
                          clseg_tensor_numel(workspace) * sizeof(float), need);
    return clseg_launch(ctx, &op_sum, NULL, (clseg_tensor *[]){(clseg_tensor *)x, out, workspace});
}
