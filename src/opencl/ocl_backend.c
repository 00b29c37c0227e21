#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opencl/gemm.h"
#include "opencl/ocl.h"
#include "opencl/profile.h"
#include "opencl/program_cache.h"

clseg_status clseg_ocl_fail(clseg_context *ctx, cl_int err, const char *fmt, ...)
{
    char what[12800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* OpenCL's codes are clseg's codes with the same number (see clseg/status.h) */
    return clseg_fail(ctx, (clseg_status)err, "%s", what);
}

clseg_status clseg_ocl_check_count(clseg_context *ctx, const char *op, size_t count)
{
    /* 2^31, not 2^32: kernels step grid-strided loops by up to a count, and i + step must not wrap */
    if (count > (size_t)INT32_MAX)
        return clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED, "%s: %zu elements exceed the 2^31 a kernel can index", op,
                          count);
    return CLSEG_STATUS_SUCCESS;
}

static void ocl_destroy(clseg_backend *be)
{
    if (be == NULL)
        return;
    if (be->queue != NULL)
        clFinish(be->queue);
    clseg_ocl_profile_finish(be->profile);
    clseg_program_cache_destroy(be->programs);
    /* CLBlast's program cache would otherwise hold this context until the process exits */
    clseg_ocl_gemm_release_programs();
    if (be->queue != NULL)
        clReleaseCommandQueue(be->queue);
    if (be->context != NULL)
        clReleaseContext(be->context);
    free(be);
}

static clseg_status ocl_alloc(clseg_context *ctx, size_t bytes, clseg_buffer **out)
{
    char a[64], b[64];
    if (bytes > ctx->device.max_alloc_bytes)
        return clseg_fail(ctx, CLSEG_STATUS_INVALID_BUFFER_SIZE,
                          "allocating %s on %s: larger than the device's maximum allocation "
                          "(CL_DEVICE_MAX_MEM_ALLOC_SIZE) of %s",
                          clseg_format_bytes(a, sizeof a, bytes), ctx->device.name,
                          clseg_format_bytes(b, sizeof b, ctx->device.max_alloc_bytes));
    clseg_buffer *buf = malloc(sizeof *buf);
    if (buf == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "out of host memory");
    cl_int rc = CL_SUCCESS;
    buf->mem = clCreateBuffer(ctx->backend->context, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    if (rc != CL_SUCCESS) {
        free(buf);
        return clseg_ocl_fail(ctx, rc, "allocating %s on %s failed", clseg_format_bytes(a, sizeof a, bytes),
                              ctx->device.name);
    }
    *out = buf;
    return CLSEG_STATUS_SUCCESS;
}

static void ocl_release(clseg_context *ctx, clseg_buffer *buf)
{
    (void)ctx;
    clReleaseMemObject(buf->mem);
    free(buf);
}

static clseg_status ocl_write(clseg_context *ctx, clseg_buffer *buf, size_t off, size_t bytes, const void *src)
{
    cl_int rc = clEnqueueWriteBuffer(ctx->backend->queue, buf->mem, CL_TRUE, off, bytes, src, 0, NULL, NULL);
    return rc == CL_SUCCESS ? CLSEG_STATUS_SUCCESS : clseg_ocl_fail(ctx, rc, "writing %zu bytes to the device", bytes);
}

static clseg_status ocl_read(clseg_context *ctx, clseg_buffer *buf, size_t off, size_t bytes, void *dst)
{
    cl_int rc = clEnqueueReadBuffer(ctx->backend->queue, buf->mem, CL_TRUE, off, bytes, dst, 0, NULL, NULL);
    return rc == CL_SUCCESS ? CLSEG_STATUS_SUCCESS
                            : clseg_ocl_fail(ctx, rc, "reading %zu bytes from the device", bytes);
}

static clseg_status ocl_copy(clseg_context *ctx, clseg_buffer *src, size_t src_off, clseg_buffer *dst, size_t dst_off,
                             size_t bytes)
{
    cl_int rc = clEnqueueCopyBuffer(ctx->backend->queue, src->mem, dst->mem, src_off, dst_off, bytes, 0, NULL, NULL);
    return rc == CL_SUCCESS ? CLSEG_STATUS_SUCCESS : clseg_ocl_fail(ctx, rc, "copying %zu bytes on the device", bytes);
}

static clseg_status ocl_fill(clseg_context *ctx, clseg_buffer *buf, size_t off, size_t bytes, const void *pattern,
                             size_t pattern_bytes)
{
    cl_int rc = clEnqueueFillBuffer(ctx->backend->queue, buf->mem, pattern, pattern_bytes, off, bytes, 0, NULL, NULL);
    return rc == CL_SUCCESS ? CLSEG_STATUS_SUCCESS : clseg_ocl_fail(ctx, rc, "filling %zu bytes on the device", bytes);
}

static clseg_status ocl_launch(clseg_context *ctx, const clseg_op *op, const void *params, clseg_tensor *const *tensors)
{
    if (op->opencl == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_NOT_SUPPORTED, "op %s has no OpenCL implementation", op->name);
    return op->opencl(ctx, params, tensors);
}

static clseg_status ocl_finish(clseg_context *ctx)
{
    cl_int rc = clFinish(ctx->backend->queue);
    return rc == CL_SUCCESS ? CLSEG_STATUS_SUCCESS : clseg_ocl_fail(ctx, rc, "waiting for the device's queue");
}

clseg_status clseg_ocl_run(clseg_context *ctx, const char *program, const char *kernel, const clseg_ocl_arg *args,
                           size_t nargs, cl_uint dims, const size_t *global, const size_t *local)
{
    cl_kernel k = NULL;
    clseg_status st = clseg_program_cache_kernel(ctx, program, kernel, &k);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    for (size_t i = 0; i < nargs; i++) {
        cl_int rc = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (rc != CL_SUCCESS)
            return clseg_ocl_fail(ctx, rc, "setting argument %zu of kernel '%s' (program %s)", i, kernel, program);
    }
    size_t rounded[3];
    for (cl_uint d = 0; d < dims; d++) {
        size_t l = local != NULL ? local[d] : 1;
        rounded[d] = (global[d] + l - 1) / l * l;
        if (rounded[d] == 0)
            return CLSEG_STATUS_SUCCESS; /* nothing to do */
    }
    cl_event ev = NULL;
    clseg_ocl_profile *profile = ctx->backend->profile;
    cl_int rc = clEnqueueNDRangeKernel(ctx->backend->queue, k, dims, NULL, rounded, local, 0, NULL,
                                       profile != NULL ? &ev : NULL);
    if (rc != CL_SUCCESS)
        return clseg_ocl_fail(ctx, rc, "enqueueing kernel '%s' (program %s, global %zu, local %zu)", kernel, program,
                              rounded[0], local != NULL ? local[0] : 0);
    if (profile != NULL)
        clseg_ocl_profile_record(profile, program, kernel, dims, rounded, ev);
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ocl_tunable(clseg_context *ctx, const char *program, const char *name, long *value)
{
    return clseg_program_cache_tunable(ctx, program, name, value);
}

clseg_status clseg_ocl_reduce_grid(clseg_context *ctx, const char *program, const char *wg_tunable,
                                   const char *groups_tunable, size_t n, size_t max_groups, size_t *local,
                                   size_t *groups)
{
    long wg = 0, most = 0;
    clseg_status st = clseg_ocl_check_count(ctx, program, n);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, program, wg_tunable, &wg);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, program, groups_tunable, &most);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    size_t g = (n + (size_t)wg - 1) / (size_t)wg;
    if (most >= 1 && g > (size_t)most)
        g = (size_t)most;
    if (g > max_groups)
        g = max_groups;
    *local = (size_t)wg;
    *groups = g > 0 ? g : 1;
    return CLSEG_STATUS_SUCCESS;
}

clseg_status clseg_ocl_run_1d(clseg_context *ctx, const char *program, const char *kernel, const char *wg_tunable,
                              const clseg_ocl_arg *args, size_t nargs, size_t n)
{
    long wg = 0;
    clseg_status st = clseg_ocl_check_count(ctx, kernel, n);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, program, wg_tunable, &wg);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    size_t local = (size_t)wg;
    return clseg_ocl_run(ctx, program, kernel, args, nargs, 1, &n, &local);
}

static const clseg_backend_iface ocl_iface = {
    .name = "OpenCL",
    .destroy = ocl_destroy,
    .alloc = ocl_alloc,
    .release = ocl_release,
    .write = ocl_write,
    .read = ocl_read,
    .copy = ocl_copy,
    .fill = ocl_fill,
    .launch = ocl_launch,
    .finish = ocl_finish,
};

clseg_status clseg_opencl_backend_create(clseg_context *ctx, const clseg_device_info *device)
{
    clseg_backend *be = calloc(1, sizeof *be);
    if (be == NULL)
        return clseg_fail(ctx, CLSEG_STATUS_OUT_OF_HOST_MEMORY, "out of host memory");
    ctx->iface = &ocl_iface;
    ctx->backend = be;
    ctx->device = *device;
    clseg_status st = clseg_ocl_find_device(device, &be->platform, &be->device);
    if (st != CLSEG_STATUS_SUCCESS)
        return clseg_fail(ctx, st, "device %d:%d (%s) is no longer available", device->platform_index,
                          device->device_index, device->name);
    st = clseg_program_cache_create(&be->programs);
    if (st != CLSEG_STATUS_SUCCESS)
        return clseg_fail(ctx, st, "out of host memory");
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)be->platform, 0};
    cl_int rc = CL_SUCCESS;
    be->context = clCreateContext(props, 1, &be->device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS)
        return clseg_ocl_fail(ctx, rc, "creating an OpenCL context on %s", device->name);
    /* In-order queue: ops run in the order they are enqueued, with no events to track. */
    cl_command_queue_properties props_queue = 0;
    be->profile = clseg_ocl_profile_create(device->name, &props_queue);
    be->queue = clCreateCommandQueue(be->context, be->device, props_queue, &rc);
    if (rc != CL_SUCCESS)
        return clseg_ocl_fail(ctx, rc, "creating a command queue on %s", device->name);
    return CLSEG_STATUS_SUCCESS;
}
