/* A packed SGEMM for CPU devices, where CLBlast's kernels reach a small share of the machine's
 * peak: op(A) is copied into panels of MR rows (k-major, MR values per k), op(B) into panels of
 * 16 columns (k-major, 16 values per k), and each work-item multiplies one A panel by one B panel
 * keeping its MR x 16 block of C in MR float16 registers (a broadcast-FMA micro-kernel that LLVM
 * maps onto 512- or 256-bit FMAs). Panels are zero-padded, so the micro-kernel has no edge
 * cases until it writes C. Counts and offsets are 32-bit (the host checks). */

#ifndef GEMM_PACKED
#define GEMM_PACKED 0 /* 1: the OpenCL ops' matrix products use these kernels, not CLBlast */
#endif
#ifndef GEMM_PACK_WG
#define GEMM_PACK_WG 64 /* work-group width of the packing kernels */
#endif
#ifndef GEMM_MR
#define GEMM_MR 0 /* rows per A panel, 16 or 24; 0: the host picks per product (src/opencl/gemm.c) */
#endif
#define GEMM_NR 16

/* ap[(p * k + kk) * mr + ii] = op(A)[p * mr + ii][kk], 0 for rows past m: a work-item per (kk,
 * panel p) writes its mr values in one run, and neighbours (kk, kk + 1) read neighbouring
 * values when A is transposed, the same row when it is not. */
__kernel __attribute__((reqd_work_group_size(GEMM_PACK_WG, 1, 1)))
void gemm_pack_a(uint m, uint k, uint mr, uint trans, __global const float *a, uint a_off, uint lda,
                 __global float *ap, uint ap_off)
{
    uint kk = get_global_id(0), p = get_global_id(1);
    if (kk >= k)
        return;
    __global float *dst = ap + ap_off + ((size_t)p * k + kk) * mr;
    for (uint ii = 0; ii < mr; ii++) {
        uint i = p * mr + ii;
        dst[ii] = i < m ? (trans ? a[a_off + kk * lda + i] : a[a_off + i * lda + kk]) : 0.0f;
    }
}

/* bp[(q * k + kk) * 16 + jj] = op(B)[kk][q * 16 + jj], 0 for columns past n: a work-item per
 * (kk, panel q), one 16-value store. */
__kernel __attribute__((reqd_work_group_size(GEMM_PACK_WG, 1, 1)))
void gemm_pack_b(uint n, uint k, uint trans, __global const float *b, uint b_off, uint ldb, __global float *bp,
                 uint bp_off)
{
    uint kk = get_global_id(0), q = get_global_id(1);
    if (kk >= k)
        return;
    float t[GEMM_NR];
    for (uint jj = 0; jj < GEMM_NR; jj++) {
        uint j = q * GEMM_NR + jj;
        t[jj] = j < n ? (trans ? b[b_off + j * ldb + kk] : b[b_off + kk * ldb + j]) : 0.0f;
    }
    vstore16(vload16(0, t), 0, bp + bp_off + ((size_t)q * k + kk) * GEMM_NR);
}

/* C block = alpha A panel x B panel + beta C block, written only inside m x n; beta == 0
 * overwrites (C is not read, so a NaN there does not survive). */
#define GEMM_MICRO(MR)                                                                                               \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void gemm_micro_##MR(                                   \
        uint m, uint n, uint k, float alpha, float beta, __global const float *ap, uint ap_off,                      \
        __global const float *bp, uint bp_off, __global float *c, uint c_off, uint ldc)                              \
    {                                                                                                                \
        uint q = get_global_id(0), p = get_global_id(1);                                                            \
        __global const float *a = ap + ap_off + (size_t)p * k * MR;                                                  \
        __global const float *b = bp + bp_off + (size_t)q * k * GEMM_NR;                                             \
        float16 acc[MR];                                                                                             \
        for (int i = 0; i < MR; i++)                                                                                 \
            acc[i] = (float16)(0.0f);                                                                                \
        for (uint kk = 0; kk < k; kk++) {                                                                            \
            float16 bv = vload16(0, b + kk * GEMM_NR);                                                               \
            _Pragma("unroll") for (int i = 0; i < MR; i++) acc[i] = fma((float16)(a[kk * MR + i]), bv, acc[i]);     \
        }                                                                                                            \
        uint row0 = p * MR, col0 = q * GEMM_NR, width = min((uint)GEMM_NR, n - col0);                                \
        for (int i = 0; i < MR && row0 + i < m; i++) {                                                               \
            __global float *cr = c + c_off + (size_t)(row0 + i) * ldc + col0;                                        \
            float16 v = alpha * acc[i];                                                                              \
            if (width == GEMM_NR) {                                                                                  \
                if (beta != 0.0f)                                                                                    \
                    v += beta * vload16(0, cr);                                                                      \
                vstore16(v, 0, cr);                                                                                  \
            } else {                                                                                                 \
                float t[GEMM_NR];                                                                                    \
                vstore16(v, 0, t);                                                                                   \
                for (uint j = 0; j < width; j++)                                                                     \
                    cr[j] = beta != 0.0f ? t[j] + beta * cr[j] : t[j];                                               \
            }                                                                                                        \
        }                                                                                                            \
    }

GEMM_MICRO(16)
GEMM_MICRO(24)
