#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clseg/clseg.h"

#include "ref/ref.h"

static void ref_destroy(clseg_backend *be) { (void)be; }

static clseg_status ref_alloc(clseg_context *ctx, size_t bytes, clseg_buffer **out)
{
    char a[64], b[64];
    if (bytes > ctx->device.max_alloc_bytes)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_BUFFER_SIZE,
                          "allocating %s on %s: larger than its maximum allocation of %s",
                          clseg_format_bytes(a, sizeof a, bytes), ctx->device.name,
                          clseg_format_bytes(b, sizeof b, ctx->device.max_alloc_bytes));
    clseg_buffer *buf = malloc(sizeof *buf);
    if (buf != NULL)
        buf->data = malloc(bytes);
    if (buf == NULL || buf->data == NULL) {
        free(buf);
        return clseg_fail(ctx, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "allocating %s in host memory failed",
                          clseg_format_bytes(a, sizeof a, bytes));
    }
    *out = buf;
    return CLSEG_STATUS_SUCCESS;
}

static void ref_release(clseg_context *ctx, clseg_buffer *buf)
{
    (void)ctx;
    free(buf->data);
    free(buf);
}

static clseg_status ref_write(clseg_context *ctx, clseg_buffer *buf, size_t off, size_t bytes, const void *src)
{
    (void)ctx;
    memcpy(buf->data + off, src, bytes);
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status ref_read(clseg_context *ctx, clseg_buffer *buf, size_t off, size_t bytes, void *dst)
{
    (void)ctx;
    memcpy(dst, buf->data + off, bytes);
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status ref_copy(clseg_context *ctx, clseg_buffer *src, size_t src_off, clseg_buffer *dst,
                             size_t dst_off, size_t bytes)
{
    (void)ctx;
    memmove(dst->data + dst_off, src->data + src_off, bytes);
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status ref_fill(clseg_context *ctx, clseg_buffer *buf, size_t off, size_t bytes, const void *pattern,
                             size_t pattern_bytes)
{
    (void)ctx;
    for (size_t i = 0; i + pattern_bytes <= bytes; i += pattern_bytes)
        memcpy(buf->data + off + i, pattern, pattern_bytes);
    return CLSEG_STATUS_SUCCESS;
}

static clseg_status ref_launch(clseg_context *ctx, const clseg_op *op, const void *params,
                               clseg_tensor *const *tensors)
{
    if (op->ref == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED, "op %s has no reference implementation", op->name);
    return op->ref(ctx, params, tensors);
}

static clseg_status ref_finish(clseg_context *ctx)
{
    (void)ctx;
    return CLSEG_STATUS_SUCCESS;
}

static const clseg_backend_iface ref_iface = {
    .name = "plain-C reference",
    .destroy = ref_destroy,
    .alloc = ref_alloc,
    .release = ref_release,
    .write = ref_write,
    .read = ref_read,
    .copy = ref_copy,
    .fill = ref_fill,
    .launch = ref_launch,
    .finish = ref_finish,
};

clseg_status clseg_ref_backend_create(clseg_context *ctx)
{
    clseg_device_info *d = &ctx->device;
    memset(d, 0, sizeof *d);
    d->platform_index = -1;
    d->device_index = -1;
    d->type = CLSEG_DEVICE_TYPE_REF;
    snprintf(d->name, sizeof d->name, "ref");
    snprintf(d->vendor, sizeof d->vendor, "clseg");
    snprintf(d->platform_name, sizeof d->platform_name, "plain-C reference backend");
    snprintf(d->driver_version, sizeof d->driver_version, "%s", clseg_version());
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    d->global_mem_bytes = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : (uint64_t)1 << 32;
    d->max_alloc_bytes = d->global_mem_bytes;
    d->compute_units = 1;
    d->max_work_group_size = 1;
    d->fp64 = true;
    ctx->iface = &ref_iface;
    ctx->backend = NULL; /* the reference backend keeps no state of its own */
    return CLSEG_STATUS_SUCCESS;
}
