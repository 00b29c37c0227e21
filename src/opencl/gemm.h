/* The matrix multiply the OpenCL ops use, behind one small interface: clseg's packed kernels
 * (cl/gemm.cl) where the tunable GEMM_PACKED is 1 (CPU devices), CLBlast's SGEMM elsewhere. */
#ifndef CLSEG_OCL_GEMM_H
#define CLSEG_OCL_GEMM_H

#include <stdbool.h>

#include "opencl/ocl.h"

/* A row-major matrix in a buffer: element (r, c) at offset + r * ld + c (elements). */
typedef struct clseg_ocl_matrix {
    cl_mem mem;
    size_t offset, ld;
} clseg_ocl_matrix;

/* Scratch for one product: bytes bytes of mem from byte offset on (mem NULL: none). */
typedef struct clseg_ocl_scratch {
    cl_mem mem;
    size_t offset, bytes;
} clseg_ocl_scratch;

/* The shape of a product C (m x n) = op(A) (m x k) op(B) (k x n), op(X) = X^T when trans. */
typedef struct clseg_ocl_gemm_shape {
    bool trans_a, trans_b;
    size_t m, n, k, lda, ldb, ldc;
} clseg_ocl_gemm_shape;

/* Scratch bytes clseg_ocl_gemm needs for a product of this shape on ctx's device, alignment
 * slack included: a figure that depends only on the shape and the device. 0 when the query
 * fails (the product then runs without, see below). */
size_t clseg_ocl_gemm_scratch_bytes(const clseg_context *ctx, const clseg_ocl_gemm_shape *shape);

/* The same for clseg_ocl_gemm_batched over count images, where a_each / b_each say whether A /
 * B differ per image: with this much, the packed path packs the batch and multiplies it in one
 * launch each (up to a cap on the copies' size; less scratch only means more launches). */
size_t clseg_ocl_gemm_batch_scratch_bytes(const clseg_context *ctx, const clseg_ocl_gemm_shape *shape, bool a_each,
                                          bool b_each, size_t count);

/* C = alpha op(A) op(B) + beta C, enqueued on ctx's queue without waiting. beta == 0 must
 * overwrite C even where C holds NaN (tests/test_conv.c checks that this implementation does).
 * Whatever scratch it needs comes from scratch when that holds clseg_ocl_gemm_scratch_bytes();
 * otherwise CLBlast allocates its own for the call. */
clseg_status clseg_ocl_gemm(clseg_context *ctx, const clseg_ocl_gemm_shape *shape, float alpha, clseg_ocl_matrix a,
                            clseg_ocl_matrix b, float beta, clseg_ocl_matrix c, clseg_ocl_scratch scratch);

/* For each of count images i: C_i = alpha op(A_i) op(B_i) + beta C_i, where X_i starts i
 * x_stride elements after X (a_stride 0: one A shared by all, packed once on the packed path).
 * Scratch as for clseg_ocl_gemm. */
clseg_status clseg_ocl_gemm_batched(clseg_context *ctx, const clseg_ocl_gemm_shape *shape, float alpha,
                                    clseg_ocl_matrix a, size_t a_stride, clseg_ocl_matrix b, size_t b_stride,
                                    float beta, clseg_ocl_matrix c, size_t c_stride, size_t count,
                                    clseg_ocl_scratch scratch);

/* A product with a small C and a long k, such as a weight gradient over a large image, gives a
 * GPU too few blocks of C to keep busy. On the CLBlast path its k can run in equal shares side
 * by side (one strided-batch launch) into partial products, which clseg_ocl_sum_partials then
 * adds in a fixed order. The shares worth it for shape: 1 where splitting is not. */
size_t clseg_ocl_gemm_k_shares(clseg_context *ctx, const clseg_ocl_gemm_shape *shape);

/* The scratch bytes the partial products of clseg_ocl_gemm_split_k take; 0 without a split. */
size_t clseg_ocl_gemm_split_k_bytes(clseg_context *ctx, const clseg_ocl_gemm_shape *shape);

/* C = alpha op(A) op(B) + beta C with k in clseg_ocl_gemm_k_shares() shares, the partial
 * products in scratch; as clseg_ocl_gemm where there is one share or too little scratch. */
clseg_status clseg_ocl_gemm_split_k(clseg_context *ctx, const clseg_ocl_gemm_shape *shape, float alpha,
                                    clseg_ocl_matrix a, clseg_ocl_matrix b, float beta, clseg_ocl_matrix c,
                                    clseg_ocl_scratch scratch);

/* --- The packed path's parts, for ops that write packed panels themselves (opencl/conv.c) --- */

/* Whether ctx's matrix products run on the packed kernels (the tunable GEMM_PACKED). */
bool clseg_ocl_gemm_is_packed(clseg_context *ctx);

/* How the packed kernels compute a product. Each work-item multiplies a panel of mr rows of
 * the left operand (k-major) by a panel of 16 rows of the right one and keeps the mr x 16
 * block in registers. Normally left = op(A) and right = op(B)^T; when m is too small for tall
 * panels the product is swapped, C^T = op(B)^T op(A)^T: left = op(B)^T, right = op(A), and
 * the blocks are stored transposed. */
typedef struct clseg_ocl_packing {
    bool swapped;
    unsigned mr;                    /* rows per left panel: 16 or 24 */
    size_t left_rows, right_rows;   /* m and n (swapped: n and m) */
    size_t left_elems, right_elems; /* sizes of the packed copies, whole panels, padded with 0 */
} clseg_ocl_packing;

clseg_ocl_packing clseg_ocl_gemm_plan(clseg_context *ctx, const clseg_ocl_gemm_shape *shape);

/* The left panels' height (16 or 24) for a product with this many left rows (or GEMM_MR). */
unsigned clseg_ocl_gemm_panel_height(clseg_context *ctx, size_t rows);

/* A batch of equally spaced matrices: count of them, stride elements apart (0: one shared). */
typedef struct clseg_ocl_panels {
    cl_mem mem;
    size_t offset, stride;
} clseg_ocl_panels;

/* Packs the rows x k matrix op(X) (X^T when trans) of each of count images into panels of
 * width rows (8, 12, 16 or 24), dst.stride apart, each panel panel_k >= k values long (so that images
 * can fill consecutive k ranges of the same panels). */
clseg_status clseg_ocl_gemm_pack(clseg_context *ctx, size_t rows, size_t k, unsigned width, bool trans,
                                 clseg_ocl_matrix x, size_t x_stride, clseg_ocl_panels dst, size_t panel_k,
                                 size_t count);

/* For each of count images: C = alpha left x right^T + beta C (trans_c: stored as C^T), C of
 * left_rows x right_rows in c (row-major, ld c.ld), c_stride apart. One launch. */
clseg_status clseg_ocl_gemm_panels(clseg_context *ctx, const clseg_ocl_packing *p, size_t k, float alpha,
                                   clseg_ocl_panels left, clseg_ocl_panels right, float beta, clseg_ocl_matrix c,
                                   size_t c_stride, bool trans_c, size_t count);

/* One product C = alpha left x right^T + beta C (C^T when p->swapped), its k split into shares
 * computed side by side where the product has few blocks and a long k; the partial products
 * go to scratch (clseg_ocl_gemm_split_elems floats from the first 64-byte boundary) and are
 * added in a fixed order. Without that much scratch it runs unsplit. */
clseg_status clseg_ocl_gemm_panels_split(clseg_context *ctx, const clseg_ocl_packing *p, size_t k, float alpha,
                                         clseg_ocl_panels left, clseg_ocl_panels right, float beta, clseg_ocl_matrix c,
                                         clseg_ocl_scratch scratch);

/* The partial products' floats clseg_ocl_gemm_panels_split wants for this plan, k and C's
 * leading dimension: 0 where it would not split. */
size_t clseg_ocl_gemm_split_elems(const clseg_ocl_packing *p, size_t k, size_t ldc);

/* c (rows x cols, ld c.ld) = beta c + the sum of count partial results laid out like c,
 * parts.stride apart from parts.offset on, added in order: the same bits on every run. */
clseg_status clseg_ocl_sum_partials(clseg_context *ctx, clseg_ocl_panels parts, size_t count, clseg_ocl_matrix c,
                                    size_t rows, size_t cols, float beta);

/* Drops what the GEMM library keeps for compiled programs (process-wide), so that no OpenCL
 * program keeps a destroyed context alive. Called when an OpenCL context is destroyed. */
void clseg_ocl_gemm_release_programs(void);

#endif
