"""fastnet._cpu's GEMM on every CPU path: the micro-kernels, BLAS and the GEMV rows of the dispatch, each
against NumPy for every transposition, and gemm_array's argument checks and threshold hooks."""

import numpy as np
import pytest

import fastnet._cpu as cpu

from helpers import KERNEL_TOL, assert_close

DTYPES = [np.float64, np.float32]
# (m, n, k) of C (m, n) = op(A) (m, k) · op(B) (k, n): the micro-kernels' edge strips and odd sizes,
# and one or two rows against a large B (GEMV under "auto"), and three such rows (not GEMV); widths
# 10, 12, 20, 28 take x86-64-v4's half-width body (one, two or three ymm strips), 15 its masked stores
GEMM_SHAPES = [(1, 1, 1), (5, 3, 300), (7, 13, 5), (17, 33, 9), (70, 41, 520), (1, 200, 300), (2, 300, 200),
               (3, 200, 300), (16, 10, 64), (16, 15, 64), (4, 12, 3), (9, 20, 15), (33, 28, 7)]


def data(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def check_gemm(backend, dtype, m, n, k):
    tol = KERNEL_TOL[dtype]
    for trans_a in (False, True):
        for trans_b in (False, True):
            A = data((k, m) if trans_a else (m, k), dtype, 1)
            B = data((n, k) if trans_b else (k, n), dtype, 2)
            C0 = data((m, n), dtype, 3)
            product = (A.T if trans_a else A) @ (B.T if trans_b else B)
            C = C0.copy()
            cpu.gemm_array(A, B, C, trans_a, trans_b, alpha=0.5, beta=-2.0, backend=backend)
            assert_close(C, 0.5 * product + dtype(-2.0) * C0, tol, what=f"trans {trans_a}, {trans_b}")
            C = np.full((m, n), np.nan, dtype)  # beta = 0 never reads C
            cpu.gemm_array(A, B, C, trans_a, trans_b, backend=backend)
            assert_close(C, product, tol, what=f"trans {trans_a}, {trans_b}, beta 0")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,n,k", GEMM_SHAPES)
@pytest.mark.parametrize("backend", ["micro", "auto", "blas"])
def test_gemm(cpu_path, backend, dtype, m, n, k):
    check_gemm(backend, dtype, m, n, k)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_on_both_sides_of_the_threshold(cpu_path, dtype):
    """"auto" takes the micro-kernels up to gemm_threshold() multiply-adds and BLAS above."""
    m, n, k = 17, 33, 9
    for threshold in (m * n * k, m * n * k - 1):
        with cpu.using_gemm_threshold(threshold):
            check_gemm("auto", dtype, m, n, k)


def test_gemm_array_checks_its_arguments():
    A, B = np.ones((2, 3)), np.ones((3, 4))
    with pytest.raises(ValueError, match="backend must be one of"):
        cpu.gemm_array(A, B, np.empty((2, 4)), backend="gpu")
    with pytest.raises(ValueError, match="do not fit"):
        cpu.gemm_array(A, B, np.empty((2, 5)))
    with pytest.raises(ValueError, match="do not fit"):
        cpu.gemm_array(A, B, np.empty((2, 4)), trans_a=True)
    C = np.full((2, 4), 3.0)
    cpu.gemm_array(np.ones((2, 0)), np.ones((0, 4)), C, beta=0.5)  # an empty sum: C = beta·C
    assert (C == 1.5).all()
    C = np.full((2, 4), np.nan)
    cpu.gemm_array(np.ones((2, 0)), np.ones((0, 4)), C)
    assert (C == 0).all()
    cpu.gemm_array(np.ones((0, 3)), B, np.empty((0, 4)))  # no rows: nothing to do
    assert cpu.gemm_seconds(A, B, np.empty((2, 4)), repeats=3) > 0


def test_gemm_threshold_hooks():
    before = cpu.gemm_threshold(), cpu.gemm_threshold(one_thread=True)
    with cpu.using_gemm_threshold(5):
        assert cpu.gemm_threshold() == cpu.gemm_threshold(one_thread=True) == 5
        with pytest.raises(ValueError, match="thresholds must be >= 0"):
            cpu.set_gemm_threshold(-1)
        with pytest.raises(ValueError, match="thresholds must be >= 0"):
            cpu.set_gemm_threshold(5, one_thread=-1)
        assert cpu.gemm_threshold() == 5
        cpu.set_gemm_threshold(6, one_thread=7)
        assert (cpu.gemm_threshold(), cpu.gemm_threshold(one_thread=True)) == (6, 7)
    assert (cpu.gemm_threshold(), cpu.gemm_threshold(one_thread=True)) == before
    assert 0 < before[0] < before[1]


def test_the_threshold_follows_blas_threads_on_x86_64_v4():
    """With BLAS at one thread the x86-64-v4 micro-kernels take products up to the larger
    threshold; with more BLAS threads, or on another path, the usual one holds. The thread count
    is read from scipy's OpenBLAS itself, so a limit set through threadpoolctl is seen at once."""
    from threadpoolctl import threadpool_limits

    from fastnet import blas_threads

    assert blas_threads.thread_count_address() != 0  # the pip wheels' pthreads OpenBLAS
    base, one = cpu.gemm_threshold(), cpu.gemm_threshold(one_thread=True)
    for path in cpu.supported_paths():
        with cpu.using_path(path):
            for threads in (1, 2):
                with threadpool_limits(limits=threads, user_api="blas"):
                    expected = one if path == "x86-64-v4" and threads == 1 else base
                    assert cpu.gemm_threshold_now() == expected, (path, threads)
                    check_gemm("auto", np.float64, 1437, 64, 64)  # between the two thresholds
