#include "ops/basic.h"

#include "clseg/ops.h"
#include "ops/check.h"

static const clseg_op op_fill = {"fill", clseg_ref_fill, clseg_ocl_fill};
static const clseg_op op_copy = {"copy", clseg_ref_copy, clseg_ocl_copy};
static const clseg_op op_scale = {"scale", clseg_ref_scale, clseg_ocl_scale};
static const clseg_op op_axpby = {"axpby", clseg_ref_axpby, clseg_ocl_axpby};
static const clseg_op op_sum = {"sum", clseg_ref_sum, clseg_ocl_sum};

clseg_status clseg_fill(clseg_context *ctx, clseg_tensor *t, float value)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, "clseg_fill", {"t", t});
    clseg_scalars p = {value, 0.0f};
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_launch(ctx, &op_fill, &p, (clseg_tensor *[]){t});
}

clseg_status clseg_copy(clseg_context *ctx, const clseg_tensor *src, clseg_tensor *dst)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, "clseg_copy", {"src", src}, {"dst", dst});
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_numel(ctx, "clseg_copy", "dst", dst, clseg_tensor_numel(src));
    return st != CLSEG_STATUS_SUCCESS ? st
                                      : clseg_launch(ctx, &op_copy, NULL, (clseg_tensor *[]){(clseg_tensor *)src, dst});
}

clseg_status clseg_scale(clseg_context *ctx, clseg_tensor *x, float alpha)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, "clseg_scale", {"x", x});
    clseg_scalars p = {alpha, 0.0f};
    return st != CLSEG_STATUS_SUCCESS ? st : clseg_launch(ctx, &op_scale, &p, (clseg_tensor *[]){x});
}

clseg_status clseg_axpby(clseg_context *ctx, float alpha, const clseg_tensor *x, float beta, clseg_tensor *y)
{
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, "clseg_axpby", {"x", x}, {"y", y});
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_numel(ctx, "clseg_axpby", "y", y, clseg_tensor_numel(x));
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
    clseg_status st = CLSEG_CHECK_TENSORS(ctx, "clseg_sum", {"x", x}, {"out", out}, {"workspace", workspace});
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_numel(ctx, "clseg_sum", "out", out, 1);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_check_workspace(ctx, "clseg_sum", workspace, clseg_sum_workspace_bytes(ctx, clseg_tensor_numel(x)));
    return st != CLSEG_STATUS_SUCCESS
               ? st
               : clseg_launch(ctx, &op_sum, NULL, (clseg_tensor *[]){(clseg_tensor *)x, out, workspace});
}
