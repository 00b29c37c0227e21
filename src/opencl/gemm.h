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

/* C = alpha op(A) op(B) + beta C, enqueued on ctx's queue without waiting. beta == 0 must
 * overwrite C even where C holds NaN (tests/test_conv.c checks that this implementation does).
 * Whatever scratch it needs comes from scratch when that holds clseg_ocl_gemm_scratch_bytes();
 * otherwise CLBlast allocates its own for the call. */
clseg_status clseg_ocl_gemm(clseg_context *ctx, const clseg_ocl_gemm_shape *shape, float alpha, clseg_ocl_matrix a,
                            clseg_ocl_matrix b, float beta, clseg_ocl_matrix c, clseg_ocl_scratch scratch);

/* Drops what the GEMM library keeps for compiled programs (process-wide), so that no OpenCL
 * program keeps a destroyed context alive. Called when an OpenCL context is destroyed. */
void clseg_ocl_gemm_release_programs(void);

#endif
