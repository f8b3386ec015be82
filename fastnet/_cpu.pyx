# Which CPU path the C micro-kernels run on, and thin hooks into them for tests and
# benchmarks. The state lives in fastnet._kernels (the micro-kernels are linked there),
# so these functions go through its cimported C API.
import time
from contextlib import contextmanager

import numpy as np

from fastnet cimport _kernels as k
from fastnet._types cimport floating


def all_paths():
    """Every CPU path fastnet knows, supported here or not."""
    return [k.cpu_path_name(p).decode() for p in range(k.cpu_npaths())]


def supported_paths():
    """The CPU paths this build can run on this machine, portable default first."""
    return [k.cpu_path_name(p).decode() for p in range(k.cpu_npaths()) if k.cpu_path_supported(p)]


def active_path():
    """The CPU path the micro-kernels use now."""
    return k.cpu_path_name(k.cpu_active_path()).decode()


def set_path(name):
    """Use the CPU path `name` from now on; ValueError when unknown or not runnable here."""
    names = all_paths()
    if name not in names:
        raise ValueError(f"unknown CPU path {name!r}; expected one of {names}")
    if k.cpu_set_path(names.index(name)) != 0:
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


def gemm_threshold():
    """Products of at most this many multiply-adds (m·n·k) use the micro-kernels, larger ones BLAS."""
    return k.gemm_threshold()


def set_gemm_threshold(flops):
    """Change the micro-kernel/BLAS threshold (for benchmarks and tests)."""
    if flops < 0:
        raise ValueError(f"threshold must be >= 0, got {flops}")
    k.set_gemm_threshold(flops)


def exp(x):
    """exp by fastnet's vectorised exp, for a float32 or float64 array (a new array)."""
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"exp takes float32 or float64, got {x.dtype}")
    out = np.array(x, order="C", copy=True)
    if out.dtype == np.float64:
        k.vexp[double](out.reshape(-1), out.reshape(-1))
    else:
        k.vexp[float](out.reshape(-1), out.reshape(-1))
    return out


_BACKENDS = {"auto": k.GEMM_AUTO, "micro": k.GEMM_MICRO, "blas": k.GEMM_BLAS}


def gemm(A, B, C, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, backend="auto"):
    """C = alpha·op(A)·op(B) + beta·C in place on C-contiguous arrays of one float dtype."""
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {list(_BACKENDS)}, got {backend!r}")
    m, n = C.shape
    kk = A.shape[0] if trans_a else A.shape[1]
    if (A.shape[1] if trans_a else A.shape[0]) != m or (B.shape[1] if trans_b else B.shape[0]) != kk \
            or (B.shape[0] if trans_b else B.shape[1]) != n:
        raise ValueError(f"shapes {A.shape}, {B.shape}, {C.shape} do not fit trans_a={trans_a}, trans_b={trans_b}")
    if C.size == 0:
        return
    if kk == 0:  # an empty sum: no operand pointer to pass
        C[...] = 0 if beta == 0 else beta * C
        return
    if C.dtype == np.float64:
        _gemm[double](A, B, C, trans_a, trans_b, alpha, beta, _BACKENDS[backend])
    else:
        _gemm[float](A, B, C, trans_a, trans_b, alpha, beta, _BACKENDS[backend])


cdef int _gemm(const floating[:, ::1] A, const floating[:, ::1] B, floating[:, ::1] C, bint trans_a,
               bint trans_b, double alpha, double beta, int backend) except -1:
    cdef Py_ssize_t m = C.shape[0], n = C.shape[1], kk = A.shape[0] if trans_a else A.shape[1]
    with nogil:
        k.gemm(trans_a, trans_b, m, n, kk, <floating> alpha, &A[0, 0], A.shape[1], &B[0, 0], B.shape[1],
               <floating> beta, &C[0, 0], n, backend)
    return 0


def gemm_seconds(A, B, C, trans_a=False, trans_b=False, backend="auto", repeats=100):
    """Seconds per gemm call (C = op(A)·op(B)), timed in a nogil loop: no Python overhead."""
    gemm(A, B, C, trans_a, trans_b, backend=backend)  # validates, warms up
    start = time.perf_counter()
    if C.dtype == np.float64:
        _gemm_loop[double](A, B, C, trans_a, trans_b, _BACKENDS[backend], repeats)
    else:
        _gemm_loop[float](A, B, C, trans_a, trans_b, _BACKENDS[backend], repeats)
    return (time.perf_counter() - start) / repeats


cdef int _gemm_loop(const floating[:, ::1] A, const floating[:, ::1] B, floating[:, ::1] C, bint trans_a,
                    bint trans_b, int backend, long repeats) except -1:
    cdef Py_ssize_t m = C.shape[0], n = C.shape[1], kk = A.shape[0] if trans_a else A.shape[1]
    cdef long r
    with nogil:
        for r in range(repeats):
            k.gemm(trans_a, trans_b, m, n, kk, <floating> 1, &A[0, 0], A.shape[1], &B[0, 0], B.shape[1],
                   <floating> 0, &C[0, 0], n, backend)
    return 0
