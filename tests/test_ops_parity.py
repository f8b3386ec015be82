"""Every op of fastnet.ops against fastnet.reference.ops, on every CPU path this machine supports.

One normwise tolerance table (helpers.KERNEL_TOL); every activation fastnet defines; both dtypes;
shapes from one sample through odd sizes to products on both sides of the GEMM micro-kernel/BLAS
threshold and the one-or-two-row products that go to BLAS GEMV; the GEMM dispatch as shipped and
with its threshold moved to either side; and the memory layouts the compiled ops accept.
"""

import functools
import inspect

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import fastnet
import fastnet._cpu as cpu
import fastnet.reference
from fastnet.activations import ACTIVATIONS

from helpers import KERNEL_TOL, assert_close

compiled, reference = fastnet.ops, fastnet.reference.ops
BOTH = [compiled, reference]
OPS = ["dense_forward", "activation_backward", "dense_backward", "dense_backward_sgd", "loss_grad", "dropout",
       "sgd_update", "adam_update", "sklearn_sgd_update", "sklearn_adam_update"]
DTYPES = [np.float64, np.float32]
# (m, n_in, n_out): one sample, odd sizes, both sides of the micro-kernel/BLAS threshold, one or two
# rows against a large W (BLAS GEMV row by row), and many rows through a narrow layer
SHAPES = [(1, 1, 1), (1, 37, 11), (1, 64, 15), (7, 13, 5), (33, 64, 17), (256, 512, 129), (1, 300, 200),
          (2, 200, 300), (256, 2, 200)]
LR = 0.1  # the learning rate of the fused backward and SGD step


def shape_id(shape):
    return "x".join(map(str, shape))


@pytest.fixture(params=["auto", "micro", "blas"])
def gemm(request):
    """The GEMM threshold as shipped, and moved so that every product (but the GEMV rows) runs on the
    micro-kernels, or on BLAS."""
    if request.param == "auto":
        yield request.param
        return
    with cpu.using_gemm_threshold(2**62 if request.param == "micro" else 0):
        yield request.param


def data(shape, dtype, seed, scale=1.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def on_copies(ops, name, *args, outputs):
    """Run op ``name`` of ``ops`` on copies of the array arguments; (the arguments at ``outputs``, result)."""
    arrays = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    value = getattr(ops, name)(*arrays)
    return [arrays[i] for i in outputs], value


# ---------------------------------------------------------------------------- the interface
@pytest.mark.parametrize("name", OPS)
def test_signature_parity(name):
    def shape_of(op):
        return [(p.name, p.kind, p.default) for p in inspect.signature(op).parameters.values()]

    assert shape_of(getattr(compiled, name)) == shape_of(getattr(reference, name))


def test_compiled_ops_are_compiled():
    assert not inspect.isfunction(compiled.dense_forward)  # a Cython function, not Python
    assert "ops" in compiled.__name__ and compiled.__file__.endswith((".so", ".pyd"))


# ---------------------------------------------------------------------------- forward
def frozen(*arrays):
    for array in arrays:
        array.flags.writeable = False
    return arrays


@functools.cache
def forward_case(dtype, shape):
    """Inputs of one shape and the reference's (Z, A, finite) for every activation: the reference
    does not depend on the CPU path or the GEMM dispatch, so it runs once per case."""
    m, n_in, n_out = shape
    X, W, b = data((m, n_in), dtype, 1), data((n_in, n_out), dtype, 2, n_in**-0.5), data(n_out, dtype, 3)
    want = {}
    for activation in ACTIVATIONS:
        Z, A = np.empty((m, n_out), dtype), np.empty((m, n_out), dtype)
        finite = reference.dense_forward(X, W, b, activation, Z, A)
        want[activation] = (*frozen(Z, A), finite)
    return (*frozen(X, W, b), want)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_dense_forward(cpu_path, gemm, dtype, shape):
    X, W, b, want = forward_case(dtype, shape)
    tol = KERNEL_TOL[dtype]
    for activation, (Z_ref, A_ref, finite_ref) in want.items():
        Z, A = np.empty_like(Z_ref), np.empty_like(A_ref)
        assert compiled.dense_forward(X, W, b, activation, Z, A) is True and finite_ref is True, activation
        assert_close(Z, Z_ref, tol, what=f"{activation} Z")
        assert_close(A, A_ref, tol, what=f"{activation} A")
    X = X.copy()
    X[-1, -1] = np.nan  # the last element: the finiteness check covers the tail of every block
    for ops in BOTH:
        assert ops.dense_forward(X, W, b, "relu", Z, A) is False


@pytest.mark.parametrize("dtype", DTYPES)
def test_forward_reports_non_finite_input(cpu_path, dtype):
    eye, zero = np.eye(9, dtype=dtype), np.zeros(9, dtype)
    for ops in BOTH:
        for activation in ACTIVATIONS:
            clean = data((3, 9), dtype, 4)
            A = np.empty_like(clean)
            assert ops.dense_forward(clean, eye, zero, activation, clean.copy(), A) is True, activation
            for bad in (np.nan, np.inf, -np.inf):
                X = clean.copy()
                X[1, 4] = bad
                assert ops.dense_forward(X, eye, zero, activation, X.copy(), A) is False, (activation, bad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_overflow_is_reported(cpu_path, dtype):
    """A finite Z whose exp overflows makes dense_forward return False, wherever it sits in a row."""
    n = 37  # whole vectors and a tail on every path
    edge = float(np.log(np.finfo(dtype).max))
    eye, zero = np.eye(n, dtype=dtype), np.zeros(n, dtype)
    for ops in BOTH:
        Z = np.full((2, n), edge * 0.999, dtype)
        A = np.empty_like(Z)
        assert ops.dense_forward(Z, eye, zero, "exp", np.empty_like(Z), A) is True
        assert np.isfinite(A).all()
        for column in (0, n // 2, n - 1):
            Z = np.zeros((2, n), dtype)
            Z[1, column] = edge * 1.01
            out = np.empty_like(Z)
            assert ops.dense_forward(Z, eye, zero, "exp", out, A) is False, (ops.__name__, column)
            assert np.isfinite(out).all() and A[1, column] == np.inf


# ---------------------------------------------------------------------------- backward
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_activation_backward(cpu_path, dtype, shape):
    m, _, n = shape
    Z, dA = data((m, n), dtype, 5, 3.0), data((m, n), dtype, 6)
    Z[0, 0] = 0  # relu'(0) = 0, leaky_relu'(0) = its slope, gelu'(0) = 1/2
    for activation in ACTIVATIONS:
        A = np.empty_like(Z)
        reference.dense_forward(Z, np.eye(n, dtype=dtype), np.zeros(n, dtype), activation, Z.copy(), A)
        (got, _), (want, _) = (on_copies(ops, "activation_backward", activation, Z, A, dA, np.empty_like(Z),
                                         outputs=[4]) for ops in BOTH)
        assert_close(got[0], want[0], KERNEL_TOL[dtype], what=activation)


@functools.cache
def backward_case(dtype, shape):
    """Inputs of one shape and the reference's dense_backward and dense_backward_sgd results for
    l2 = 0 and 0.1 (each an {l2: arrays} dict), computed once per case."""
    m, n_in, n_out = shape
    X, W, dZ = data((m, n_in), dtype, 7), data((n_in, n_out), dtype, 8), data((m, n_out), dtype, 9)
    b = data(n_out, dtype, 10)
    backward, step = {}, {}
    for l2 in (0.0, 0.1):
        dW, db, dX = np.empty_like(W), np.empty_like(b), np.empty_like(X)
        reference.dense_backward(X, W, dZ, l2, dW, db, dX)
        backward[l2] = frozen(dW, db, dX)
        W1, b1, db1, dX1 = W.copy(), b.copy(), np.empty_like(b), np.empty_like(X)
        reference.dense_backward_sgd(X, W1, b1, dZ, l2, LR, db1, dX1)
        step[l2] = frozen(W1, b1, db1, dX1)
    return (*frozen(X, W, b, dZ), backward, step)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_dense_backward(cpu_path, gemm, dtype, shape):
    X, W, _, dZ, backward, _ = backward_case(dtype, shape)
    for l2, want in backward.items():
        for with_dX in (True, False):
            dW, db = np.empty_like(W), np.empty(W.shape[1], dtype)
            dX = np.empty_like(X) if with_dX else None
            compiled.dense_backward(X, W, dZ, l2, dW, db, dX)
            for got, w, name in zip((dW, db, dX), want, ("dW", "db", "dX")):
                if got is not None:
                    assert_close(got, w, KERNEL_TOL[dtype], what=f"l2={l2} {name}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_dense_backward_sgd(cpu_path, gemm, dtype, shape):
    X, W, b, dZ, backward, step = backward_case(dtype, shape)
    tol = KERNEL_TOL[dtype]
    for l2, want in step.items():
        dW, db_ref, dX_ref = backward[l2]
        assert_close(want[3], dX_ref, 0.0, what="the reference's dX, from the weights before the step")
        # W − lr·dW rounds relative to the size of its terms, not of the result
        scales = (np.abs(W).max() + LR * np.abs(dW).max(), np.abs(b).max() + LR * np.abs(db_ref).max(), None, None)
        for with_dX in (True, False):
            W1, b1, db = W.copy(), b.copy(), np.empty_like(b)
            dX = np.empty_like(X) if with_dX else None
            compiled.dense_backward_sgd(X, W1, b1, dZ, l2, LR, db, dX)
            for got, w, scale, name in zip((W1, b1, db, dX), want, scales, ("W", "b", "db", "dX")):
                if got is not None:
                    assert_close(got, w, tol, scale, what=f"l2={l2} {name}")


# ---------------------------------------------------------------------------- losses
def loss_cases(m, k, dtype, scale):
    rng = np.random.default_rng(10)
    Z = data((m, k), dtype, 11, scale)
    pairs = [("mse", "tanh"), ("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid"),
             ("sk_squared_error", "identity"), ("sk_log_loss", "softmax"), ("sk_binary_log_loss", "sigmoid")]
    if scale < 100:  # exp(Z) of the extremes overflows
        pairs.append(("sk_poisson", "exp"))
    for loss, activation in pairs:
        A = np.empty_like(Z)
        reference.dense_forward(Z, np.eye(k, dtype=dtype), np.zeros(k, dtype), activation, Z.copy(), A)
        if loss == "cross_entropy":
            yield loss, Z, A, rng.integers(0, k, m).astype(np.intp)
        if activation == "softmax":
            P = rng.random((m, k))
            Y = (P / P.sum(axis=1, keepdims=True)).astype(dtype)
        elif loss == "sk_poisson":
            Y = rng.poisson(2.0, (m, k)).astype(dtype)
        else:
            Y = rng.random((m, k)).astype(dtype)
        yield loss, Z, A, Y


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_loss_grad(cpu_path, dtype, shape):
    m, _, k = shape
    tol = KERNEL_TOL[dtype]
    for scale in (3.0, 1e4):  # ordinary logits, and extremes that must stay finite
        for loss, Z, A, Y in loss_cases(m, k, dtype, scale):
            (got, value), (want, value_ref) = (on_copies(ops, "loss_grad", loss, Z, A, Y, np.empty_like(Z),
                                                         outputs=[4]) for ops in BOTH)
            assert np.isfinite(value)
            assert_close(value, value_ref, tol, abs(value_ref), what=f"{loss} value")
            assert_close(got[0], want[0], tol, what=f"{loss} gradient")


# ---------------------------------------------------------------------------- optimiser steps
OPTIMIZER_STEPS = {  # kind: one step of it through ops, on (w, g, slot 1, slot 2, t)
    "sgd": lambda ops, w, g, m, v, t: ops.sgd_update(w, g, m, 0.1, 0.0, False),
    "momentum": lambda ops, w, g, m, v, t: ops.sgd_update(w, g, m, 0.1, 0.9, False),
    "nesterov": lambda ops, w, g, m, v, t: ops.sgd_update(w, g, m, 0.1, 0.9, True),
    "adam": lambda ops, w, g, m, v, t: ops.adam_update(w, g, m, v, t, 1e-3, 0.9, 0.999, 1e-8),
    "sklearn sgd": lambda ops, w, g, m, v, t: ops.sklearn_sgd_update(w, g, m, 0.1, 0.0, False),
    "sklearn momentum": lambda ops, w, g, m, v, t: ops.sklearn_sgd_update(w, g, m, 0.1, 0.9, False),
    "sklearn nesterov": lambda ops, w, g, m, v, t: ops.sklearn_sgd_update(w, g, m, 0.1, 0.9, True),
    "sklearn adam": lambda ops, w, g, m, v, t: ops.sklearn_adam_update(w, g, m, v, t, 1e-3, 0.9, 0.999, 1e-8),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=shape_id)
def test_optimizer_updates(cpu_path, dtype, shape):
    """Successive steps carrying their state (t = 7 after 3: Adam's bias correction at a later power)."""
    _, n_in, n_out = shape
    for size in ((n_in, n_out), (n_out,)):  # a weight matrix and a bias vector
        w0, m0, v0 = data(size, dtype, 12), data(size, dtype, 15), np.abs(data(size, dtype, 14))
        for kind, step in OPTIMIZER_STEPS.items():
            states = [(w0.copy(), m0.copy(), v0.copy()) for _ in BOTH]
            for t in (1, 2, 3, 7):
                g = data(size, dtype, 100 + t)
                for ops, (w, m, v) in zip(BOTH, states):
                    step(ops, w, g, m, v, t)
                for got, want, name in zip(*states, ("w", "slot 1", "slot 2")):
                    assert_close(got, want, KERNEL_TOL[dtype], what=f"{kind} step {t} {name} {size}")


# ---------------------------------------------------------------------------- zero rows
@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_rows(cpu_path, dtype):
    X, dZ, W, b = np.empty((0, 3), dtype), np.empty((0, 2), dtype), data((3, 2), dtype, 1), data(2, dtype, 2)
    tol = KERNEL_TOL[dtype]
    for ops in BOTH:
        for activation in ACTIVATIONS:
            Z, A, dZ_out = np.empty((0, 2), dtype), np.empty((0, 2), dtype), np.empty((0, 2), dtype)
            assert ops.dense_forward(X, W, b, activation, Z, A) is True, activation
            ops.activation_backward(activation, Z, A, dZ, dZ_out)
        for l2 in (0.0, 0.1):
            dW, db, dX = np.full_like(W, np.nan), np.full_like(b, np.nan), np.empty((0, 3), dtype)
            ops.dense_backward(X, W, dZ, l2, dW, db, dX)
            assert_close(dW, dtype(l2) * W, tol, what=f"{ops.__name__} l2={l2} dW")
            assert_close(db, np.zeros_like(b), 0.0, what="db")
            W1, b1, db = W.copy(), b.copy(), np.full_like(b, np.nan)
            ops.dense_backward_sgd(X, W1, b1, dZ, l2, LR, db, dX)
            assert_close(W1, W - dtype(LR) * (dtype(l2) * W), tol, what=f"{ops.__name__} l2={l2} W")
            assert_close(b1, b, 0.0, what="b")
            assert_close(db, np.zeros_like(b), 0.0, what="db")


# ---------------------------------------------------------------------------- memory layouts
def guarded(array):
    """(buffer, view): ``array``'s values in a C-contiguous view with a NaN row (entry) either side."""
    buffer = np.full((array.shape[0] + 2, *array.shape[1:]), np.nan if array.dtype.kind == "f" else -1, array.dtype)
    buffer[1:-1] = array
    return buffer, buffer[1:-1]


def read_only(array):
    _, view = guarded(array)
    view.flags.writeable = False
    return view


def assert_guards_intact(buffer):
    assert np.isnan(buffer[0]).all() and np.isnan(buffer[-1]).all()


def layout_cases(dtype):
    """(op name, arguments as plain arrays, indices of inputs, indices of outputs) for one small step."""
    m, n_in, n_out = 7, 13, 5
    X, W, b = data((m, n_in), dtype, 1), data((n_in, n_out), dtype, 2), data(n_out, dtype, 3)
    Z, dZ = data((m, n_out), dtype, 4), data((m, n_out), dtype, 5)
    A = np.empty_like(Z)
    reference.dense_forward(Z, np.eye(n_out, dtype=dtype), np.zeros(n_out, dtype), "softmax", Z.copy(), A)
    ids = np.arange(m, dtype=np.intp) % n_out
    empty = np.empty_like
    yield "dense_forward", [X, W, b, "gelu", empty(Z), empty(Z)], [0, 1, 2], [4, 5]
    yield "activation_backward", ["softmax", Z, A, dZ, empty(Z)], [1, 2, 3], [4]
    yield "dense_backward", [X, W, dZ, 0.1, empty(W), empty(b), empty(X)], [0, 1, 2], [4, 5, 6]
    yield "dense_backward_sgd", [X, W, b, dZ, 0.1, LR, empty(b), empty(X)], [0, 3], [1, 2, 6, 7]
    yield "loss_grad", ["cross_entropy", Z, A, ids, empty(Z)], [1, 2, 3], [4]
    yield "dropout", [A, 0.3, 7, 11, 1, empty(Z), empty(Z)], [0], [5, 6]
    yield "sgd_update", [W, data(W.shape, dtype, 6), np.zeros_like(W), 0.1, 0.9, True], [1], [0, 2]
    yield "adam_update", [b, data(b.shape, dtype, 7), np.zeros_like(b), np.ones_like(b), 3, 1e-2, 0.9, 0.999, 1e-8],\
        [1], [0, 2, 3]


@pytest.mark.parametrize("dtype", DTYPES)
def test_memory_layouts(cpu_path, dtype):
    """Read-only inputs and outputs that are views into larger buffers give the reference's results and
    write nothing outside the outputs; arrays that are not C-contiguous are refused, never misread."""
    for name, args, inputs, outputs in layout_cases(dtype):
        want, want_value = on_copies(reference, name, *args, outputs=outputs)
        laid_out, buffers = list(args), {}
        for i in inputs:
            laid_out[i] = read_only(args[i])
        for i in outputs:
            buffers[i], laid_out[i] = guarded(args[i])
        value = getattr(compiled, name)(*laid_out)
        if isinstance(want_value, float):  # the loss
            assert_close(value, want_value, KERNEL_TOL[dtype], abs(want_value), what=name)
        else:
            assert value == want_value, name
        for i, w in zip(outputs, want):
            assert_close(laid_out[i], w, KERNEL_TOL[dtype], what=f"{name} argument {i}")
            assert_guards_intact(buffers[i])
        if name in ("sgd_update", "adam_update"):  # flattened by the op: only C-contiguous arrays are defined
            continue
        for i in [j for j in inputs if args[j].ndim == 2] + outputs:
            for strided in (np.asfortranarray(args[i]), np.repeat(args[i], 2, axis=-1)[..., ::2]):
                if strided.flags.c_contiguous:  # a single row or column is both
                    continue
                bad = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
                bad[i] = strided
                with pytest.raises(ValueError, match="C-contiguous"):
                    getattr(compiled, name)(*bad)


# ---------------------------------------------------------------------------- random shapes and scales
def compare_each_op(loss, activation, X, W, b, Y, l2):
    """Run each op of one training step on both backends, every op fed the reference's inputs."""
    tol = KERNEL_TOL[X.dtype.type]
    Z, A, Z2, A2 = (np.empty((X.shape[0], W.shape[1]), X.dtype) for _ in range(4))
    assert reference.dense_forward(X, W, b, activation, Z, A) is True
    assert compiled.dense_forward(X, W, b, activation, Z2, A2) is True
    # Z = X W + b is a sum, rounded relative to the size of its terms: a cancelling one ends far
    # below them (float32, 1×11 by 11×1 at scale 30: Z = 0.08 from terms of about 1)
    z_scale = (np.abs(X.astype(np.float64)) @ np.abs(W.astype(np.float64)) + np.abs(b)).max()
    assert_close(Z2, Z, tol, z_scale)
    # A = f(Z) inherits Z's rounding, which is relative to the terms of Z, not to max|A|
    assert_close(A2, A, tol, max(np.abs(A).max(), z_scale))

    d_out, d_out2 = np.empty_like(A), np.empty_like(A)
    value = reference.loss_grad(loss, Z, A, Y, d_out)
    value2 = compiled.loss_grad(loss, Z, A, Y, d_out2)
    assert_close(value2, value, tol, max(abs(value), 1.0), what="loss")
    assert_close(d_out2, d_out, tol)

    dZ, dZ2 = np.empty_like(A), np.empty_like(A)
    reference.activation_backward(activation, Z, A, d_out, dZ)
    compiled.activation_backward(activation, Z, A, d_out, dZ2)
    # softmax's A ⊙ (dA − rowsum(dA ⊙ A)) cancels for saturated rows: its rounding is relative
    # to the size of A ⊙ dA, not of the (tiny) result, whatever the summation order; gelu' cancels
    # where it is near 0 (its rounding is relative to 1): dZ's is relative to max|dA|
    scale = {"softmax": np.abs(A).max() * np.abs(d_out).max(), "gelu": np.abs(d_out).max()}.get(activation)
    assert_close(dZ2, dZ, tol, scale)

    # dW = Xᵀ dZ + l2·W, db = Σ dZ and dX = dZ Wᵀ are sums, which round relative to the sizes of
    # their terms: a cancelling sum can end far below them (a batch of 23 rows gives a db 870 times
    # smaller than Σ|dZ|, which either backend rounds 1e-5 off the exact sum in float32)
    aX, aW, adZ = (np.abs(a.astype(np.float64)) for a in (X, W, dZ))
    scales = {"dW": (aX.T @ adZ).max() + l2 * aW.max(), "db": adZ.sum(axis=0).max(), "dX": (adZ @ aW.T).max()}
    dW, db, dX = np.empty_like(W), np.empty_like(b), np.empty_like(X)
    dW2, db2, dX2 = np.empty_like(W), np.empty_like(b), np.empty_like(X)
    reference.dense_backward(X, W, dZ, l2, dW, db, dX)
    compiled.dense_backward(X, W, dZ, l2, dW2, db2, dX2)
    for got, want, name in ((dW2, dW, "dW"), (db2, db, "db"), (dX2, dX, "dX")):
        assert_close(got, want, tol, scales[name], what=name)
    dW3, db3 = np.empty_like(W), np.empty_like(b)
    compiled.dense_backward(X, W, dZ, l2, dW3, db3)  # dX skipped
    assert_close(dW3, dW, tol, scales["dW"], what="dW without dX")

    steps = [(W.copy(), b.copy(), np.empty_like(b), np.empty_like(X)) for _ in BOTH]
    for ops, (W1, b1, db1, dX1) in zip(BOTH, steps):
        ops.dense_backward_sgd(X, W1, b1, dZ, l2, LR, db1, dX1)
    step_scales = (aW.max() + LR * scales["dW"], np.abs(b).max() + LR * scales["db"], scales["db"], scales["dX"])
    for got, want, scale, name in zip(*steps, step_scales, ("W", "b", "db", "dX")):
        assert_close(got, want, tol, scale, what=f"fused step {name}")


dims = st.integers(min_value=1, max_value=40)


@settings(max_examples=80, deadline=None)
# a cancelling float32 Z (0.08 from terms of about 1), once found at random: always tried
@example(m=1, n_in=11, n_out=1, activation="identity", loss="mse", dtype=np.float32, l2=0.0, scale=30.0, seed=1109)
@given(
    m=dims,
    n_in=dims,
    n_out=dims,
    activation=st.sampled_from(ACTIVATIONS),
    loss=st.sampled_from(["mse", "cross_entropy", "binary_cross_entropy", "cross_entropy_ids"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    l2=st.sampled_from([0.0, 0.01]),
    scale=st.sampled_from([1e-3, 1.0, 30.0]),
    seed=st.integers(0, 2**16),
)
def test_every_op_matches_reference(m, n_in, n_out, activation, loss, dtype, l2, scale, seed):
    assume(activation != "exp" or scale <= 1.0)  # exp of logits of 30·√n_in overflows: test_exp_overflow_is_reported
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((m, n_in)) * scale).astype(dtype)
    W = rng.standard_normal((n_in, n_out)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    if loss == "cross_entropy_ids":
        loss, Y = "cross_entropy", rng.integers(0, n_out, size=m).astype(np.intp)
    elif loss == "cross_entropy":
        Y = rng.dirichlet(np.ones(n_out), size=m).astype(dtype)
    else:
        Y = rng.uniform(size=(m, n_out)).astype(dtype)
    compare_each_op(loss, activation, X, W, b, Y, l2)
