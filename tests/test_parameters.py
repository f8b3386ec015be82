"""A model's parameters: assigning W and b (validated, copied, cast, in place), set_weights, the fixed
layers and gradient arrays, and Dense.backward's checks."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import rejects, trained_model


@pytest.mark.parametrize(
    "name, value, exc, match",
    [
        ("W", np.zeros((4, 3)), ValueError, r"W must have shape \(3, 4\), got \(4, 3\)"),
        ("W", np.zeros(12), ValueError, r"W must have shape \(3, 4\), got \(12,\)"),
        ("W", np.full((3, 4), np.nan), ValueError, r"W must be finite"),
        ("W", np.zeros((3, 4), complex), TypeError, r"W must hold real numbers"),
        ("W", [[1, 2, 3, 4]] * 2 + [[1]], ValueError, r"W must be a rectangular array"),
        ("b", np.zeros(3), ValueError, r"b must have shape \(4,\), got \(3,\)"),
        ("b", np.array([1.0, np.inf, 0, 0]), ValueError, r"b must be finite"),
        ("b", [0.0, np.nan, 1.0, 0.0], ValueError, r"b must be finite"),
        ("b", np.array(["a"] * 4), TypeError, r"b must hold real numbers"),
    ],
)
def test_bad_parameter_assignment(fn, name, value, exc, match):
    model = trained_model(fn)
    layer = model.layers[0]
    param = getattr(layer, name)
    rejects(model, exc, match, setattr, layer, name, value)
    assert getattr(layer, name) is param  # still the same array, not replaced


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parameter_assignment_copies_and_casts(fn, dtype):
    layer = fn.Dense(3, 4, dtype=dtype, seed=0)
    W = layer.W
    for source in (np.arange(12, dtype=np.int64).reshape(3, 4), np.arange(12.0).reshape(3, 4)):
        layer.W = source
        assert layer.W is W and layer.W.dtype == np.dtype(dtype) and layer.W.flags.c_contiguous
        source[0, 0] = 99
        assert layer.W[0, 0] == 0  # a copy, whatever the source's dtype
    layer.W[...] = 5  # in-place writes go straight through
    assert (layer.W == 5).all()


def test_bad_set_weights(fn):
    model = trained_model(fn)
    weights = model.get_weights()
    rejects(model, ValueError, r"weights must hold 4 arrays \(W and b per layer\), got 3", model.set_weights,
            weights[:3])
    bad = [w.copy() for w in weights]
    bad[2] = bad[2].T
    rejects(model, ValueError, r"weights\[2\] \(W\) must have shape \(4, 2\)", model.set_weights, bad)
    bad = [w.copy() for w in weights]
    bad[3][0] = np.nan
    # the first three arrays are valid: nothing may be assigned before the fourth is checked
    bad[0] = bad[0] + 1
    rejects(model, ValueError, r"weights\[3\] \(b\) must be finite", model.set_weights, bad)


def test_layers_and_gradients_cannot_be_replaced(fn):
    model = fn.Sequential([fn.Dense(4, 3, "softmax", seed=0)], loss="cross_entropy", optimizer=fn.SGD(0.1))
    with pytest.raises(TypeError):
        model.layers[0] = fn.Dense(4, 50, "softmax")  # engines cache the sizes
    with pytest.raises(AttributeError):
        model.layers = [fn.Dense(4, 50, "softmax")]
    with pytest.raises(AttributeError):
        model.layers[0].dW = np.zeros((1, 1))  # kernels write into dW/db without bounds checks


def test_bad_backward(fn):
    layer = fn.Dense(3, 2, seed=0)
    with pytest.raises(ValueError, match=r"backward needs a forward call first"):
        layer.backward(np.ones((4, 2)))
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"dA must have the shape of the last forward output \(4, 2\), got \(4, 3\)"):
        layer.backward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"dA must be finite"):
        layer.backward(np.full((4, 2), np.nan))
    with pytest.raises(TypeError, match=r"dA must hold real numbers"):
        layer.backward(np.ones((4, 2), complex))
