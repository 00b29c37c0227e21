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
    case CLBlastInvalidLocalMemUsage:
    case CLBlastInvalidLocalThreadsTotal:
    case CLBlastInvalidLocalThreadsDim:
        return CLSEG_STATUS_INTERNAL; /* clseg passed sizes that do not fit its own buffers */
    default: return code > -1024 ? (clseg_status)code : CLSEG_STATUS_INTERNAL;
    }
}

clseg_status clseg_ocl_gemm(clseg_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                            clseg_ocl_matrix a, clseg_ocl_matrix b, float beta, clseg_ocl_matrix c)
{
    if (m == 0 || n == 0)
        return CLSEG_STATUS_SUCCESS;
    /* A NULL event is allowed (CLBlast >= 0.7): the call enqueues and returns without waiting. */
    CLBlastStatusCode code =
        CLBlastSgemm(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                     trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a.mem, a.offset, a.ld, b.mem,
                     b.offset, b.ld, beta, c.mem, c.offset, c.ld, &ctx->backend->queue, NULL);
    if (code == CLBlastSuccess)
        return CLSEG_STATUS_SUCCESS;
    return clseg_fail(ctx, clblast_status(code),
                      "CLBlastSgemm failed with CLBlast status %d (m %zu, n %zu, k %zu, trans %d%d, lda %zu, ldb %zu, "
                      "ldc %zu)",
                      (int)code, m, n, k, trans_a, trans_b, a.ld, b.ld, c.ld);
}

void clseg_ocl_gemm_release_programs(void)
{
    CLBlastClearCache();
}
