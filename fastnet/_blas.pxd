# Row-major GEMM through scipy's BLAS (scipy.linalg.cython_blas), as scikit-learn's
# _cython_blas does: a row-major product C = op(A) @ op(B) is the column-major
# product Cᵀ = op(B)ᵀ @ op(A)ᵀ, so the operands are swapped and nothing is copied.
from scipy.linalg.cython_blas cimport dgemm, dgemv, sgemm, sgemv

from fastnet._types cimport floating


cdef inline void gemm(bint trans_a, bint trans_b, int m, int n, int k, floating alpha,
                      const floating *A, int lda, const floating *B, int ldb,
                      floating beta, floating *C, int ldc) noexcept nogil:
    """C (m×n) = alpha·op(A)·op(B) + beta·C, row-major; lda/ldb/ldc are row strides."""
    cdef char ta = b'T' if trans_b else b'N'
    cdef char tb = b'T' if trans_a else b'N'
    if floating is double:
        dgemm(&ta, &tb, &n, &m, &k, &alpha, <double *> B, &ldb, <double *> A, &lda, &beta, C, &ldc)
    else:
        sgemm(&ta, &tb, &n, &m, &k, &alpha, <float *> B, &ldb, <float *> A, &lda, &beta, C, &ldc)


cdef inline void gemv_rows(bint trans_a, bint trans_b, int m, int n, int k, floating alpha,
                           const floating *A, int lda, const floating *B, int ldb,
                           floating beta, floating *C, int ldc) noexcept nogil:
    """The same product as ``gemm`` one row of C at a time: c_i = alpha·op(B)ᵀ·a_i + beta·c_i.

    For a few rows against a large B, GEMV streams B once per row in memory order, where a
    GEMM kernel (BLAS's or ours) walks it in column strips."""
    cdef char t = b'T' if trans_b else b'N'
    cdef int rows = k if trans_b else n, cols = n if trans_b else k, one = 1
    cdef int inc = lda if trans_a else 1
    cdef int i
    for i in range(m):
        if floating is double:
            dgemv(&t, &rows, &cols, &alpha, <double *> B, &ldb, <double *> (A + (i if trans_a else i * lda)),
                  &inc, &beta, C + i * ldc, &one)
        else:
            sgemv(&t, &rows, &cols, &alpha, <float *> B, &ldb, <float *> (A + (i if trans_a else i * lda)),
                  &inc, &beta, C + i * ldc, &one)
