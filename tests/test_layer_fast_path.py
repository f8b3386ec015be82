"""The compiled Dense's fast paths (fastnet/_layer_fast.pyx): which calls they take, and that a call they
take gives what the validating path gives, bit for bit, with the same effect on the layer."""

from __future__ import annotations

import re

import numpy as np
import pytest

import fastnet
import fastnet.layers
import fastnet.reference

from helpers import off_the_door

CHECKS = ("as_matrix", "as_float_array", "as_parameter")  # the gates of forward, backward and W/b assignment


@pytest.fixture
def validated(monkeypatch):
    """The names of the checks the layer's calls went through (empty: the fast path took the call)."""
    seen = []
    for name in CHECKS:
        real = getattr(fastnet.layers, name)
        monkeypatch.setattr(fastnet.layers, name, lambda *a, _real=real, _name=name, **k: seen.append(_name) or
                            _real(*a, **k))
    return seen


def unaligned(X):
    """X's values in a C-contiguous array whose data is not aligned to its item size."""
    raw = np.zeros(X.nbytes + 1, np.uint8)[1:]
    out = raw.view(X.dtype).reshape(X.shape)
    out[...] = X
    assert not out.flags.aligned and out.flags.c_contiguous
    return out


class Sub(np.ndarray):
    pass


def full_path_forms(X):
    """The same values in forms the fast paths leave to the validating path."""
    yield "Fortran", np.asfortranarray(X)
    yield "strided", off_the_door(X)
    yield "reversed", np.ascontiguousarray(X[::-1])[::-1]
    yield "list", X.tolist()
    yield "big-endian", X.astype(X.dtype.newbyteorder(">"))
    yield "unaligned", unaligned(X)
    yield "subclass", X.copy().view(Sub)
    yield "other dtype", X.astype(np.float32 if X.dtype == np.float64 else np.float64)


def readonly(X):
    X = X.copy()
    X.flags.writeable = False
    return X


def test_only_the_compiled_dense_has_fast_paths():
    from fastnet._layer_fast import FastDense

    assert fastnet.Dense.__mro__[1] is FastDense
    assert FastDense not in fastnet.reference.Dense.__mro__
    assert fastnet.reference.Dense.forward is fastnet.layers.Dense.forward
    assert fastnet.Dense.forward.__doc__ == fastnet.layers.Dense.forward.__doc__
    assert fastnet.Dense.W.__doc__ == fastnet.layers.Dense.W.__doc__


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_fast_paths_take_the_common_calls(validated, dtype):
    layer = fastnet.Dense(5, 3, dtype=dtype, seed=0)
    X = np.random.default_rng(0).standard_normal((4, 5)).astype(dtype)
    layer.forward(X)
    layer.forward(readonly(X))
    layer.forward(X, training=True)  # no dropout: training changes nothing
    layer.forward(X[:0])  # an empty batch
    layer.forward(X)
    layer.backward(np.ones((4, 3), dtype))
    layer.W = np.ones((5, 3), dtype)
    layer.b = readonly(np.ones(3, dtype))
    layer.W -= 0.5 * layer.dW
    layer.b -= 0.5 * layer.db
    assert validated == []


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_other_form_takes_the_validating_path(validated, dtype):
    layer = fastnet.Dense(5, 3, dtype=dtype, seed=0)
    X = np.random.default_rng(0).standard_normal((4, 5)).astype(dtype)
    for name, variant in full_path_forms(X):
        del validated[:]
        layer.forward(variant)
        layer.backward(next(v for n, v in full_path_forms(np.ones((4, 3), dtype)) if n == name))
        layer.W = next(v for n, v in full_path_forms(layer.W.copy()) if n == name)
        assert validated == ["as_matrix", "as_float_array", "as_parameter"], name
    del validated[:]
    layer.forward(X, training=np.True_)
    fastnet.Dense(5, 3, dtype=dtype, dropout=0.5, seed=0).forward(X, training=True)
    assert validated == ["as_matrix", "as_matrix"]


SIZES = [(1, 1, 1), (1, 64, 15), (7, 13, 5), (16, 64, 15), (33, 64, 17), (0, 4, 3), (300, 200, 129)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m, n_in, n_out", SIZES)  # the last one runs its kernels without the GIL
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "gelu", "softmax"])
@pytest.mark.parametrize("l2", [0.0, 0.01])
def test_fast_and_validating_paths_agree_bit_for_bit(m, n_in, n_out, activation, dtype, l2):
    rng = np.random.default_rng(m + n_in + n_out)
    X = (0.5 * rng.standard_normal((m, n_in))).astype(dtype)
    dA = rng.standard_normal((m, n_out)).astype(dtype)
    W = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    fast, full = (fastnet.Dense(n_in, n_out, activation, dtype=dtype, l2=l2, seed=1) for _ in range(2))
    fast.W, fast.b = W, b
    full.W, full.b = np.asfortranarray(W), b.tolist()
    assert fast.W.tobytes() == full.W.tobytes() and fast.b.tobytes() == full.b.tobytes()
    A = fast.forward(X)
    dX = fast.backward(dA)
    others = [("Fortran", np.asfortranarray(X)), ("strided", off_the_door(X))] + [("list", X.tolist())] * (m > 0)
    for name, X_other in others:
        got = full.forward(X_other)
        assert got.dtype == A.dtype and got.shape == A.shape and got.flags.c_contiguous, name
        assert got.tobytes() == A.tobytes(), name
        got_dX = full.backward(np.asfortranarray(dA) if name != "list" else dA.tolist())
        assert got_dX.dtype == dX.dtype and got_dX.shape == dX.shape and got_dX.tobytes() == dX.tobytes(), name
        assert full.dW.tobytes() == fast.dW.tobytes() and full.db.tobytes() == fast.db.tobytes(), name
    assert dX.shape == X.shape and dX.flags.writeable and dX.flags.c_contiguous and A.flags.writeable


def test_a_read_only_batch_is_read_not_copied():
    layer = fastnet.Dense(6, 4, seed=0)
    X = readonly(np.random.default_rng(0).standard_normal((3, 6)))
    A = layer.forward(X)
    assert layer._X is X  # kept as given, as the validating path keeps an array it need not convert
    dX = layer.backward(np.ones_like(A))
    assert dX.flags.writeable and not X.flags.writeable
    assert np.allclose(A, np.maximum(X @ layer.W + layer.b, 0), rtol=1e-12, atol=1e-12)  # NumPy sums in its own order


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_batch_is_named_as_the_validating_path_names_it(dtype, bad):
    layer = fastnet.Dense(3, 2, seed=0, dtype=dtype)
    X = np.ones((4, 3), dtype)
    X[2, 1] = bad
    messages = set()
    for variant in (X, np.asfortranarray(X), X.tolist()):
        with pytest.raises(ValueError) as info:
            layer.forward(variant)
        messages.add(str(info.value))
        assert layer._X is None and layer._A is None  # the kept batch is dropped, by either path
    assert messages == {f"X must be finite, got {bad} at index (2, 1)"}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_overflowing_batch_is_reported_as_the_validating_path_reports_it(dtype):
    layer = fastnet.Dense(3, 2, activation="identity", seed=0, dtype=dtype)
    layer.W = np.full((3, 2), np.finfo(dtype).max / 2)
    X = np.full((1, 3), 4.0, dtype)
    for variant in (X, X.tolist()):
        with pytest.raises(ValueError, match=r"^X overflows the network"):
            layer.forward(variant)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["W", "b"])
def test_an_update_in_place_stays_in_place(validated, dtype, name):
    layer = fastnet.Dense(5, 3, dtype=dtype, seed=0)
    layer.b = np.arange(3, dtype=dtype)
    layer.forward(np.random.default_rng(0).standard_normal((4, 5)).astype(dtype))
    layer.backward(np.ones((4, 3), dtype))
    param, grad = getattr(layer, name), getattr(layer, "d" + name)
    want = param - np.asarray(0.1, dtype) * grad
    if name == "W":
        layer.W -= 0.1 * layer.dW
    else:
        layer.b -= 0.1 * layer.db
    assert getattr(layer, name) is param and param.tobytes() == want.tobytes()
    assert validated == []
    setattr(layer, name, param)  # assigning a parameter to itself changes nothing
    assert getattr(layer, name) is param and param.tobytes() == want.tobytes()


@pytest.mark.parametrize("name", ["W", "b"])
def test_an_update_in_place_that_is_not_finite_is_named(name):
    # the arithmetic wrote into the parameter before the assignment saw it: the error names it, as always
    layer = fastnet.Dense(5, 3, seed=0)
    with np.errstate(invalid="ignore"):
        with pytest.raises(ValueError, match=rf"^{name} must be finite, got nan at index \(0"):
            if name == "W":
                layer.W *= np.nan
            else:
                layer.b *= np.nan


def test_assigning_a_view_of_the_parameter():
    layer = fastnet.Dense(4, 3, seed=0)
    W = layer.W.copy()
    layer.W = layer.W[:]  # the same memory, C-contiguous: admitted, and a no-op
    assert layer.W.tobytes() == W.tobytes()
    layer.W = layer.W[::-1]  # overlapping and reversed: converted first, as before
    assert layer.W.tobytes() == W[::-1].tobytes()


def test_the_fast_path_keeps_the_layer_usable_by_its_model():
    # a hand-written step through the layers, then the model's own step: the same numbers as the reference
    def run(fn):
        layers = [fn.Dense(4, 5, "relu", seed=0), fn.Dense(5, 2, "identity", seed=1)]
        model = fn.Sequential(layers, loss="mse", optimizer=fn.SGD(0.1), seed=0)
        rng = np.random.default_rng(0)
        X, Y = rng.standard_normal((8, 4)), rng.standard_normal((8, 2))
        A = layers[1].forward(layers[0].forward(X))
        layers[0].backward(layers[1].backward(2 * (A - Y) / A.size))
        for layer in layers:
            layer.W -= 0.1 * layer.dW
            layer.b -= 0.1 * layer.db
        model.train_step(X, Y)
        return model.get_weights()

    for got, want in zip(run(fastnet), run(fastnet.reference)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (7, 3)])
def test_the_finiteness_scan_sees_every_entry(dtype, shape):
    # the fast paths read the exponent's bits: every position, both signs of NaN and inf, and the
    # extremes of the finite range (the largest value, subnormals, -0) admitted
    layer = fastnet.Dense(*shape, dtype=dtype, seed=0)
    info = np.finfo(dtype)
    extremes = np.resize(np.array([info.max, -info.max, info.smallest_subnormal, -0.0, info.tiny], dtype), shape)
    layer.W = extremes
    assert layer.W.tobytes() == extremes.tobytes()
    second = fastnet.Dense(2, shape[1], dtype=dtype, seed=0)  # its dA has the same shape
    second.forward(np.ones((shape[0], 2), dtype))
    for index in np.ndindex(*shape):
        for bad in (np.nan, -np.nan, np.inf, -np.inf):
            value = np.ones(shape, dtype)
            value[index] = bad
            with pytest.raises(ValueError, match=rf"^W must be finite, got {bad} at index {re.escape(str(index))}"):
                layer.W = value
            assert layer.W.tobytes() == extremes.tobytes()
            with pytest.raises(ValueError, match=rf"^dA must be finite, got {bad} at index {re.escape(str(index))}"):
                second.backward(value)


def test_the_compiled_getters_are_the_layers_arrays():
    layer = fastnet.Dense(4, 3, seed=0)
    for name in ("W", "b", "dW", "db"):
        assert getattr(layer, name) is getattr(layer, "_" + name)
        assert getattr(fastnet.Dense, name).__doc__ == getattr(fastnet.layers.Dense, name).__doc__
    with pytest.raises(AttributeError):
        layer.dW = np.zeros((4, 3))
