"""The compiled core against the NumPy oracle on every CPU path this machine supports.

Covers the C micro-kernels of csrc/ (GEMM, vectorised exp, activations), the GEMM
dispatch between them and BLAS, and all six compiled ops (fastnet.ops) against
fastnet.reference.ops with DESIGN.md's normwise tolerances.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import fastnet
import fastnet._cpu as cpu
from fastnet.reference import ops as ref

ops = fastnet.ops
PATHS = cpu.supported_paths()
DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-12, np.float32: 1e-5}
ACTIVATIONS = ["identity", "relu", "leaky_relu", "tanh", "sigmoid", "softmax"]
# (m, n_in, n_out): one sample, odd sizes, and both sides of the micro-kernel/BLAS threshold
SHAPES = [(1, 1, 1), (1, 37, 11), (7, 13, 5), (33, 64, 17), (256, 512, 129)]


@pytest.fixture(params=PATHS)
def path(request):
    with cpu.using_path(request.param):
        yield request.param


@pytest.fixture(params=["auto", "micro", "blas"])
def backend(request):
    """The GEMM dispatch as shipped, and each side forced for every shape."""
    before = cpu.gemm_threshold()
    cpu.set_gemm_threshold({"auto": before, "micro": 2**62, "blas": 0}[request.param])
    yield request.param
    cpu.set_gemm_threshold(before)


def assert_close(got, want, dtype):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype
    scale = np.max(np.abs(want)) if want.size else 0.0
    err = np.max(np.abs(got.astype(np.float64) - want)) if want.size else 0.0
    assert err <= TOL[dtype] * scale, f"normwise error {err:.3g} > {TOL[dtype]:g} * {scale:.3g}"


def data(shape, dtype, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


# ---- CPU paths ----------------------------------------------------------------------------


def test_paths_api():
    assert PATHS[0] == "default" and set(PATHS) <= set(cpu.all_paths())
    assert cpu.active_path() in PATHS
    with pytest.raises(ValueError, match="unknown CPU path"):
        cpu.set_path("pentium")
    for name in set(cpu.all_paths()) - set(PATHS):
        with pytest.raises(ValueError, match="not supported"):
            cpu.set_path(name)
    before = cpu.active_path()
    with cpu.using_path("default"):
        assert cpu.active_path() == "default"
    assert cpu.active_path() == before


def _path_in_subprocess(value):
    env = dict(os.environ, FASTNET_CPU=value)
    code = "import warnings; warnings.simplefilter('always'); import fastnet._cpu as c; print(c.active_path())"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return run.stdout.strip(), run.stderr


@pytest.mark.parametrize("value", ["default", "bogus", "x86-64-v4"])
def test_environment_variable(value):
    active, stderr = _path_in_subprocess(value)
    if value in PATHS:
        assert active == value and "RuntimeWarning" not in stderr
    else:  # unknown: best path; unsupported: clamped below it, never SIGILL
        assert active == PATHS[-1] and "RuntimeWarning" in stderr


# ---- exp ------------------------------------------------------------------------------------


def ulp_error(got, x):
    """|got − exp(x)| in ulps of the correctly rounded result, against a long double exp."""
    exact = np.exp(x.astype(np.longdouble))
    spacing = np.spacing(np.abs(exact.astype(x.dtype))).astype(np.longdouble)
    return np.abs(got.astype(np.longdouble) - exact) / spacing


# Bounds measured over these points; csrc/fn_exp.h documents them (FMA paths stay below 0.9).
EXP_ULP = {np.float64: 1.2, np.float32: 1.2}
EXP_RANGE = {np.float64: (-745.0, 709.7), np.float32: (-103.0, 88.7)}


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_ulp(path, dtype):
    rng = np.random.default_rng(1)
    lo, hi = EXP_RANGE[dtype]
    x = np.concatenate([rng.uniform(lo, hi, 200_000), rng.uniform(-1, 1, 50_000),
                        rng.uniform(-1e-6, 1e-6, 10_000), np.linspace(lo, hi, 20_001)]).astype(dtype)
    got = cpu.exp(x)
    assert got.dtype == dtype
    assert ulp_error(got, x).max() <= EXP_ULP[dtype]
    with np.errstate(over="ignore"):
        want = np.exp(x)
    # numpy.exp itself is ~2.4 ulp off in float32 (its SIMD exp), 0.5 ulp in float64
    assert np.max(np.abs(got - want) / np.spacing(np.abs(want))) <= (2 if dtype == np.float64 else 4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_edges(path, dtype):
    info = np.finfo(dtype)
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e4, -1e4, 1e-30, -1e-30, np.log(info.max),
                  np.log(info.max) * 1.001, np.log(info.smallest_subnormal), np.log(info.tiny),
                  np.log(info.smallest_subnormal) - 1], dtype=dtype)
    with np.errstate(over="ignore", under="ignore"):
        want = np.exp(x)
    got = cpu.exp(x)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(np.isinf(got), np.isinf(want))
    assert np.array_equal(got == 0, want == 0)
    finite = np.isfinite(want) & (want != 0)
    assert np.all(np.abs(got[finite] - want[finite]) <= 4 * np.spacing(want[finite]))


# ---- GEMM micro-kernels -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (5, 3, 300), (7, 13, 5), (17, 33, 9), (70, 41, 520)])
def test_gemm_micro(path, dtype, m, n, k):
    for trans_a in (False, True):
        for trans_b in (False, True):
            A = data((k, m) if trans_a else (m, k), dtype, 1)
            B = data((n, k) if trans_b else (k, n), dtype, 2)
            C0 = data((m, n), dtype, 3)
            want = 0.5 * ((A.T if trans_a else A) @ (B.T if trans_b else B)) + dtype(-2.0) * C0
            C = C0.copy()
            cpu.gemm_array(A, B, C, trans_a, trans_b, alpha=0.5, beta=-2.0, backend="micro")
            assert_close(C, want, dtype)
            C = np.full((m, n), np.nan, dtype)  # beta = 0 never reads C
            cpu.gemm_array(A, B, C, trans_a, trans_b, backend="micro")
            assert_close(C, (A.T if trans_a else A) @ (B.T if trans_b else B), dtype)


# ---- the six ops against the NumPy oracle ---------------------------------------------------------


def both(name, *args, outputs):
    """Run op `name` in both backends on copies; return (compiled, reference) outputs and results."""
    results = []
    for backend in (ops, ref):
        arrays = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        value = getattr(backend, name)(*arrays)
        results.append(([arrays[i] for i in outputs], value))
    return results


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_dense_forward(path, backend, dtype, shape):
    m, n_in, n_out = shape
    X, W, b = data((m, n_in), dtype, 1), data((n_in, n_out), dtype, 2, n_in**-0.5), data(n_out, dtype, 3)
    for act in ACTIVATIONS:
        Z, A = np.empty((m, n_out), dtype), np.empty((m, n_out), dtype)
        (got, ok), (want, ok_ref) = both("dense_forward", X, W, b, act, Z, A, outputs=[4, 5])
        assert ok is True and ok_ref is True
        for g, w in zip(got, want):
            assert_close(g, w, dtype)
    X[-1, -1] = np.nan
    assert ops.dense_forward(X, W, b, "relu", Z, A) is False


@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_reports_nonfinite(path, dtype):
    for bad in (np.nan, np.inf, -np.inf):
        for act in ACTIVATIONS:
            Z = data((3, 9), dtype, 4)
            Z[1, 4] = bad
            A = np.empty_like(Z)
            assert ops.dense_forward(Z, np.eye(9, dtype=dtype), np.zeros(9, dtype), act, Z.copy(), A) is False


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_activation_backward(path, dtype, shape):
    m, _, n = shape
    Z, dA = data((m, n), dtype, 5, 3.0), data((m, n), dtype, 6)
    Z[0, 0] = 0  # relu'(0) = 0, leaky_relu'(0) = 0.01
    for act in ACTIVATIONS:
        A = np.empty_like(Z)
        ref.dense_forward(Z, np.eye(n, dtype=dtype), np.zeros(n, dtype), act, Z.copy(), A)
        (got, _), (want, _) = both("activation_backward", act, Z, A, dA, np.empty_like(Z), outputs=[4])
        assert_close(got[0], want[0], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_dense_backward(path, backend, dtype, shape):
    m, n_in, n_out = shape
    X, W, dZ = data((m, n_in), dtype, 7), data((n_in, n_out), dtype, 8), data((m, n_out), dtype, 9)
    for l2 in (0.0, 0.1):
        dW, db, dX = np.empty_like(W), np.empty(n_out, dtype), np.empty_like(X)
        (got, _), (want, _) = both("dense_backward", X, W, dZ, l2, dW, db, dX, outputs=[4, 5, 6])
        for g, w in zip(got, want):
            assert_close(g, w, dtype)
        (got, _), (want, _) = both("dense_backward", X, W, dZ, l2, dW, db, None, outputs=[4, 5])
        for g, w in zip(got, want):
            assert_close(g, w, dtype)


def loss_cases(m, k, dtype, scale):
    rng = np.random.default_rng(10)
    Z = data((m, k), dtype, 11, scale)
    for loss, act in (("mse", "tanh"), ("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid")):
        A = np.empty_like(Z)
        ref.dense_forward(Z, np.eye(k, dtype=dtype), np.zeros(k, dtype), act, Z.copy(), A)
        if loss == "cross_entropy":
            yield loss, Z, A, rng.integers(0, k, m).astype(np.intp)
            P = rng.random((m, k))
            Y = (P / P.sum(axis=1, keepdims=True)).astype(dtype)
        else:
            Y = rng.random((m, k)).astype(dtype)
        yield loss, Z, A, Y


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_loss_grad(path, dtype, shape):
    m, _, k = shape
    for scale in (3.0, 1e4):  # ordinary logits, and extremes that must stay finite
        for loss, Z, A, Y in loss_cases(m, k, dtype, scale):
            (got, value), (want, value_ref) = both("loss_grad", loss, Z, A, Y, np.empty_like(Z), outputs=[4])
            assert np.isfinite(value)
            assert abs(value - value_ref) <= TOL[dtype] * abs(value_ref) + 1e-300, (loss, value, value_ref)
            assert_close(got[0], want[0], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_updates(dtype, shape):
    _, n_in, n_out = shape
    w, g = data((n_in, n_out), dtype, 12), data((n_in, n_out), dtype, 13)
    v, mom = np.abs(data((n_in, n_out), dtype, 14)), data((n_in, n_out), dtype, 15)
    for momentum, nesterov in ((0.0, False), (0.9, False), (0.9, True)):
        (got, _), (want, _) = both("sgd_update", w, g, mom, 0.1, momentum, nesterov, outputs=[0, 2])
        for a, b in zip(got, want):
            assert_close(a, b, dtype)
    for t in (1, 7):
        (got, _), (want, _) = both("adam_update", w, g, mom, v, t, 1e-3, 0.9, 0.999, 1e-8, outputs=[0, 2, 3])
        for a, b in zip(got, want):
            assert_close(a, b, dtype)
