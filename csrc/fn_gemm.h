/* Small row-major GEMM micro-kernels: C (m×n) = alpha·op(A)·op(B) + beta·C, like BLAS
 * but row-major; lda/ldb/ldc are row strides, trans_a means A is stored k×m, trans_b
 * that B is stored n×k. beta == 0 never reads C. fastnet uses three forms:
 *   Z = X@W (+Z)  -> (0,0); dW = Xᵀ@dZ (+beta·dW) -> (1,0); dX = dZ@Wᵀ -> (0,1).
 * Meant for products below the BLAS threshold: no threads, no heap, one pass. */
#ifndef FN_GEMM_H
#define FN_GEMM_H

#include <stddef.h>

void fn_gemm_s(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
               ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc);
void fn_gemm_d(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha, const double *A,
               ptrdiff_t lda, const double *B, ptrdiff_t ldb, double beta, double *C, ptrdiff_t ldc);

#endif
