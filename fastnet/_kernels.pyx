# The kernel bodies declared in _kernels.pxd. Each mirrors one function of
# fastnet/reference/ops.py (the oracle it is tested against). Products go to the C
# micro-kernels of csrc/ when small and to BLAS when large (gemm below); exp-based
# elementwise math uses the hand-written vectorised exp of csrc/fn_exp.h, not libm.
import warnings

from libc.math cimport log, log1p, log1pf, logf, pow, sqrt, sqrtf

from fastnet cimport _blas
from fastnet._types cimport LOSS_CROSS_ENTROPY, LOSS_MSE, floating


cdef extern from "fn_cpu.h" nogil:
    enum:
        FN_NPATHS
    int fn_path
    const char *fn_path_name(int path)
    int fn_path_supported(int path)
    int fn_set_path(int path)
    int fn_cpu_init()

cdef extern from "fn_gemm.h" nogil:
    void fn_gemm_s(int ta, int tb, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, float alpha, const float *A,
                   Py_ssize_t lda, const float *B, Py_ssize_t ldb, float beta, float *C, Py_ssize_t ldc)
    void fn_gemm_d(int ta, int tb, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, double alpha, const double *A,
                   Py_ssize_t lda, const double *B, Py_ssize_t ldb, double beta, double *C, Py_ssize_t ldc)

cdef extern from "fn_vmath.h" nogil:
    void fn_vexp_s(Py_ssize_t n, const float *x, float *y)
    void fn_vexp_d(Py_ssize_t n, const double *x, double *y)
    int fn_act_forward_s(int act, Py_ssize_t m, Py_ssize_t n, const float *z, float *a)
    int fn_act_forward_d(int act, Py_ssize_t m, Py_ssize_t n, const double *z, double *a)
    void fn_act_backward_s(int act, Py_ssize_t m, Py_ssize_t n, const float *z, const float *a, const float *da,
                           float *dz)
    void fn_act_backward_d(int act, Py_ssize_t m, Py_ssize_t n, const double *z, const double *a,
                           const double *da, double *dz)


# ---- CPU path (chosen once at import; FASTNET_CPU overrides) -------------------------

cdef int _cpu_status = fn_cpu_init()
if _cpu_status == 1:
    warnings.warn("FASTNET_CPU names no known CPU path (default, x86-64-v3, x86-64-v4); using the best "
                  f"supported one, {fn_path_name(fn_path).decode()}", RuntimeWarning, stacklevel=2)
elif _cpu_status == 2:
    warnings.warn("FASTNET_CPU names a path this CPU cannot run; clamped to "
                  f"{fn_path_name(fn_path).decode()}", RuntimeWarning, stacklevel=2)

cdef int cpu_npaths() noexcept nogil:
    return FN_NPATHS

cdef const char *cpu_path_name(int path) noexcept nogil:
    return fn_path_name(path)

cdef bint cpu_path_supported(int path) noexcept nogil:
    return fn_path_supported(path)

cdef int cpu_active_path() noexcept nogil:
    return fn_path

cdef int cpu_set_path(int path) noexcept nogil:
    return fn_set_path(path)

cdef int cpu_init_status() noexcept nogil:
    return _cpu_status


# ---- GEMM dispatch ---------------------------------------------------------------------
# Products of at most _gemm_threshold multiply-adds (m·n·k) run in the single-threaded C
# micro-kernels, larger ones in scipy's BLAS. Measured with `python bench/bench_kernels.py
# --sweep [--threads 1]` (2-core AVX2+FMA, x86-64-v3 path, scipy's OpenBLAS 'Haswell', shared
# machine at load ~5), as time(BLAS)/time(micro) in a nogil loop, range over the three
# products (Z=X@W, dW=Xᵀ@dZ, dX=dZ@Wᵀ); > 1 means the micro-kernel is faster:
#     m·n·k               BLAS 1 thread          BLAS default (2) threads
#                       float64    float32       float64      float32
#     8³                1.3–1.5    1.3–1.5       1.3–1.6      1.4–1.5
#     16×64×15          0.8–0.9    1.1–1.4       0.9          1.1–1.3
#     32³               0.9–1.1    1.2–1.5       1.0          1.2–1.5
#     64³ (262144)      1.0–1.1    1.1–1.3       1.0–1.1      1.1–1.3
#     80³               1.0–1.1    1.1–1.2       1.0–1.1      1.1–1.2
#     96³               1.0–1.1    1.1–1.2       160–180      320–380  (OpenBLAS starts threading)
#     128³ (2097152)    1.0        1.1           73           135–170
#     32×784×128        0.9        1.1–1.2       46–56        75–82
#     256×512×129       0.9–1.1    1.0           21–24        1–50
# So up to ~128³ the micro-kernel is as fast as single-threaded OpenBLAS (float: faster) and
# skips its call and threading overhead; OpenBLAS switches to threads near 96³, which on an
# idle machine can approach 2× and on a busy one collapses (above). Threshold: 2²¹ = 128³.
cdef Py_ssize_t _gemm_threshold = 2097152
# Up to GEMV_MAX_ROWS rows of A against a B of more than GEMV_MIN_B elements go to BLAS GEMV,
# row by row. 1-sample predict (same machine): wide (4 × 1024² float32) 3.06 ms on the
# micro-kernel, 2.74 ms on BLAS GEMM, 0.27 ms on GEMV; mlp784 38 → 19 µs; digits (B of 960
# elements) stays on the micro-kernel, which beats BLAS there (1.0 vs 1.5 µs).
cdef Py_ssize_t GEMV_MAX_ROWS = 2
cdef Py_ssize_t GEMV_MIN_B = 32768


cdef Py_ssize_t gemm_threshold() noexcept nogil:
    return _gemm_threshold


cdef void set_gemm_threshold(Py_ssize_t flops) noexcept nogil:
    global _gemm_threshold
    _gemm_threshold = flops


cdef void gemm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, floating alpha,
               const floating *A, Py_ssize_t lda, const floating *B, Py_ssize_t ldb, floating beta,
               floating *C, Py_ssize_t ldc, int backend=GEMM_AUTO) noexcept nogil:
    if m == 0 or n == 0:
        return
    if backend == GEMM_AUTO and m <= GEMV_MAX_ROWS and n * k > GEMV_MIN_B and k > 0:
        # a few rows against a large B (1-sample predict of a wide layer): memory bound, and
        # BLAS GEMV streams B in order (figures at GEMV_MAX_ROWS above)
        _blas.gemv_rows(trans_a, trans_b, <int> m, <int> n, <int> k, alpha, A, <int> lda, B, <int> ldb, beta, C,
                        <int> ldc)
    elif backend == GEMM_MICRO or (backend == GEMM_AUTO and m * n * k <= _gemm_threshold):
        if floating is float:
            fn_gemm_s(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
        else:
            fn_gemm_d(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
    else:
        _blas.gemm(trans_a, trans_b, <int> m, <int> n, <int> k, alpha, A, <int> lda, B, <int> ldb, beta, C,
                   <int> ldc)


cdef int vexp(const floating[::1] x, floating[::1] y) except -1 nogil:
    cdef Py_ssize_t n = x.shape[0]
    if n == 0:
        return 0
    if floating is float:
        fn_vexp_s(n, &x[0], &y[n - 1] - (n - 1))
    else:
        fn_vexp_d(n, &x[0], &y[n - 1] - (n - 1))
    return 0


# ---- pointer-level cores ---------------------------------------------------------------
# One body per step of a training step, on contiguous row-major blocks. The memoryview ops
# below and the whole-epoch engine (_engine.pyx) both call these, so the math exists once.

cdef bint act_forward(int act, const floating *Z, floating *A, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    if m == 0 or n == 0:
        return True
    if floating is float:
        return fn_act_forward_s(act, m, n, Z, A)
    else:
        return fn_act_forward_d(act, m, n, Z, A)


cdef void act_backward(int act, const floating *Z, const floating *A, const floating *dA, floating *dZ,
                       Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    if m == 0 or n == 0:
        return
    if floating is float:
        fn_act_backward_s(act, m, n, Z, A, dA, dZ)
    else:
        fn_act_backward_d(act, m, n, Z, A, dA, dZ)


cdef bint forward(const floating *X, const floating *W, const floating *b, int act, floating *Z, floating *A,
                  Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil:
    """Z = X @ W + b, then A = f(Z); True when every Z is finite."""
    cdef Py_ssize_t i, j
    if m == 0:
        return True
    for i in range(m):  # the bias rides in the GEMM as its beta·C term
        for j in range(n_out):
            Z[i * n_out + j] = b[j]
    gemm(False, False, m, n_out, n_in, <floating> 1, X, n_in, W, n_out, <floating> 1, Z, n_out)
    return act_forward(act, Z, A, m, n_out)


cdef void column_sums(const floating *dZ, floating *db, Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, j
    for j in range(n):
        db[j] = 0
    for i in range(m):
        for j in range(n):
            db[j] += dZ[i * n + j]


cdef void backward(const floating *X, const floating *W, const floating *dZ, double l2, floating *dW,
                   floating *db, floating *dX, Py_ssize_t m, Py_ssize_t n_in, Py_ssize_t n_out) noexcept nogil:
    """dW = Xᵀ @ dZ + l2·W, db = column sums of dZ, and dX = dZ @ Wᵀ unless dX is NULL."""
    cdef Py_ssize_t i
    cdef floating lam = <floating> l2
    column_sums(dZ, db, m, n_out)
    if l2 != 0 or m == 0:  # dW starts as λ·W and the GEMM adds Xᵀ @ dZ onto it
        for i in range(n_in * n_out):
            dW[i] = lam * W[i]
    if m == 0:
        return
    if dX != NULL:
        gemm(False, True, m, n_in, n_out, <floating> 1, dZ, n_out, W, n_out, <floating> 0, dX, n_in)
    gemm(True, False, n_in, n_out, m, <floating> 1, X, n_in, dZ, n_out, <floating> (1 if l2 != 0 else 0),
         dW, n_out)


cdef inline floating row_log_sum_exp(const floating *z, floating *scratch, Py_ssize_t n) noexcept nogil:
    """log Σ exp(z) over one row, max-shifted; scratch (n values) receives exp(z − max)."""
    cdef Py_ssize_t j
    cdef floating top = z[0], total = 0
    for j in range(1, n):
        if z[j] > top:
            top = z[j]
    for j in range(n):
        scratch[j] = z[j] - top
    if floating is float:
        fn_vexp_s(n, scratch, scratch)
    else:
        fn_vexp_d(n, scratch, scratch)
    for j in range(n):
        total += scratch[j]
    if floating is float:
        return top + logf(total)
    else:
        return top + log(total)


cdef double loss_rows(int loss, const floating *Z, const floating *A, const floating *Y, floating *dOut,
                      Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    """Data loss against target rows Y and its gradient: dA for mse, the fused dZ for the
    cross-entropies. dOut doubles as scratch for the exps before it receives the gradient.
    The scalar loss is accumulated in double in both dtypes (a reduction, not per-element math)."""
    cdef Py_ssize_t i, j
    cdef double total = 0
    cdef floating diff, z, scale, lse
    if m == 0 or k == 0:
        return 0
    if loss == LOSS_MSE:
        scale = <floating> (2.0 / (m * k))
        for i in range(m * k):
            diff = A[i] - Y[i]
            dOut[i] = diff * scale
            total += diff * diff
        return total / (m * k)
    if loss == LOSS_CROSS_ENTROPY:
        scale = <floating> m
        for i in range(m):
            lse = row_log_sum_exp(Z + i * k, dOut + i * k, k)
            for j in range(i * k, i * k + k):
                total += Y[j] * (lse - Z[j])
                dOut[j] = (A[j] - Y[j]) / scale
        return total / m
    scale = <floating> (m * k)  # binary cross-entropy from logits
    for i in range(m * k):
        dOut[i] = -Z[i] if Z[i] > 0 else Z[i]  # exp(−|z|) cannot overflow
    if floating is float:
        fn_vexp_s(m * k, dOut, dOut)
    else:
        fn_vexp_d(m * k, dOut, dOut)
    for i in range(m * k):
        z = Z[i]
        if floating is float:
            total += (z if z > 0 else 0) - z * Y[i] + log1pf(dOut[i])
        else:
            total += (z if z > 0 else 0) - z * Y[i] + log1p(dOut[i])
        dOut[i] = (A[i] - Y[i]) / scale
    return total / (m * k)


cdef double loss_ids(const floating *Z, const floating *A, const Py_ssize_t *ids, floating *dOut,
                     Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    """Softmax cross-entropy with class ids: loss and dZ = (P − onehot(ids)) / m."""
    cdef Py_ssize_t i, j
    cdef double total = 0
    cdef floating scale = <floating> m
    for i in range(m):
        total += row_log_sum_exp(Z + i * k, dOut + i * k, k) - Z[i * k + ids[i]]
        for j in range(i * k, i * k + k):
            dOut[j] = A[j]
        dOut[i * k + ids[i]] -= 1
        for j in range(i * k, i * k + k):
            dOut[j] /= scale
    return total / m


cdef void sgd(floating *w, const floating *g, floating *v, Py_ssize_t n, double lr, double momentum,
              bint nesterov) noexcept nogil:
    """v ← μ·v + g; w −= lr·v, or lr·(g + μ·v) with Nesterov; plain w −= lr·g when μ = 0."""
    cdef Py_ssize_t i
    cdef floating rate = <floating> lr, mu = <floating> momentum
    if momentum == 0:
        for i in range(n):
            w[i] -= rate * g[i]
        return
    for i in range(n):
        v[i] = mu * v[i] + g[i]
        if nesterov:
            w[i] -= rate * (g[i] + mu * v[i])
        else:
            w[i] -= rate * v[i]


cdef void adam(floating *w, const floating *g, floating *m, floating *v, Py_ssize_t n, long t, double lr,
               double beta1, double beta2, double eps) noexcept nogil:
    """Adam step t (from 1) with bias correction, in the reference's operation order."""
    cdef Py_ssize_t i
    cdef floating b1 = <floating> beta1, b2 = <floating> beta2
    cdef floating one_b1 = <floating> (1.0 - beta1), one_b2 = <floating> (1.0 - beta2)
    cdef floating c1 = <floating> (1.0 - pow(beta1, t)), c2 = <floating> (1.0 - pow(beta2, t))
    cdef floating rate = <floating> lr, epsilon = <floating> eps
    cdef floating root
    for i in range(n):
        m[i] = b1 * m[i] + one_b1 * g[i]
        v[i] = b2 * v[i] + one_b2 * (g[i] * g[i])
        if floating is float:  # sqrtf: float math stays float
            root = sqrtf(v[i] / c2)
        else:
            root = sqrt(v[i] / c2)
        w[i] -= rate * (m[i] / c1) / (root + epsilon)


# ---- the memoryview ops ------------------------------------------------------------------
# Raw pointers go to the cores; taking the address of the last element first makes a debug
# build (boundscheck on) raise IndexError for an array too small, instead of writing past it.

cdef inline floating *last(floating[:, ::1] a, Py_ssize_t m, Py_ssize_t n) except NULL nogil:
    return &a[m - 1, n - 1] - (m * n - 1)


cdef inline const floating *clast(const floating[:, ::1] a, Py_ssize_t m, Py_ssize_t n) except NULL nogil:
    return &a[m - 1, n - 1] - (m * n - 1)


cdef inline floating *last1(floating[::1] a, Py_ssize_t n) except NULL nogil:
    return &a[n - 1] - (n - 1)


cdef inline const floating *clast1(const floating[::1] a, Py_ssize_t n) except NULL nogil:
    return &a[n - 1] - (n - 1)


cdef int dense_forward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[::1] b, int act,
                       floating[:, ::1] Z, floating[:, ::1] A) except -1 nogil:
    """Z = X @ W + b, then A = f(Z); returns 1 when every Z is finite, else 0."""
    cdef Py_ssize_t m = X.shape[0], n_in = X.shape[1], n_out = W.shape[1]
    if m == 0:
        return 1
    return forward(clast(X, m, n_in), clast(W, n_in, n_out), clast1(b, n_out), act, last(Z, m, n_out),
                   last(A, m, n_out), m, n_in, n_out)


cdef int activation_backward(int act, const floating[:, ::1] Z, const floating[:, ::1] A,
                             const floating[:, ::1] dA, floating[:, ::1] dZ) except -1 nogil:
    """dZ = dA ⊙ f'(Z), with softmax's row-wise Jacobian product A ⊙ (dA − rowsum(dA ⊙ A))."""
    cdef Py_ssize_t m = Z.shape[0], n = Z.shape[1]
    if m == 0 or n == 0:
        return 0
    act_backward(act, clast(Z, m, n), clast(A, m, n), clast(dA, m, n), last(dZ, m, n), m, n)
    return 0


cdef int dense_backward(const floating[:, ::1] X, const floating[:, ::1] W, const floating[:, ::1] dZ,
                        double l2, floating[:, ::1] dW, floating[::1] db, floating[:, ::1] dX,
                        bint want_dX) except -1 nogil:
    """dW = Xᵀ @ dZ + l2·W, db = column sums of dZ, and dX = dZ @ Wᵀ when want_dX."""
    cdef Py_ssize_t m = X.shape[0], n_in = X.shape[1], n_out = W.shape[1]
    backward(clast(X, m, n_in) if m else NULL, clast(W, n_in, n_out), clast(dZ, m, n_out) if m else NULL, l2,
             last(dW, n_in, n_out), last1(db, n_out), last(dX, m, n_in) if want_dX and m else NULL,
             m, n_in, n_out)
    return 0


cdef double loss_grad(int loss, const floating[:, ::1] Z, const floating[:, ::1] A, const floating[:, ::1] Y,
                      floating[:, ::1] dOut) except? -1 nogil:
    """Data loss of (A, Y) and its gradient: dA for mse, the fused dZ for the cross-entropies."""
    cdef Py_ssize_t m = A.shape[0], k = A.shape[1]
    if m == 0 or k == 0:
        return 0
    return loss_rows(loss, clast(Z, m, k), clast(A, m, k), clast(Y, m, k), last(dOut, m, k), m, k)


cdef double cross_entropy_ids(const floating[:, ::1] Z, const floating[:, ::1] A, const Py_ssize_t[::1] ids,
                              floating[:, ::1] dOut) except? -1 nogil:
    """Softmax cross-entropy with class ids: loss and dZ = (P − onehot(ids)) / m."""
    cdef Py_ssize_t m = A.shape[0], k = A.shape[1]
    if m == 0:
        return 0
    return loss_ids(clast(Z, m, k), clast(A, m, k), &ids[m - 1] - (m - 1), last(dOut, m, k), m, k)


cdef int sgd_update(floating[::1] w, const floating[::1] g, floating[::1] v, double lr, double momentum,
                    bint nesterov) except -1 nogil:
    """v ← μ·v + g; w −= lr·v, or lr·(g + μ·v) with Nesterov; plain w −= lr·g when μ = 0."""
    cdef Py_ssize_t n = w.shape[0]
    if n:
        sgd(last1(w, n), clast1(g, n), last1(v, n), n, lr, momentum, nesterov)
    return 0


cdef int adam_update(floating[::1] w, const floating[::1] g, floating[::1] m, floating[::1] v, long t,
                     double lr, double beta1, double beta2, double eps) except -1 nogil:
    """Adam step t (from 1) with bias correction, in the reference's operation order."""
    cdef Py_ssize_t n = w.shape[0]
    if n:
        adam(last1(w, n), clast1(g, n), last1(m, n), last1(v, n), n, t, lr, beta1, beta2, eps)
    return 0
