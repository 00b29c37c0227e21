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

/* dst[(p kp + kk) W + ii] = op(X)[p W + ii][kk], 0 for rows past `rows`: the panels of W rows
 * the micro-kernel reads (op(X) = X^T when trans). A work-item per (kk, panel p, image z) gathers
 * its W values into registers and stores them as vectors; neighbours (kk, kk + 1) read
 * neighbouring values of X's rows when X is not transposed. Image z's matrix and panels start
 * z stride further on; a panel holds kp >= k values per row, so several images' k ranges can
 * share one panel (a sum over images as one long product). */
#define GEMM_PACK(W)                                                                                                 \
    __kernel __attribute__((reqd_work_group_size(GEMM_PACK_WG, 1, 1))) void gemm_pack_##W(                          \
        uint rows, uint k, uint trans, __global const float *x, uint x_off, uint ldx, uint x_stride,                 \
        __global float *dst, uint dst_off, uint dst_stride, uint kp)                                                 \
    {                                                                                                                \
        uint kk = get_global_id(0), p = get_global_id(1), z = get_global_id(2);                                      \
        if (kk >= k)                                                                                                 \
            return;                                                                                                  \
        x += x_off + z * x_stride;                                                                                   \
        float t[W];                                                                                                  \
        uint first = p * W, valid = rows > first ? min((uint)W, rows - first) : 0;                                   \
        if (trans) {                                                                                                 \
            for (uint ii = 0; ii < valid; ii++)                                                                      \
                t[ii] = x[kk * ldx + first + ii];                                                                    \
        } else {                                                                                                     \
            for (uint ii = 0; ii < valid; ii++)                                                                      \
                t[ii] = x[(first + ii) * ldx + kk];                                                                  \
        }                                                                                                            \
        for (uint ii = valid; ii < W; ii++)                                                                          \
            t[ii] = 0.0f;                                                                                            \
        __global float *out = dst + dst_off + z * dst_stride + ((size_t)p * kp + kk) * W;                            \
        _Pragma("unroll") for (int q = 0; q < W / 4; q++) vstore4(vload4(q, t), q, out);                             \
    }

/* 16 and 24 for the matrix products; 8 and 12 also for the convolutions' CONV_TILE, 4 for
 * convolutions onto at most 4 channels */
GEMM_PACK(4)
GEMM_PACK(8)
GEMM_PACK(12)
GEMM_PACK(16)
GEMM_PACK(24)

/* C block = alpha A panel x B panel + beta C block, written only inside m x n; beta == 0
 * overwrites (C is not read, so a NaN there does not survive). Grid (B panels, A panels,
 * images): image z's panels and C start z * stride further on, so a batch of products with the
 * same shape (a convolution's images) is one launch. trans_c stores the block transposed,
 * C[col][row], for a product computed as C^T = B^T A^T because its m is small. With ksplit > 0,
 * z is instead a share of k: values [z ksplit, (z + 1) ksplit) of the same panels, and C
 * (c_stride apart) a partial product for gemm_sum_splits. */
#define GEMM_MICRO(MR)                                                                                               \
    __kernel __attribute__((reqd_work_group_size(1, 1, 1))) void gemm_micro_##MR(                                   \
        uint m, uint n, uint k, float alpha, float beta, __global const float *ap, uint ap_off, uint ap_stride,      \
        __global const float *bp, uint bp_off, uint bp_stride, __global float *c, uint c_off, uint c_stride,         \
        uint ldc, uint trans_c, uint ksplit)                                                                         \
    {                                                                                                                \
        uint q = get_global_id(0), p = get_global_id(1), z = get_global_id(2);                                       \
        uint k0 = ksplit > 0 ? z * ksplit : 0, kn = ksplit > 0 ? min(ksplit, k - k0) : k;                           \
        __global const float *a = ap + ap_off + (ksplit > 0 ? 0 : z * ap_stride) + ((size_t)p * k + k0) * MR;       \
        __global const float *b = bp + bp_off + (ksplit > 0 ? 0 : z * bp_stride) + ((size_t)q * k + k0) * GEMM_NR;  \
        float16 acc[MR];                                                                                             \
        _Pragma("unroll") for (int i = 0; i < MR; i++) acc[i] = (float16)(0.0f);                                     \
        for (uint kk = 0; kk < kn; kk++) {                                                                           \
            float16 bv = vload16(0, b + kk * GEMM_NR);                                                               \
            _Pragma("unroll") for (int i = 0; i < MR; i++) acc[i] = fma((float16)(a[kk * MR + i]), bv, acc[i]);     \
        }                                                                                                            \
        /* every loop over acc is unrolled, so that its indices are constants: a variable one  \
         * would make LLVM keep the accumulators in memory instead of registers */              \
        uint row0 = p * MR, col0 = q * GEMM_NR, width = min((uint)GEMM_NR, n - col0);                                \
        __global float *cz = c + c_off + z * c_stride;                                                               \
        if (trans_c) {                                                                                               \
            float t[MR * GEMM_NR];                                                                                   \
            _Pragma("unroll") for (int i = 0; i < MR; i++) vstore16(alpha * acc[i], i, t);                           \
            uint height = min((uint)MR, m - row0);                                                                   \
            for (uint j = 0; j < width; j++) {                                                                       \
                __global float *cc = cz + (size_t)(col0 + j) * ldc + row0;                                           \
                for (uint i = 0; i < height; i++)                                                                    \
                    cc[i] = beta != 0.0f ? t[i * GEMM_NR + j] + beta * cc[i] : t[i * GEMM_NR + j];                   \
            }                                                                                                        \
            return;                                                                                                  \
        }                                                                                                            \
        _Pragma("unroll") for (int i = 0; i < MR; i++)                                                               \
        {                                                                                                            \
            if (row0 + (uint)i < m) {                                                                                \
                __global float *cr = cz + (size_t)(row0 + (uint)i) * ldc + col0;                                     \
                float16 v = alpha * acc[i];                                                                          \
                if (width == GEMM_NR) {                                                                              \
                    if (beta != 0.0f)                                                                                \
                        v += beta * vload16(0, cr);                                                                  \
                    vstore16(v, 0, cr);                                                                              \
                } else {                                                                                             \
                    float t[GEMM_NR];                                                                                \
                    vstore16(v, 0, t);                                                                               \
                    for (uint j = 0; j < width; j++)                                                                 \
                        cr[j] = beta != 0.0f ? t[j] + beta * cr[j] : t[j];                                           \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
    }

GEMM_MICRO(16)
GEMM_MICRO(24)

/* c = beta c + the sum of the splits partial products (rows x cols, ld ldc, part_stride apart),
 * added in order of z: the same bits on every run. A work-item per element of c. */
__kernel void gemm_sum_splits(__global const float *part, uint part_off, uint part_stride, uint splits,
                              __global float *c, uint c_off, uint ldc, uint rows, uint cols, float beta)
{
    uint j = get_global_id(0), i = get_global_id(1);
    if (j >= cols || i >= rows)
        return;
    __global const float *pz = part + part_off + i * ldc + j;
    float s = pz[0];
    for (uint z = 1; z < splits; z++)
        s += pz[(size_t)z * part_stride];
    __global float *cc = c + c_off + i * ldc + j;
    *cc = beta != 0.0f ? s + beta * *cc : s;
}
