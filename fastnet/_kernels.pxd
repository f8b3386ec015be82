# The compiled kernels: typed Cython over C-contiguous memoryviews, one body for
# float32 and float64 (fused), nogil, writing into caller-provided outputs and
# allocating nothing. They trust their inputs (fastnet/checks.py validated them);
# a debug build turns bounds checking on and `except -1` carries its errors out.
from fastnet._types cimport floating

cdef int dense_forward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[::1] b, int act,
                       floating[:, ::1] Z, floating[:, ::1] A) except -1 nogil
cdef int activation_backward(int act, const floating[:, ::1] Z, const floating[:, ::1] A,
                             const floating[:, ::1] dA, floating[:, ::1] dZ) except -1 nogil
cdef int dense_backward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[:, ::1] dZ,
                        double l2, floating[:, ::1] dW, floating[::1] db, floating[:, ::1] dX,
                        bint want_dX) except -1 nogil
cdef double loss_grad(int loss, const floating[:, ::1] Z, const floating[:, ::1] A, const floating[:, ::1] Y,
                      floating[:, ::1] dOut) except? -1 nogil
cdef double cross_entropy_ids(const floating[:, ::1] Z, const floating[:, ::1] A, const Py_ssize_t[::1] ids,
                              floating[:, ::1] dOut) except? -1 nogil
cdef int sgd_update(floating[::1] w, const floating[::1] g, floating[::1] v, double lr, double momentum,
                    bint nesterov) except -1 nogil
cdef int adam_update(floating[::1] w, const floating[::1] g, floating[::1] m, floating[::1] v, long t,
                     double lr, double beta1, double beta2, double eps) except -1 nogil

# Pointer-level cores on contiguous row-major blocks: the memoryview ops above and the
# whole-epoch engine (_engine.pyx) both run on these, so each piece of math exists once.
cdef bint forward(const floating *X, const floating *W, const floating *b, int act, floating *Z, floating *A,
                  Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil
cdef bint act_forward(int act, const floating *Z, floating *A, Py_ssize_t m, Py_ssize_t n) noexcept nogil
cdef void act_backward(int act, const floating *Z, const floating *A, const floating *dA, floating *dZ,
                       Py_ssize_t m, Py_ssize_t n) noexcept nogil
cdef void column_sums(const floating *dZ, floating *db, Py_ssize_t m, Py_ssize_t n) noexcept nogil
cdef void backward(const floating *X, const floating *W, const floating *dZ, double l2, floating *dW,
                   floating *db, floating *dX, Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil
cdef double loss_rows(int loss, const floating *Z, const floating *A, const floating *Y, floating *dOut,
                      Py_ssize_t m, Py_ssize_t k) noexcept nogil
cdef double loss_ids(const floating *Z, const floating *A, const Py_ssize_t *ids, floating *dOut,
                     Py_ssize_t m, Py_ssize_t k) noexcept nogil
cdef void sgd(floating *w, const floating *g, floating *v, Py_ssize_t n, double lr, double momentum,
              bint nesterov) noexcept nogil
cdef void adam(floating *w, const floating *g, floating *m, floating *v, Py_ssize_t n, long t, double lr,
               double beta1, double beta2, double eps) noexcept nogil

# Row-major GEMM, C (m×n) = alpha·op(A)·op(B) + beta·C (beta == 0 never reads C): the C
# micro-kernels below GEMM_THRESHOLD flops (m·n·k), BLAS above; `backend` forces either.
cdef enum:
    GEMM_AUTO = 0
    GEMM_MICRO = 1
    GEMM_BLAS = 2

cdef void gemm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, floating alpha,
               const floating *A, Py_ssize_t lda, const floating *B, Py_ssize_t ldb, floating beta,
               floating *C, Py_ssize_t ldc, int backend=*) noexcept nogil
cdef Py_ssize_t gemm_threshold() noexcept nogil
cdef void set_gemm_threshold(Py_ssize_t flops) noexcept nogil
# y = exp(x) by the hand-written vectorised exp (csrc/fn_exp.h); y may alias x.
cdef int vexp(const floating[::1] x, floating[::1] y) except -1 nogil

# CPU paths of the micro-kernels (csrc/fn_cpu.h): 0 default, 1 x86-64-v3, 2 x86-64-v4.
cdef int cpu_npaths() noexcept nogil
cdef const char *cpu_path_name(int path) noexcept nogil
cdef bint cpu_path_supported(int path) noexcept nogil
cdef int cpu_active_path() noexcept nogil
cdef int cpu_set_path(int path) noexcept nogil
cdef int cpu_init_status() noexcept nogil
