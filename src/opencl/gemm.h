/* The matrix multiply the OpenCL ops use, behind one small interface so a device can get its
 * own kernels later. Today it is CLBlast's SGEMM. */
#ifndef CLSEG_OCL_GEMM_H
#define CLSEG_OCL_GEMM_H

#include <stdbool.h>

#include "opencl/ocl.h"

/* A row-major matrix in a buffer: element (r, c) at offset + r * ld + c (elements). */
typedef struct clseg_ocl_matrix {
    cl_mem mem;
    size_t offset, ld;
} clseg_ocl_matrix;

/* C (m x n) = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n, op(X) = X^T when trans.
 * Enqueued on ctx's queue without waiting. beta == 0 must overwrite C even where C holds NaN
 * (tests/test_conv.c checks that this implementation does). */
clseg_status clseg_ocl_gemm(clseg_context *ctx, bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                            clseg_ocl_matrix a, clseg_ocl_matrix b, float beta, clseg_ocl_matrix c);

/* Drops what the GEMM library keeps for compiled programs (process-wide), so that no OpenCL
 * program keeps a destroyed context alive. Called when an OpenCL context is destroyed. */
void clseg_ocl_gemm_release_programs(void);

#endif
