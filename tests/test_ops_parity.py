"""The compiled ops against the NumPy ops: same interface, same numbers."""

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastnet
import fastnet.reference

from helpers import KERNEL_TOL, assert_close

OPS = ["dense_forward", "activation_backward", "dense_backward", "loss_grad", "sgd_update", "adam_update"]
ACTIVATIONS = ["identity", "relu", "leaky_relu", "tanh", "sigmoid", "softmax"]
compiled, reference = fastnet.ops, fastnet.reference.ops


def shape_of(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", OPS)
def test_signature_parity(name):
    assert shape_of(getattr(compiled, name)) == shape_of(getattr(reference, name))


def test_compiled_ops_are_compiled():
    assert not inspect.isfunction(compiled.dense_forward)  # a Cython function, not Python
    assert "ops" in compiled.__name__ and compiled.__file__.endswith((".so", ".pyd"))


def run_forward(ops, X, W, b, activation):
    Z = np.empty((X.shape[0], W.shape[1]), X.dtype)
    A = np.empty_like(Z)
    finite = ops.dense_forward(X, W, b, activation, Z, A)
    return Z, A, finite


def outputs_like(*arrays):
    return [np.empty_like(a) for a in arrays]


def compare_each_op(loss, activation, X, W, b, Y, l2):
    """Run each op of one training step on both backends, every op fed the reference's inputs."""
    tol = KERNEL_TOL[X.dtype.type]
    Z, A = outputs_like(X @ W, X @ W)
    reference.dense_forward(X, W, b, activation, Z, A)
    Z2, A2 = outputs_like(Z, A)
    compiled.dense_forward(X, W, b, activation, Z2, A2)
    assert_close(Z2, Z, tol)
    # A = f(Z) inherits Z's rounding (|f'| <= 1), which is relative to max|Z|, not max|A|
    assert_close(A2, A, tol, max(np.abs(A).max(), np.abs(Z).max()) if A.size else None)

    d_out, d_out2 = outputs_like(A, A)
    value = reference.loss_grad(loss, Z, A, Y, d_out)
    value2 = compiled.loss_grad(loss, Z, A, Y, d_out2)
    assert abs(value2 - value) <= tol * max(abs(value), 1.0), (value2, value)
    assert_close(d_out2, d_out, tol)

    dZ, dZ2 = outputs_like(A, A)
    reference.activation_backward(activation, Z, A, d_out, dZ)
    compiled.activation_backward(activation, Z, A, d_out, dZ2)
    # softmax's A ⊙ (dA − rowsum(dA ⊙ A)) cancels for saturated rows: its rounding is relative
    # to the size of A ⊙ dA, not of the (tiny) result, whatever the summation order
    scale = np.abs(A).max() * np.abs(d_out).max() if activation == "softmax" and A.size else None
    assert_close(dZ2, dZ, tol, scale)

    dW, db, dX = outputs_like(W, b, X)
    dW2, db2, dX2 = outputs_like(W, b, X)
    reference.dense_backward(X, W, dZ, l2, dW, db, dX)
    compiled.dense_backward(X, W, dZ, l2, dW2, db2, dX2)
    for got, want in ((dW2, dW), (db2, db), (dX2, dX)):
        assert_close(got, want, tol)
    dW3, db3 = outputs_like(W, b)
    compiled.dense_backward(X, W, dZ, l2, dW3, db3)  # dX skipped
    assert_close(dW3, dW, tol)


dims = st.integers(min_value=1, max_value=40)


@settings(max_examples=80, deadline=None)
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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "m, n_in, n_out",
    [(1, 1, 1), (1, 64, 15), (7, 13, 5), (33, 64, 17), (256, 512, 129), (1, 300, 200), (2, 200, 300), (256, 2, 200)],
)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fixed_shapes_match_reference(m, n_in, n_out, activation, dtype):
    rng = np.random.default_rng(m * n_in)
    X, W = rng.standard_normal((m, n_in)).astype(dtype), (rng.standard_normal((n_in, n_out)) / 8).astype(dtype)
    b, Y = rng.standard_normal(n_out).astype(dtype), rng.uniform(size=(m, n_out)).astype(dtype)
    compare_each_op("mse", activation, X, W, b, Y, 0.01)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
def test_optimizer_updates_match_reference(dtype, optimizer):
    rng = np.random.default_rng(1)
    tol = KERNEL_TOL[dtype]
    shapes = [(1, 1), (7, 13), (64, 17)]
    for shape in shapes:
        w0, g = rng.standard_normal(shape).astype(dtype), rng.standard_normal(shape).astype(dtype)
        results = []
        for ops in (compiled, reference):
            w, s1, s2 = w0.copy(), np.full(shape, 0.1, dtype), np.full(shape, 0.2, dtype)
            for t in range(1, 4):
                if optimizer == "adam":
                    ops.adam_update(w, g, s1, s2, t, 1e-2, 0.9, 0.999, 1e-8)
                else:
                    ops.sgd_update(w, g, s1, 0.05, 0.0 if optimizer == "sgd" else 0.9, optimizer == "nesterov")
            results.append((w, s1, s2))
        for got, want in zip(*results):
            assert_close(got, want, tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_reports_non_finite_input(dtype):
    W, b = np.ones((3, 2), dtype), np.zeros(2, dtype)
    for ops in (compiled, reference):
        clean = np.ones((4, 3), dtype)
        assert run_forward(ops, clean, W, b, "relu")[2] is True
        for bad in (np.nan, np.inf, -np.inf):
            X = clean.copy()
            X[2, 1] = bad
            assert run_forward(ops, X, W, b, "relu")[2] is False


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_rows(dtype):
    X, W, b = np.empty((0, 3), dtype), np.ones((3, 2), dtype), np.ones(2, dtype)
    for ops in (compiled, reference):
        Z, A, finite = run_forward(ops, X, W, b, "sigmoid")
        assert A.shape == (0, 2) and finite
