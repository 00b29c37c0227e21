#include "opencl/gemm.h"

#include <clblast_c.h>

/* CLBlast's codes from -1024 down are its own; those above are OpenCL's, and clseg's statuses
 * share OpenCL's numbers. */
static clseg_status clblast_status(CLBlastStatusCode code)
{
    switch (code) {
    case CLBlastNotImplemented:
    case CLBlastNoDoublePrecision:
    case CLBlastNoHalfPrecision: return CLSEG_STATUS_NOT_SUPPORTED;
    case CLBlastInvalidMatrixA:
    case CLBlastInvalidMatrixB:
    case CLBlastInvalidMatrixC:
    case CLBlastInvalidLeadDimA:
    case CLBlastInvalidLeadDimB:
    case CLBlastInvalidLeadDimC:
    case CLBlastInsufficientMemoryA:
    case CLBlastInsufficientMemoryB:
    case CLBlastInsufficientMemoryC:
    case CLBlastInsufficientMemoryTemp:
        return CLSEG_STATUS_INTERNAL; /* clseg passed sizes that do not fit its own buffers */
    default: return code > -1024 ? (clseg_status)code : CLSEG_STATUS_INTERNAL;
    }
}

static CLBlastTranspose trans(bool t)
{
    return t ? CLBlastTransposeYes : CLBlastTransposeNo;
}

/* What CLBlast itself asks for with these offsets; 0 on failure. */
static size_t temp_bytes(const clseg_context *ctx, const clseg_ocl_gemm_shape *s, size_t a_off, size_t b_off,
                         size_t c_off)
{
    size_t bytes = 0;
    CLBlastStatusCode code =
        CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, trans(s->trans_a), trans(s->trans_b), s->m, s->n, s->k, a_off,
                                   s->lda, b_off, s->ldb, c_off, s->ldc, &ctx->backend->queue, &bytes);
    return code == CLBlastSuccess ? bytes : 0;
}

/* A sub-buffer must start at a multiple of the device's base address alignment. */
static size_t base_align(const clseg_context *ctx)
{
    cl_uint bits = 0;
    if (clGetDeviceInfo(ctx->backend->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof bits, &bits, NULL) != CL_SUCCESS ||
        bits < 8)
        bits = 4096 * 8;
    return bits / 8;
}

size_t clseg_ocl_gemm_scratch_bytes(const clseg_context *ctx, const clseg_ocl_gemm_shape *shape)
{
    size_t bytes = temp_bytes(ctx, shape, 0, 0, 0);
    return bytes == 0 ? 0 : bytes + base_align(ctx);
}

clseg_status clseg_ocl_gemm(clseg_context *ctx, const clseg_ocl_gemm_shape *s, float alpha, clseg_ocl_matrix a,
                            clseg_ocl_matrix b, float beta, clseg_ocl_matrix c, clseg_ocl_scratch scratch)
{
    if (s->m == 0 || s->n == 0)
        return CLSEG_STATUS_SUCCESS;
    cl_command_queue *queue = &ctx->backend->queue;
    size_t need = temp_bytes(ctx, s, a.offset, b.offset, c.offset), align = base_align(ctx);
    size_t start = (scratch.offset + align - 1) / align * align;
    CLBlastStatusCode code;
    /* A NULL event is allowed (CLBlast >= 0.7): the call enqueues and returns without waiting. */
    if (need > 0 && scratch.mem != NULL && start + need <= scratch.offset + scratch.bytes) {
        cl_buffer_region region = {start, need};
        cl_int rc = CL_SUCCESS;
        cl_mem temp = clCreateSubBuffer(scratch.mem, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &rc);
        if (rc != CL_SUCCESS)
            return clseg_ocl_fail(ctx, rc, "creating a %zu-byte GEMM scratch sub-buffer at byte %zu", need, start);
        code = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, trans(s->trans_a), trans(s->trans_b), s->m, s->n, s->k,
                                          alpha, a.mem, a.offset, a.ld, b.mem, b.offset, b.ld, beta, c.mem, c.offset,
                                          c.ld, queue, NULL, temp);
        clReleaseMemObject(temp); /* the queued kernels keep it alive until they finish */
    } else {
        code = CLBlastSgemm(CLBlastLayoutRowMajor, trans(s->trans_a), trans(s->trans_b), s->m, s->n, s->k, alpha, a.mem,
                            a.offset, a.ld, b.mem, b.offset, b.ld, beta, c.mem, c.offset, c.ld, queue, NULL);
    }
    if (code == CLBlastSuccess)
        return CLSEG_STATUS_SUCCESS;
    return clseg_fail(ctx, clblast_status(code),
                      "CLBlastSgemm failed with CLBlast status %d (m %zu, n %zu, k %zu, trans %d%d, lda %zu, ldb %zu, "
                      "ldc %zu)",
                      (int)code, s->m, s->n, s->k, s->trans_a, s->trans_b, a.ld, b.ld, c.ld);
}

void clseg_ocl_gemm_release_programs(void)
{
    CLBlastClearCache();
}
