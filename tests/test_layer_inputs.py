"""Dense.forward/backward of the compiled backend against the reference, over input layouts and kinds."""

import numpy as np
import pytest

import fastnet
import fastnet.reference

from helpers import KERNEL_TOL, assert_close


def pair(n_in, n_out, activation, dtype):
    compiled = fastnet.Dense(n_in, n_out, activation=activation, dtype=dtype, seed=3)
    reference = fastnet.reference.Dense(n_in, n_out, activation=activation, dtype=dtype, seed=3)
    assert np.array_equal(compiled.W, reference.W)
    return compiled, reference


def layouts(X):
    """The same values as C, Fortran, strided view, negative strides, read-only, list, int-convertible."""
    yield "C", np.ascontiguousarray(X)
    yield "Fortran", np.asfortranarray(X)
    wide = np.zeros((X.shape[0] * 2, X.shape[1] * 3), X.dtype)
    wide[::2, ::3] = X
    yield "strided", wide[::2, ::3]
    yield "reversed", np.ascontiguousarray(X[::-1])[::-1]
    frozen = X.copy()
    frozen.flags.writeable = False
    yield "read-only", frozen
    yield "list", X.tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m, n_in, n_out", [(1, 1, 1), (1, 64, 15), (7, 13, 5), (33, 64, 17), (300, 200, 129)])
@pytest.mark.parametrize("activation", ["relu", "tanh", "softmax"])
def test_forward_backward_over_layouts(m, n_in, n_out, activation, dtype):
    rng = np.random.default_rng(m + n_in + n_out)
    # moderate pre-activations: saturated tanh/sigmoid derivatives would amplify 1-ulp differences
    X = (0.5 * rng.standard_normal((m, n_in))).astype(dtype)
    dA = rng.standard_normal((m, n_out)).astype(dtype)
    tol = KERNEL_TOL[np.dtype(dtype).type]
    compiled, reference = pair(n_in, n_out, activation, dtype)
    want, want_dX = reference.forward(X), reference.backward(dA)
    base, base_dX = compiled.forward(X), compiled.backward(dA)
    assert_close(base, want, tol)
    assert_close(base_dX, want_dX, tol)
    assert_close(compiled.dW, reference.dW, tol)
    assert_close(compiled.db, reference.db, tol)
    base_dW = compiled.dW.copy()
    for name, variant in layouts(X):  # every layout is converted to the same input: same bits out
        got = compiled.forward(variant)
        assert got.dtype == np.dtype(dtype) and got.flags.c_contiguous, name
        assert np.array_equal(got, base), name
        assert np.array_equal(compiled.backward(dA), base_dX), name
        assert np.array_equal(compiled.dW, base_dW), name


def test_integer_bool_and_float16_inputs_are_converted(fn):
    layer = fn.Dense(3, 2, activation="identity", seed=0)
    X = np.array([[1, 0, 2], [3, 1, 0]])
    want = X.astype(np.float64) @ layer.W + layer.b
    for variant in (X, X.astype(np.int8), X.astype(np.uint16), X.astype(np.float16), X.astype(bool).astype(int)):
        np.testing.assert_allclose(layer.forward(variant), variant.astype(np.float64) @ layer.W, rtol=1e-14)
    np.testing.assert_allclose(layer.forward(X), want, rtol=1e-14)
    np.testing.assert_allclose(layer.forward(X.astype(bool)), X.astype(bool).astype(float) @ layer.W, rtol=1e-14)


def test_inputs_are_not_modified_and_float32_stays_float32(fn):
    layer = fn.Dense(4, 3, activation="sigmoid", dtype="float32", seed=0)
    X = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    keep = X.copy()
    A = layer.forward(X)
    dX = layer.backward(np.ones((5, 3), np.float32))
    assert np.array_equal(X, keep)
    assert A.dtype == dX.dtype == layer.dW.dtype == layer.db.dtype == np.float32
