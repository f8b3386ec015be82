# The micro-kernels of csrc/ and the policy that chooses among them (see _cpu.pxd), with the
# Python hooks tests and benchmarks use: CPU paths, the GEMM threshold, gemm, exp and log1p on
# arrays.
import time
import warnings
from contextlib import contextmanager

import numpy as np

from fastnet cimport _blas as blas
from fastnet._types cimport floating


cdef extern from "fn_cpu.h" nogil:
    enum:
        FN_NPATHS
        FN_PATH_V4
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
    void fn_vlog1p_s(Py_ssize_t n, const float *x, float *y)
    void fn_vlog1p_d(Py_ssize_t n, const double *x, double *y)
    int fn_act_forward_s(int act, Py_ssize_t m, Py_ssize_t n, const float *z, float *a)
    int fn_act_forward_d(int act, Py_ssize_t m, Py_ssize_t n, const double *z, double *a)
    void fn_act_backward_s(int act, Py_ssize_t m, Py_ssize_t n, const float *z, const float *a, const float *da,
                           float *dz)
    void fn_act_backward_d(int act, Py_ssize_t m, Py_ssize_t n, const double *z, const double *a,
                           const double *da, double *dz)


# ---- CPU path: the best this CPU runs, chosen once at import; FASTNET_CPU overrides ---------

_init = fn_cpu_init()
if _init == 1:
    warnings.warn("FASTNET_CPU names no known CPU path (default, x86-64-v3, x86-64-v4); using the best "
                  f"supported one, {fn_path_name(fn_path).decode()}", RuntimeWarning, stacklevel=2)
elif _init == 2:
    warnings.warn("FASTNET_CPU names a path this CPU cannot run; clamped to "
                  f"{fn_path_name(fn_path).decode()}", RuntimeWarning, stacklevel=2)


def all_paths():
    """Every CPU path fastnet knows, supported here or not."""
    return [fn_path_name(p).decode() for p in range(FN_NPATHS)]


def supported_paths():
    """The CPU paths this build can run on this machine, portable default first."""
    return [fn_path_name(p).decode() for p in range(FN_NPATHS) if fn_path_supported(p)]


def active_path():
    """The CPU path the micro-kernels use now."""
    return fn_path_name(fn_path).decode()


def set_path(name):
    """Use the CPU path `name` from now on; ValueError when unknown or not runnable here."""
    names = all_paths()
    if name not in names:
        raise ValueError(f"unknown CPU path {name!r}; expected one of {names}")
    if fn_set_path(names.index(name)) != 0:
        raise ValueError(f"CPU path {name!r} is not supported on this machine; supported: {supported_paths()}")


@contextmanager
def using_path(name):
    """Run the block on CPU path `name`, then restore the previous one."""
    before = active_path()
    set_path(name)
    try:
        yield
    finally:
        set_path(before)


# ---- GEMM policy -------------------------------------------------------------------------
# Products of at most _gemm_threshold multiply-adds (m·n·k) run on the single-threaded micro-
# kernels, larger ones on BLAS; the measurements behind the thresholds: bench/THRESHOLDS.md.
cdef Py_ssize_t _gemm_threshold = 2097152  # 128³
# While BLAS runs one thread (a limit of the user's, a joblib worker's, or fastnet's own while
# fits overlap), the x86-64-v4 micro-kernels match or beat it up to about 256×512×256.
cdef Py_ssize_t _one_thread_threshold = 33554432  # 2²⁵
ctypedef int (*thread_count)() noexcept nogil
cdef thread_count _blas_threads = NULL  # BLAS's current thread count (watch_blas_threads), if known
# Up to GEMV_MAX_ROWS rows of A against a B of more than GEMV_MIN_B elements go to BLAS GEMV,
# row by row (1-sample predict of a wide layer is memory bound; GEMV streams B in order).
cdef Py_ssize_t GEMV_MAX_ROWS = 2
cdef Py_ssize_t GEMV_MIN_B = 32768


def gemm_threshold(one_thread=False):
    """Products of at most this many multiply-adds (m·n·k) use the micro-kernels, larger ones BLAS;
    with ``one_thread``, the threshold on x86-64-v4 while BLAS runs one thread."""
    return _one_thread_threshold if one_thread else _gemm_threshold


def set_gemm_threshold(flops, one_thread=None):
    """Change the micro-kernel/BLAS threshold, and the one for x86-64-v4 while BLAS runs one
    thread (``one_thread``; None: the same), for benchmarks and tests."""
    global _gemm_threshold, _one_thread_threshold
    one_thread = flops if one_thread is None else one_thread
    if flops < 0 or one_thread < 0:
        raise ValueError(f"thresholds must be >= 0, got {flops} and {one_thread}")
    _gemm_threshold, _one_thread_threshold = flops, one_thread


@contextmanager
def using_gemm_threshold(flops, one_thread=None):
    """Run the block with set_gemm_threshold(flops, one_thread), then restore both thresholds."""
    before = _gemm_threshold, _one_thread_threshold
    set_gemm_threshold(flops, one_thread)
    try:
        yield
    finally:
        set_gemm_threshold(*before)


def gemm_threshold_now():
    """The threshold the next product would be held to (BLAS's thread count and the CPU path as now)."""
    return threshold_now()


def watch_blas_threads(Py_ssize_t address):
    """Read BLAS's thread count through the C function at ``address`` (``int f(void)``, such as
    OpenBLAS's ``openblas_get_num_threads``) when choosing between the micro-kernels and BLAS;
    0: unknown (the threshold for any thread count applies)."""
    global _blas_threads
    _blas_threads = <thread_count> <void *> address


from fastnet.blas_threads import thread_count_address  # noqa: E402 (after the policy's state)

watch_blas_threads(thread_count_address())


cdef inline Py_ssize_t threshold_now() noexcept nogil:
    if fn_path == FN_PATH_V4 and _blas_threads != NULL and _blas_threads() == 1:
        return _one_thread_threshold
    return _gemm_threshold


cdef inline bint on_micro_kernels(Py_ssize_t work) noexcept nogil:
    """Whether a product of ``work`` multiply-adds runs on the micro-kernels; BLAS is asked for
    its thread count only when the answer depends on it (not for the small products of a step)."""
    if work <= _gemm_threshold and work <= _one_thread_threshold:
        return True
    return work <= threshold_now()


cdef void gemm(bint trans_a, bint trans_b, Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, floating alpha,
               const floating *A, Py_ssize_t lda, const floating *B, Py_ssize_t ldb, floating beta,
               floating *C, Py_ssize_t ldc, int backend=GEMM_AUTO) noexcept nogil:
    if m == 0 or n == 0:
        return
    if backend == GEMM_AUTO and m <= GEMV_MAX_ROWS and n * k > GEMV_MIN_B and k > 0:
        blas.gemv_rows(trans_a, trans_b, <int> m, <int> n, <int> k, alpha, A, <int> lda, B, <int> ldb, beta, C,
                       <int> ldc)
    elif backend == GEMM_MICRO or (backend == GEMM_AUTO and on_micro_kernels(m * n * k)):
        if floating is float:
            fn_gemm_s(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
        else:
            fn_gemm_d(trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
    else:
        blas.gemm(trans_a, trans_b, <int> m, <int> n, <int> k, alpha, A, <int> lda, B, <int> ldb, beta, C,
                  <int> ldc)


# ---- elementwise micro-kernels -----------------------------------------------------------

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


cdef void vexp(const floating *x, floating *y, Py_ssize_t n) noexcept nogil:
    if n == 0:
        return
    if floating is float:
        fn_vexp_s(n, x, y)
    else:
        fn_vexp_d(n, x, y)


cdef void vlog1p(const floating *x, floating *y, Py_ssize_t n) noexcept nogil:
    if n == 0:
        return
    if floating is float:
        fn_vlog1p_s(n, x, y)
    else:
        fn_vlog1p_d(n, x, y)


# ---- Python hooks for tests and benchmarks ------------------------------------------------

def exp(x):
    """exp by fastnet's vectorised exp, for a float32 or float64 array (a new array)."""
    return _elementwise(x, "exp", _exp_in_place)


def log1p(x):
    """log1p by fastnet's vectorised log1p, for a float32 or float64 array (a new array)."""
    return _elementwise(x, "log1p", _log1p_in_place)


def _elementwise(x, name, in_place):
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} takes float32 or float64, got {x.dtype}")
    out = np.array(x, order="C", copy=True)
    if out.size:
        in_place(out.reshape(-1))
    return out


def _exp_in_place(floating[::1] values):
    vexp(&values[0], &values[0], values.shape[0])


def _log1p_in_place(floating[::1] values):
    vlog1p(&values[0], &values[0], values.shape[0])


_BACKENDS = {"auto": GEMM_AUTO, "micro": GEMM_MICRO, "blas": GEMM_BLAS}


def _gemm_args(A, B, C, trans_a, trans_b, backend):
    """Validate a gemm call's shapes and backend; returns (inner dimension, backend code)."""
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {list(_BACKENDS)}, got {backend!r}")
    m, n = C.shape
    k = A.shape[0] if trans_a else A.shape[1]
    if (A.shape[1] if trans_a else A.shape[0]) != m or (B.shape[1] if trans_b else B.shape[0]) != k \
            or (B.shape[0] if trans_b else B.shape[1]) != n:
        raise ValueError(f"shapes {A.shape}, {B.shape}, {C.shape} do not fit trans_a={trans_a}, trans_b={trans_b}")
    return k, _BACKENDS[backend]


def gemm_array(A, B, C, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, backend="auto"):
    """C = alpha·op(A)·op(B) + beta·C in place on C-contiguous arrays of one float dtype."""
    k, code = _gemm_args(A, B, C, trans_a, trans_b, backend)
    if C.size == 0:
        return
    if k == 0:  # an empty sum: no operand pointer to pass
        C[...] = 0 if beta == 0 else beta * C
        return
    _gemm_loop(A, B, C, trans_a, trans_b, alpha, beta, code, 1)


def gemm_seconds(A, B, C, trans_a=False, trans_b=False, backend="auto", repeats=100):
    """Seconds per gemm call (C = op(A)·op(B)), timed in a nogil loop: no Python overhead."""
    gemm_array(A, B, C, trans_a, trans_b, backend=backend)  # validates, warms up
    code = _BACKENDS[backend]
    start = time.perf_counter()
    _gemm_loop(A, B, C, trans_a, trans_b, 1.0, 0.0, code, repeats)
    return (time.perf_counter() - start) / repeats


def _gemm_loop(const floating[:, ::1] A, const floating[:, ::1] B, floating[:, ::1] C, bint trans_a,
               bint trans_b, double alpha, double beta, int backend, long repeats):
    cdef Py_ssize_t m = C.shape[0], n = C.shape[1], k = A.shape[0] if trans_a else A.shape[1]
    cdef long r
    with nogil:
        for r in range(repeats):
            gemm(trans_a, trans_b, m, n, k, <floating> alpha, &A[0, 0], A.shape[1], &B[0, 0], B.shape[1],
                 <floating> beta, &C[0, 0], n, backend)
