# Row-major GEMM through scipy's BLAS (scipy.linalg.cython_blas), as scikit-learn's
# _cython_blas does: a row-major product C = op(A) @ op(B) is the column-major
# product Cᵀ = op(B)ᵀ @ op(A)ᵀ, so the operands are swapped and nothing is copied.
from scipy.linalg.cython_blas cimport dgemm, sgemm

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
