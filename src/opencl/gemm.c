#include "opencl/gemm.h"

#include <stdio.h>

#include <clblast_c.h>

#include "opencl/profile.h"
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

/* --- the packed kernels of cl/gemm.cl, for CPU devices ------------------------------------- */

enum { NR = 16, PANEL_ALIGN = 16 /* floats: 64 bytes between the two packed panels */ };

bool clseg_ocl_gemm_is_packed(clseg_context *ctx)
{
    long v = 0;
    return clseg_ocl_tunable(ctx, "gemm", "GEMM_PACKED", &v) == CLSEG_STATUS_SUCCESS && v == 1;
}

static size_t round_up(size_t v, size_t to)
{
    return (v + to - 1) / to * to;
}

/* 24-row panels run at about 1.4 times the rate of 16-row ones on AVX-512 (measured on PoCL). */
#define TALL_PANEL_SPEEDUP 1.4

static unsigned panel_height(long forced, size_t rows)
{
    if (forced == 16 || forced == 24)
        return (unsigned)forced;
    return (double)round_up(rows, 24) / TALL_PANEL_SPEEDUP <= (double)round_up(rows, 16) ? 24 : 16;
}

/* Work, in 16-row-panel units, of a product with these left and right row counts. */
static double panel_cost(unsigned mr, size_t left, size_t right)
{
    return (double)round_up(left, mr) / (mr == 24 ? TALL_PANEL_SPEEDUP : 1.0) * (double)round_up(right, NR);
}

static long forced_height(clseg_context *ctx)
{
    long forced = 0;
    if (clseg_ocl_tunable(ctx, "gemm", "GEMM_MR", &forced) != CLSEG_STATUS_SUCCESS)
        forced = 0; /* the product itself reports a program that fails to build */
    return forced;
}

unsigned clseg_ocl_gemm_panel_height(clseg_context *ctx, size_t rows)
{
    return panel_height(forced_height(ctx), rows);
}

clseg_ocl_packing clseg_ocl_gemm_plan(clseg_context *ctx, const clseg_ocl_gemm_shape *s)
{
    long forced = forced_height(ctx);
    unsigned mr_normal = panel_height(forced, s->m), mr_swapped = panel_height(forced, s->n);
    clseg_ocl_packing p;
    p.swapped = panel_cost(mr_swapped, s->n, s->m) < panel_cost(mr_normal, s->m, s->n);
    p.mr = p.swapped ? mr_swapped : mr_normal;
    p.left_rows = p.swapped ? s->n : s->m;
    p.right_rows = p.swapped ? s->m : s->n;
    p.left_elems = round_up(round_up(p.left_rows, p.mr) * s->k, PANEL_ALIGN);
    p.right_elems = round_up(p.right_rows, NR) * s->k;
    return p;
}

clseg_status clseg_ocl_gemm_pack(clseg_context *ctx, size_t rows, size_t k, unsigned width, bool trans,
                                 clseg_ocl_matrix x, size_t x_stride, clseg_ocl_panels dst, size_t panel_k,
                                 size_t count)
{
    size_t panels = (rows + width - 1) / width;
    clseg_status st =
        clseg_ocl_check_count(ctx, "gemm", dst.offset + dst.stride * (count - 1) + panels * width * panel_k);
    long wg = 64;
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_tunable(ctx, "gemm", "GEMM_PACK_WG", &wg);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    size_t local[3] = {(size_t)wg, 1, 1}, global[3] = {k, panels, count}; /* see cl/gemm.cl */
    clseg_ocl_arg args[] = {CLSEG_ARG_UINT(rows),       CLSEG_ARG_UINT(k),          CLSEG_ARG_UINT(trans),
                            {sizeof(cl_mem), &x.mem},   CLSEG_ARG_UINT(x.offset),   CLSEG_ARG_UINT(x.ld),
                            CLSEG_ARG_UINT(x_stride),   {sizeof(cl_mem), &dst.mem}, CLSEG_ARG_UINT(dst.offset),
                            CLSEG_ARG_UINT(dst.stride), CLSEG_ARG_UINT(panel_k)};
    if (width != 4 && width != 8 && width != 12 && width != 16 && width != 24)
        return clseg_fail(ctx, CLSEG_STATUS_INTERNAL, "gemm: no packing kernel for panels of %u rows", width);
    char kernel[32];
    snprintf(kernel, sizeof kernel, "gemm_pack_%u", width);
    return clseg_ocl_run(ctx, "gemm", kernel, args, CLSEG_NARGS(args), 3, global, local);
}

/* gemm_micro over count images (ksplit 0), or over shares of k ksplit long (count shares). */
static clseg_status micro(clseg_context *ctx, const clseg_ocl_packing *p, size_t k, float alpha, clseg_ocl_panels left,
                          clseg_ocl_panels right, float beta, clseg_ocl_matrix c, size_t c_stride, bool trans_c,
                          size_t count, size_t ksplit)
{
    size_t m = p->left_rows, n = p->right_rows;
    size_t last = trans_c ? (n - 1) * c.ld + m : (m - 1) * c.ld + n;
    clseg_status st = clseg_ocl_check_count(ctx, "gemm", c.offset + c_stride * (count - 1) + last);
    if (st != CLSEG_STATUS_SUCCESS)
        return st;
    clseg_ocl_arg args[] = {CLSEG_ARG_UINT(m),
                            CLSEG_ARG_UINT(n),
                            CLSEG_ARG_UINT(k),
                            CLSEG_ARG_FLOAT(alpha),
                            CLSEG_ARG_FLOAT(beta),
                            {sizeof(cl_mem), &left.mem},
                            CLSEG_ARG_UINT(left.offset),
                            CLSEG_ARG_UINT(left.stride),
                            {sizeof(cl_mem), &right.mem},
                            CLSEG_ARG_UINT(right.offset),
                            CLSEG_ARG_UINT(right.stride),
                            {sizeof(cl_mem), &c.mem},
                            CLSEG_ARG_UINT(c.offset),
                            CLSEG_ARG_UINT(c_stride),
                            CLSEG_ARG_UINT(c.ld),
                            CLSEG_ARG_UINT(trans_c),
                            CLSEG_ARG_UINT(ksplit)};
    size_t global[3] = {(n + NR - 1) / NR, (m + p->mr - 1) / p->mr, count}, one[3] = {1, 1, 1};
    return clseg_ocl_run(ctx, "gemm", p->mr == 24 ? "gemm_micro_24" : "gemm_micro_16", args, CLSEG_NARGS(args), 3,
                         global, one);
}

clseg_status clseg_ocl_gemm_panels(clseg_context *ctx, const clseg_ocl_packing *p, size_t k, float alpha,
                                   clseg_ocl_panels left, clseg_ocl_panels right, float beta, clseg_ocl_matrix c,
                                   size_t c_stride, bool trans_c, size_t count)
{
    return micro(ctx, p, k, alpha, left, right, beta, c, c_stride, trans_c, count, 0);
}

/* Shares of k for a product with few blocks and a long k, which one work-item per block would
 * walk alone, streaming its panels from memory: with shares, the blocks of one share run side
 * by side over panels that stay in cache (a share's panels fill about CACHE_BYTES), and every
 * core has work. 1: no split. */
static size_t k_shares(const clseg_ocl_packing *p, size_t k)
{
    enum { ENOUGH_BLOCKS = 64, CACHE_BYTES = 256 << 10, MIN_SHARE = 128, MAX_SHARES = 64 };
    size_t left = round_up(p->left_rows, p->mr), right = round_up(p->right_rows, NR);
    size_t blocks = left / p->mr * (right / NR), share = CACHE_BYTES / ((left + right) * sizeof(float));
    if (blocks >= ENOUGH_BLOCKS || k < 2 * MIN_SHARE)
        return 1;
    share = share < MIN_SHARE ? MIN_SHARE : share;
    size_t shares = (k + share - 1) / share;
    return shares > MAX_SHARES ? MAX_SHARES : shares;
}

size_t clseg_ocl_gemm_split_elems(const clseg_ocl_packing *p, size_t k, size_t ldc)
{
    size_t shares = k_shares(p, k);
    return shares > 1 ? shares * (p->swapped ? p->right_rows : p->left_rows) * ldc : 0;
}

clseg_status clseg_ocl_gemm_panels_split(clseg_context *ctx, const clseg_ocl_packing *p, size_t k, float alpha,
                                         clseg_ocl_panels left, clseg_ocl_panels right, float beta, clseg_ocl_matrix c,
                                         clseg_ocl_scratch scratch)
{
    size_t shares = k_shares(p, k), need = clseg_ocl_gemm_split_elems(p, k, c.ld);
    size_t start = (scratch.offset / sizeof(float) + PANEL_ALIGN - 1) / PANEL_ALIGN * PANEL_ALIGN;
    if (shares <= 1 || scratch.mem == NULL || (start + need) * sizeof(float) > scratch.offset + scratch.bytes)
        return clseg_ocl_gemm_panels(ctx, p, k, alpha, left, right, beta, c, 0, p->swapped, 1);
    size_t share = (k + shares - 1) / shares, count = (k + share - 1) / share;
    size_t rows = p->swapped ? p->right_rows : p->left_rows, cols = p->swapped ? p->left_rows : p->right_rows;
    size_t part_stride = rows * c.ld;
    clseg_ocl_matrix parts = {scratch.mem, start, c.ld};
    clseg_status st = micro(ctx, p, k, alpha, left, right, 0.0f, parts, part_stride, p->swapped, count, share);
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_sum_partials(ctx, (clseg_ocl_panels){scratch.mem, start, part_stride}, count, c, rows, cols,
                                    beta);
    return st;
}

clseg_status clseg_ocl_sum_partials(clseg_context *ctx, clseg_ocl_panels parts, size_t count, clseg_ocl_matrix c,
                                    size_t rows, size_t cols, float beta)
{
    clseg_status st = clseg_ocl_check_count(ctx, "gemm", parts.offset + parts.stride * count);
    clseg_ocl_arg sum[] = {{sizeof(cl_mem), &parts.mem}, CLSEG_ARG_UINT(parts.offset), CLSEG_ARG_UINT(parts.stride),
                           CLSEG_ARG_UINT(count),        {sizeof(cl_mem), &c.mem},     CLSEG_ARG_UINT(c.offset),
                           CLSEG_ARG_UINT(c.ld),         CLSEG_ARG_UINT(rows),         CLSEG_ARG_UINT(cols),
                           CLSEG_ARG_FLOAT(beta)};
    size_t elems[2] = {cols, rows};
    if (st == CLSEG_STATUS_SUCCESS)
        st = clseg_ocl_run(ctx, "gemm", "gemm_sum_splits", sum, CLSEG_NARGS(sum), 2, elems, NULL);
    return st;
}

/* Images per launch: as many as the scratch holds copies of the operands that differ per
 * image, so that a batch of small products costs three launches and not two per image. */
static size_t images_per_launch(const clseg_ocl_packing *p, bool left_each, bool right_each, size_t room, size_t count)
{
    size_t fixed = (left_each ? 0 : p->left_elems) + (right_each ? 0 : p->right_elems);
    size_t each = (left_each ? p->left_elems : 0) + (right_each ? p->right_elems : 0);
    if (each == 0)
        return count;
    size_t fit = room > fixed ? (room - fixed) / each : 0;
    return fit < 1 ? 1 : (fit < count ? fit : count);
}

/* The batch of clseg_ocl_gemm_batched on the packed kernels, the copies in scratch from start
 * on (room elements): an operand shared by every image is packed once, the others for as many
 * images at a time as there is room. */
static clseg_status packed_gemm(clseg_context *ctx, const clseg_ocl_gemm_shape *s, const clseg_ocl_packing *p,
                                float alpha, clseg_ocl_matrix a, size_t a_stride, clseg_ocl_matrix b, size_t b_stride,
                                float beta, clseg_ocl_matrix c, size_t c_stride, size_t count, cl_mem scratch,
                                size_t start, size_t room)
{
    /* rows of op(A) are A's rows unless trans_a; rows of op(B)^T are B's rows when trans_b */
    clseg_ocl_matrix lm = p->swapped ? b : a, rm = p->swapped ? a : b;
    size_t ls = p->swapped ? b_stride : a_stride, rs = p->swapped ? a_stride : b_stride;
    bool lt = p->swapped ? !s->trans_b : s->trans_a, rt = p->swapped ? s->trans_a : !s->trans_b;
    size_t group = images_per_launch(p, ls != 0, rs != 0, room, count);
    clseg_ocl_panels left = {scratch, start, ls != 0 ? p->left_elems : 0};
    clseg_ocl_panels right = {scratch, start + p->left_elems * (ls != 0 ? group : 1), rs != 0 ? p->right_elems : 0};
    clseg_status st = CLSEG_STATUS_SUCCESS;
    for (size_t i = 0; st == CLSEG_STATUS_SUCCESS && i < count; i += group) {
        size_t images = count - i < group ? count - i : group;
        if (i == 0 || ls != 0)
            st = clseg_ocl_gemm_pack(ctx, p->left_rows, s->k, p->mr, lt,
                                     (clseg_ocl_matrix){lm.mem, lm.offset + i * ls, lm.ld}, ls, left, s->k,
                                     ls != 0 ? images : 1);
        if (st == CLSEG_STATUS_SUCCESS && (i == 0 || rs != 0))
            st = clseg_ocl_gemm_pack(ctx, p->right_rows, s->k, NR, rt,
                                     (clseg_ocl_matrix){rm.mem, rm.offset + i * rs, rm.ld}, rs, right, s->k,
                                     rs != 0 ? images : 1);
        if (st == CLSEG_STATUS_SUCCESS)
            st = clseg_ocl_gemm_panels(ctx, p, s->k, alpha, left, right, beta,
                                       (clseg_ocl_matrix){c.mem, c.offset + i * c_stride, c.ld}, c_stride, p->swapped,
                                       images);
    }
    return st;
}

/* Beyond this, a batch's packed copies would cost more memory than its launches cost time. */
#define BATCH_SCRATCH_CAP ((size_t)64 << 20)

size_t clseg_ocl_gemm_scratch_bytes(const clseg_context *ctx, const clseg_ocl_gemm_shape *shape)
{
    return clseg_ocl_gemm_batch_scratch_bytes(ctx, shape, false, false, 1);
}

size_t clseg_ocl_gemm_batch_scratch_bytes(const clseg_context *ctx, const clseg_ocl_gemm_shape *shape, bool a_each,
                                          bool b_each, size_t count)
{
    if (clseg_ocl_gemm_is_packed((clseg_context *)ctx)) {
        clseg_ocl_packing p = clseg_ocl_gemm_plan((clseg_context *)ctx, shape);
        bool left_each = p.swapped ? b_each : a_each, right_each = p.swapped ? a_each : b_each;
        size_t one = (p.left_elems + p.right_elems) * sizeof(float);
        size_t each = ((left_each ? p.left_elems : 0) + (right_each ? p.right_elems : 0)) * sizeof(float);
        while (count > 1 && one + each * (count - 1) > BATCH_SCRATCH_CAP)
            count--;
        return one + each * (count - 1) + PANEL_ALIGN * sizeof(float);
    }
    size_t bytes = temp_bytes(ctx, shape, 0, 0, 0);
    return bytes == 0 ? 0 : bytes + base_align(ctx);
}

/* One product on CLBlast. */
static clseg_status clblast_gemm(clseg_context *ctx, const clseg_ocl_gemm_shape *s, float alpha, clseg_ocl_matrix a,
                                 clseg_ocl_matrix b, float beta, clseg_ocl_matrix c, clseg_ocl_scratch scratch)
{
    cl_command_queue *queue = &ctx->backend->queue;
    size_t need = temp_bytes(ctx, s, a.offset, b.offset, c.offset), align = base_align(ctx);
    size_t start = (scratch.offset + align - 1) / align * align;
    CLBlastStatusCode code;
    /* A NULL event is allowed (CLBlast >= 0.7): the call enqueues and returns without waiting.
     * Profiling asks for the event of CLBlast's last kernel, the product itself. */
    cl_event ev = NULL, *evp = ctx->backend->profile != NULL ? &ev : NULL;
    if (need > 0 && scratch.mem != NULL && start + need <= scratch.offset + scratch.bytes) {
        cl_buffer_region region = {start, need};
        cl_int rc = CL_SUCCESS;
        cl_mem temp = clCreateSubBuffer(scratch.mem, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &rc);
        if (rc != CL_SUCCESS)
            return clseg_ocl_fail(ctx, rc, "creating a %zu-byte GEMM scratch sub-buffer at byte %zu", need, start);
        code = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, trans(s->trans_a), trans(s->trans_b), s->m, s->n, s->k,
                                          alpha, a.mem, a.offset, a.ld, b.mem, b.offset, b.ld, beta, c.mem, c.offset,
                                          c.ld, queue, evp, temp);
        clReleaseMemObject(temp); /* the queued kernels keep it alive until they finish */
    } else {
        code = CLBlastSgemm(CLBlastLayoutRowMajor, trans(s->trans_a), trans(s->trans_b), s->m, s->n, s->k, alpha, a.mem,
                            a.offset, a.ld, b.mem, b.offset, b.ld, beta, c.mem, c.offset, c.ld, queue, evp);
    }
    if (code == CLBlastSuccess) {
        if (ev != NULL) {
            size_t mnk[3] = {s->m, s->n, s->k};
            clseg_ocl_profile_record(ctx->backend->profile, "clblast", "sgemm", 3, mnk, ev);
        }
        return CLSEG_STATUS_SUCCESS;
    }
    return clseg_fail(ctx, clblast_status(code),
                      "CLBlastSgemm failed with CLBlast status %d (m %zu, n %zu, k %zu, trans %d%d, lda %zu, ldb %zu, "
                      "ldc %zu)",
                      (int)code, s->m, s->n, s->k, s->trans_a, s->trans_b, a.ld, b.ld, c.ld);
}

clseg_status clseg_ocl_gemm_batched(clseg_context *ctx, const clseg_ocl_gemm_shape *s, float alpha, clseg_ocl_matrix a,
                                    size_t a_stride, clseg_ocl_matrix b, size_t b_stride, float beta,
                                    clseg_ocl_matrix c, size_t c_stride, size_t count, clseg_ocl_scratch scratch)
{
    if (s->m == 0 || s->n == 0 || count == 0)
        return CLSEG_STATUS_SUCCESS;
    if (clseg_ocl_gemm_is_packed(ctx) && s->k > 0) {
        clseg_ocl_packing p = clseg_ocl_gemm_plan(ctx, s);
        /* the packed copies start at a 64-byte boundary of the scratch; without room for them
         * the product falls back to CLBlast, which allocates its own */
        size_t start = (scratch.offset / sizeof(float) + PANEL_ALIGN - 1) / PANEL_ALIGN * PANEL_ALIGN;
        size_t end = (scratch.offset + scratch.bytes) / sizeof(float);
        if (scratch.mem != NULL && start + p.left_elems + p.right_elems <= end)
            return packed_gemm(ctx, s, &p, alpha, a, a_stride, b, b_stride, beta, c, c_stride, count, scratch.mem,
                               start, end - start);
    }
    clseg_status st = CLSEG_STATUS_SUCCESS;
    for (size_t i = 0; st == CLSEG_STATUS_SUCCESS && i < count; i++)
        st = clblast_gemm(ctx, s, alpha, (clseg_ocl_matrix){a.mem, a.offset + i * a_stride, a.ld},
                          (clseg_ocl_matrix){b.mem, b.offset + i * b_stride, b.ld}, beta,
                          (clseg_ocl_matrix){c.mem, c.offset + i * c_stride, c.ld}, scratch);
    return st;
}

/* Shares of at least K_SHARE_MIN of k, at most K_SHARES_MAX of them, and partial products of
 * at most K_PARTS_MAX floats; a C of K_SPLIT_OUTPUTS elements or more fills a GPU by itself. */
enum { K_SHARE_MIN = 256, K_SHARES_MAX = 256, K_PARTS_MAX = 4 << 20, K_SPLIT_OUTPUTS = 1 << 20 };

size_t clseg_ocl_gemm_k_shares(clseg_context *ctx, const clseg_ocl_gemm_shape *s)
{
    size_t outputs = s->m * s->ldc, shares = 1;
    if (clseg_ocl_gemm_is_packed(ctx) || outputs == 0 || outputs >= K_SPLIT_OUTPUTS)
        return 1;
    /* equal shares, so one strided batch covers them */
    while (shares * 2 <= K_SHARES_MAX && s->k % (shares * 2) == 0 && s->k / (shares * 2) >= K_SHARE_MIN &&
           shares * 2 * outputs <= K_PARTS_MAX)
        shares *= 2;
    return shares;
}

size_t clseg_ocl_gemm_split_k_bytes(clseg_context *ctx, const clseg_ocl_gemm_shape *s)
{
    size_t shares = clseg_ocl_gemm_k_shares(ctx, s);
    return shares > 1 ? (shares * s->m * s->ldc + PANEL_ALIGN) * sizeof(float) : 0;
}

clseg_status clseg_ocl_gemm_split_k(clseg_context *ctx, const clseg_ocl_gemm_shape *s, float alpha, clseg_ocl_matrix a,
                                    clseg_ocl_matrix b, float beta, clseg_ocl_matrix c, clseg_ocl_scratch scratch)
{
    size_t shares = clseg_ocl_gemm_k_shares(ctx, s), part = s->m * c.ld;
    size_t start = (scratch.offset / sizeof(float) + PANEL_ALIGN - 1) / PANEL_ALIGN * PANEL_ALIGN;
    if (shares < 2 || scratch.mem == NULL || start + shares * part > (scratch.offset + scratch.bytes) / sizeof(float))
        return clseg_ocl_gemm(ctx, s, alpha, a, b, beta, c, scratch);
    size_t ks = s->k / shares;
    /* share z of op(A) (m x k) and op(B) (k x n): columns or rows z ks ... of the stored matrix */
    size_t a_stride = s->trans_a ? ks * a.ld : ks, b_stride = s->trans_b ? ks : ks * b.ld;
    cl_event ev = NULL, *evp = ctx->backend->profile != NULL ? &ev : NULL;
    CLBlastStatusCode code =
        CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, trans(s->trans_a), trans(s->trans_b), s->m, s->n, ks, alpha,
                                   a.mem, a.offset, a.ld, a_stride, b.mem, b.offset, b.ld, b_stride, 0.0f, scratch.mem,
                                   start, c.ld, part, shares, &ctx->backend->queue, evp);
    if (code != CLBlastSuccess)
        return clseg_fail(
            ctx, clblast_status(code),
            "CLBlastSgemmStridedBatched failed with CLBlast status %d (m %zu, n %zu, k %zu in %zu shares)", (int)code,
            s->m, s->n, s->k, shares);
    if (ev != NULL) {
        size_t mnk[3] = {s->m, s->n, ks};
        clseg_ocl_profile_record(ctx->backend->profile, "clblast", "sgemm_shares", 3, mnk, ev);
    }
    return clseg_ocl_sum_partials(ctx, (clseg_ocl_panels){scratch.mem, start, part}, shares, c, s->m, s->n, beta);
}

clseg_status clseg_ocl_gemm(clseg_context *ctx, const clseg_ocl_gemm_shape *s, float alpha, clseg_ocl_matrix a,
                            clseg_ocl_matrix b, float beta, clseg_ocl_matrix c, clseg_ocl_scratch scratch)
{
    return clseg_ocl_gemm_batched(ctx, s, alpha, a, 0, b, 0, beta, c, 0, 1, scratch);
}

void clseg_ocl_gemm_release_programs(void)
{
    CLBlastClearCache();
}
