# The C micro-kernels of csrc/ and the choices among them: which CPU path they run on, and
# which products go to them, to BLAS GEMM or to BLAS GEMV. The only module linked with csrc/,
# and the one place where a `floating` meets the _s/_d names of the C kernels.
from fastnet._types cimport floating

cdef enum:
    GEMM_AUTO = 0   # the policy below
    GEMM_MICRO = 1  # forced (tests and benchmarks)
    GEMM_BLAS = 2

# Row-major C (m×n) = alpha·op(A)·op(B) + beta·C; lda/ldb/ldc are row strides; beta == 0 never
# reads C. Small products run on the micro-kernels, large ones on BLAS (GEMM_THRESHOLD flops).
cdef void gemm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, floating alpha,
               const floating *A, Py_ssize_t lda, const floating *B, Py_ssize_t ldb, floating beta,
               floating *C, Py_ssize_t ldc, int backend=*) noexcept nogil
# A = f(Z) on an m×n block; True when every Z (and, for exp, every A) is finite.
cdef bint act_forward(int act, const floating *Z, floating *A, Py_ssize_t m, Py_ssize_t n) noexcept nogil
# dZ = dA ⊙ f'(Z), softmax by its row-wise Jacobian product.
cdef void act_backward(int act, const floating *Z, const floating *A, const floating *dA, floating *dZ,
                       Py_ssize_t m, Py_ssize_t n) noexcept nogil
# y = exp(x) for n elements by the hand-written vectorised exp; y may alias x.
cdef void vexp(const floating *x, floating *y, Py_ssize_t n) noexcept nogil
# y = log1p(x) for n elements by the hand-written vectorised log1p; y may alias x.
cdef void vlog1p(const floating *x, floating *y, Py_ssize_t n) noexcept nogil
