#include "opencl/gemm.h"

#include <clblast_c.h>

#include "opencl/tunables.h"

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

/* --- the packed kernels of cl/gemm.c, for CPU devices ------------------------------------- */

enum { NR = 16, PANEL_ALIGN = 16 /* floats: 64 bytes between the two packed panels */ };

typedef struct packing {
    unsigned mr;             /* rows per A panel: 16 or 24 (a kernel each) */
    size_t rows, cols;       /* m and n rounded up to whole panels */
    size_t a_elems, b_elems; /* the packed copies' sizes, b's start aligned */
} packing;

static bool packed_path(clseg_context *ctx)
{
    long v = 0;
    return clseg_ocl_tunable(ctx, "gemm", "GEMM_PACKED", &v) == CLSEG_STATUS_SUCCESS && v == 1;
}

/* The panel height with the least work per useful row: 24 rows run at about 1.4 times the rate
 * of 16 on AVX-512 (measured on PoCL), so 16 wins only where 24 would mostly pad (m = 32). */
static packing plan_packing(clseg_context *ctx, const clseg_ocl_gemm_shape *s)
{
    size_t r16 = (s->m + 15) / 16 * 16, r24 = (s->m + 23) / 24 * 24;
    long forced = 0;
    if (clseg_ocl_tunable(ctx, "gemm", "GEMM_MR", &forced) != CLSEG_STATUS_SUCCESS)
        forced = 0; /* the product itself reports a program that fails to build */
    packing p;
    p.mr = forced == 16 || forced == 24 ? (unsigned)forced : (double)r24 / 1.4 <= (double)r16 ? 24 : 16;
    p.rows = p.mr == 24 ? r24 : r16;
    p.cols = (s->n + NR - 1) / NR * NR;
    p.a_elems = (p.rows * s->k + PANEL_ALIGN - 1) / PANEL_ALIGN * PANEL_ALIGN;
    p.b_elems = p.cols * s->k;
    return p;
}

static clseg_status packed_gemm(clseg_context *ctx, const clseg_ocl_gemm_shape *s, const packing *p, float alpha,
                                clseg_ocl_matrix a, clseg_ocl_matrix b, float beta, clseg_ocl_matrix c, cl_mem scratch,
                                size_t start)
{
    clseg_status st = clseg_ocl_check_count(ctx, "gemm", start + p->a_elems + p->b_elems);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_check_count(ctx, "gemm", c.offset + (s->m - 1) * c.ld + s->n);
    long wg = 64;
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, "gemm", "GEMM_PACK_WG", &wg);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    size_t local[2] = {(size_t)wg, 1}, ap = start, bp = start + p->a_elems;
    clseg_ocl_arg pack_a[] = {CLSEG_ARG_UINT(s->m),       CLSEG_ARG_UINT(s->k),       CLSEG_ARG_UINT(p->mr),
                              CLSEG_ARG_UINT(s->trans_a), {sizeof(cl_mem), &a.mem},   CLSEG_ARG_UINT(a.offset),
                              CLSEG_ARG_UINT(a.ld),       {sizeof(cl_mem), &scratch}, CLSEG_ARG_UINT(ap)};
    size_t global_a[2] = {s->k, p->rows / p->mr}; /* a work-item per (k, panel): see cl/gemm.cl */
    st = clseg_ocl_run(ctx, "gemm", "gemm_pack_a", pack_a, CLSEG_NARGS(pack_a), 2, global_a, local);
    clseg_ocl_arg pack_b[] = {CLSEG_ARG_UINT(s->n),       CLSEG_ARG_UINT(s->k),     CLSEG_ARG_UINT(s->trans_b),
                              {sizeof(cl_mem), &b.mem},   CLSEG_ARG_UINT(b.offset), CLSEG_ARG_UINT(b.ld),
                              {sizeof(cl_mem), &scratch}, CLSEG_ARG_UINT(bp)};
    size_t global_b[2] = {s->k, p->cols / NR};
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_run(ctx, "gemm", "gemm_pack_b", pack_b, CLSEG_NARGS(pack_b), 2, global_b, local);
    clseg_ocl_arg micro[] = {CLSEG_ARG_UINT(s->m),     CLSEG_ARG_UINT(s->n),       CLSEG_ARG_UINT(s->k),
                             CLSEG_ARG_FLOAT(alpha),   CLSEG_ARG_FLOAT(beta),      {sizeof(cl_mem), &scratch},
                             CLSEG_ARG_UINT(ap),       {sizeof(cl_mem), &scratch}, CLSEG_ARG_UINT(bp),
                             {sizeof(cl_mem), &c.mem}, CLSEG_ARG_UINT(c.offset),   CLSEG_ARG_UINT(c.ld)};
    size_t global_c[2] = {p->cols / NR, p->rows / p->mr}, one[2] = {1, 1};
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_run(ctx, "gemm", p->mr == 24 ? "gemm_micro_24" : "gemm_micro_16", micro, CLSEG_NARGS(micro), 2,
                           global_c, one);
    return st;
}

size_t clseg_ocl_gemm_scratch_bytes(const clseg_context *ctx, const clseg_ocl_gemm_shape *shape)
{
    if (packed_path((clseg_context *)ctx)) {
        packing p = plan_packing((clseg_context *)ctx, shape);
        return (p.a_elems + p.b_elems + PANEL_ALIGN) * sizeof(float);
    }
    size_t bytes = temp_bytes(ctx, shape, 0, 0, 0);
    return bytes == 0 ? 0 : bytes + base_align(ctx);
}

clseg_status clseg_ocl_gemm(clseg_context *ctx, const clseg_ocl_gemm_shape *s, float alpha, clseg_ocl_matrix a,
                            clseg_ocl_matrix b, float beta, clseg_ocl_matrix c, clseg_ocl_scratch scratch)
{
    if (s->m == 0 || s->n == 0)
        return CLSEG_STATUS_SUCCESS;
    if (packed_path(ctx) && s->k > 0) {
        packing p = plan_packing(ctx, s);
        /* the packed copies start at a 64-byte boundary of the scratch; without room for them
         * the product falls back to CLBlast, which allocates its own */
        size_t start = (scratch.offset / sizeof(float) + PANEL_ALIGN - 1) / PANEL_ALIGN * PANEL_ALIGN;
        if (scratch.mem != NULL && (start + p.a_elems + p.b_elems) * sizeof(float) <= scratch.offset + scratch.bytes)
            return packed_gemm(ctx, s, &p, alpha, a, b, beta, c, scratch.mem, start);
    }
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
