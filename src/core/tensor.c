#include <stdint.h>
#include <stdlib.h>

#include "core/internal.h"

size_t clseg_shape_numel(clseg_shape s)
{
    if (s.n <= 0 || s.c <= 0 || s.h <= 0 || s.w <= 0)
        return 0;
    size_t total = 1;
    const int64_t dims[4] = {s.n, s.c, s.h, s.w};
    for (int i = 0; i < 4; i++) {
        if ((uint64_t)dims[i] > SIZE_MAX / sizeof(float) / total)
            return 0; /* overflows: treated like an empty shape, which callers reject */
        total *= (size_t)dims[i];
    }
    return total;
}

static clseg_status check_shape(clseg_context *ctx, const char *who, clseg_shape s)
{
    if (s.n <= 0 || s.c <= 0 || s.h <= 0 || s.w <= 0 || clseg_shape_numel(s) == 0)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT,
                          "%s: shape %lldx%lldx%lldx%lld is invalid: every dimension must be at least 1", who,
                          (long long)s.n, (long long)s.c, (long long)s.h, (long long)s.w);
    return CLSEG_STATUS_SUCCESS;
}

/* Allocates through the backend while keeping the context's memory accounting and limit. */
static clseg_status storage_create(clseg_context *ctx, size_t bytes, clseg_storage **out)
{
    char a[64], b[64];
    if (ctx->memory_limit != 0 && ctx->mem.in_use_bytes + bytes > ctx->memory_limit)
        return clseg_fail(ctx, CLSEG_STATUS_MEMORY_LIMIT,
                          "clseg_tensor_create: allocating %s would exceed the context's memory limit of %s",
                          clseg_format_bytes(a, sizeof a, bytes), clseg_format_bytes(b, sizeof b, ctx->memory_limit));
    clseg_storage *s = calloc(1, sizeof *s);
    if (s == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "clseg_tensor_create: out of host memory");
    clseg_status st = ctx->iface->alloc(ctx, bytes, &s->buf);
    if (st != CLSEG_STATUS_SUCCESS) {
        free(s);
        return st;
    }
    s->bytes = bytes;
    s->refs = 1;
    ctx->mem.in_use_bytes += bytes;
    ctx->mem.allocations++;
    if (ctx->mem.in_use_bytes > ctx->mem.peak_bytes)
        ctx->mem.peak_bytes = ctx->mem.in_use_bytes;
    *out = s;
    return CLSEG_STATUS_SUCCESS;
}

static void storage_release(clseg_context *ctx, clseg_storage *s)
{
    if (--s->refs > 0)
        return;
    ctx->iface->release(ctx, s->buf);
    ctx->mem.in_use_bytes -= s->bytes;
    free(s);
}

clseg_status clseg_tensor_create(clseg_context *ctx, clseg_shape shape, clseg_tensor **out)
{
    if (ctx == NULL || out == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT, "clseg_tensor_create: NULL argument");
    *out = NULL;
    clseg_status st = check_shape(ctx, "clseg_tensor_create", shape);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_tensor *t = calloc(1, sizeof *t);
    if (t == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "clseg_tensor_create: out of host memory");
    st = storage_create(ctx, clseg_shape_numel(shape) * sizeof(float), &t->storage);
    if (st != CLSEG_STATUS_SUCCESS) {
        free(t);
        return st;
    }
    t->ctx = ctx;
    t->shape = shape;
    *out = t;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_tensor_view(clseg_tensor *base, size_t offset, clseg_shape shape, clseg_tensor **out)
{
    if (base == NULL || out == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    clseg_context *ctx = base->ctx;
    *out = NULL;
    clseg_status st = check_shape(ctx, "clseg_tensor_view", shape);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    size_t first = base->offset + offset, numel = clseg_shape_numel(shape);
    size_t capacity = base->storage->bytes / sizeof(float);
    if (offset > capacity || first > capacity || numel > capacity - first)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_ARGUMENT,
                          "clseg_tensor_view: %zu elements at offset %zu do not fit in a buffer of %zu elements", numel,
                          first, capacity);
    clseg_tensor *t = calloc(1, sizeof *t);
    if (t == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "clseg_tensor_view: out of host memory");
    t->ctx = ctx;
    t->storage = base->storage;
    t->storage->refs++;
    t->offset = first;
    t->shape = shape;
    *out = t;
    return CLSEG_STATUS_SUCCESS;
}

void clseg_tensor_destroy(clseg_tensor *t)
{
    if (t == NULL)
        return;
    storage_release(t->ctx, t->storage);
    free(t);
}

clseg_shape clseg_tensor_shape(const clseg_tensor *t) { return t->shape; }
size_t clseg_tensor_numel(const clseg_tensor *t) { return clseg_shape_numel(t->shape); }
clseg_context *clseg_tensor_context(const clseg_tensor *t) { return t->ctx; }

static clseg_status check_transfer(const clseg_tensor *t, const void *host, size_t count, const char *who)
{
    if (t == NULL)
        return CLSEG_STATUS_INVALID_ARGUMENT;
    if (host == NULL)
        return clseg_fail(t->ctx, CLSEG_STATUS_INVALID_ARGUMENT, "%s: host pointer is NULL", who);
    if (count != clseg_tensor_numel(t))
        return clseg_fail(t->ctx, CLSEG_STATUS_SHAPE_MISMATCH, "%s: %zu floats given for a tensor of %zu elements",
                          who, count, clseg_tensor_numel(t));
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_tensor_upload(clseg_tensor *t, const float *host, size_t count)
{
    clseg_status st = check_transfer(t, host, count, "clseg_tensor_upload");
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    return t->ctx->iface->write(t->ctx, t->storage->buf, clseg_tensor_byte_offset(t), count * sizeof(float), host);
}

clseg_status clseg_tensor_download(const clseg_tensor *t, float *host, size_t count)
{
    clseg_status st = check_transfer(t, host, count, "clseg_tensor_download");
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    return t->ctx->iface->read(t->ctx, t->storage->buf, clseg_tensor_byte_offset(t), count * sizeof(float), host);
}
