#include "ops/check.h"

#include <stdio.h>

const char *clseg_shape_str(clseg_shape s, char *buf, size_t size)
{
    snprintf(buf, size, "%lldx%lldx%lldx%lld", (long long)s.n, (long long)s.c, (long long)s.h, (long long)s.w);
    return buf;
}

clseg_status clseg_check_tensors(clseg_context *ctx, const char *op, const clseg_named_tensor *args, size_t count)
{
    if (ctx == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; i++) {
        if (args[i].t == NULL)
            return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: %s is NULL", op, args[i].name);
        if (args[i].t->ctx != ctx)
            return clseg_fail(ctx, CLSEG_STATUS_CONTEXT_MISMATCH, "%s: %s belongs to another context", op, args[i].name);
    }
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_check_shape(clseg_context *ctx, const char *op, const char *name, const clseg_tensor *t,
                               clseg_shape want)
{
    clseg_shape s = t->shape;
    if (s.n == want.n && s.c == want.c && s.h == want.h && s.w == want.w)
        return CLSEG_STATUS_SUCCESS;
    char a[96], b[96];
    return clseg_fail(ctx, CLSEG_STATUS_SHAPE_MISMATCH, "%s: %s is %s; %s expected", op, name,
                      clseg_shape_str(s, a, sizeof a), clseg_shape_str(want, b, sizeof b));
}

clseg_status clseg_check_numel(clseg_context *ctx, const char *op, const char *name, const clseg_tensor *t,
                               size_t count)
{
    size_t n = clseg_tensor_numel(t);
    if (n == count)
        return CLSEG_STATUS_SUCCESS;
    return clseg_fail(ctx, CLSEG_STATUS_SHAPE_MISMATCH, "%s: %s has %zu elements; %zu expected", op, name, n, count);
}

clseg_status clseg_check_workspace(clseg_context *ctx, const char *op, const clseg_tensor *workspace, size_t need)
{
    if (need == 0)
        return CLSEG_STATUS_SUCCESS;
    if (workspace == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: the workspace is NULL; %zu bytes are needed", op,
                          need);
    if (workspace->ctx != ctx)
        return clseg_fail(ctx, CLSEG_STATUS_CONTEXT_MISMATCH, "%s: the workspace belongs to another context", op);
    size_t have = clseg_tensor_numel(workspace) * sizeof(float);
    if (have < need)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: the workspace has %zu bytes; %zu are needed", op,
                          have, need);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_check_shape_valid(clseg_context *ctx, const char *op, const char *name, clseg_shape s)
{
    if (s.n >= 1 && s.c >= 1 && s.h >= 1 && s.w >= 1)
        return CLSEG_STATUS_SUCCESS;
    char a[96];
    return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: %s %s has a dimension below 1", op, name,
                      clseg_shape_str(s, a, sizeof a));
}
