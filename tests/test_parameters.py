"""A model's parameters: assigning W and b (validated, copied, cast, in place), set_weights, the fixed
layers and gradient arrays, and Dense.backward's checks."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import FORMS, rejects, trained_model


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
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", list(FORMS))  # the compiled Dense's fast path, or its validating path
def test_bad_parameter_assignment(fn, name, value, exc, match, form, dtype):
    model = trained_model(fn, dtype=dtype)
    layer = model.layers[0]
    param = getattr(layer, name)
    rejects(model, exc, match, setattr, layer, name, FORMS[form](value, dtype))
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


BAD_DA = [
    ("rows", np.ones((5, 2)), ValueError, r"dA must have the shape of the last forward output \(4, 2\), got \(5, 2\)"),
    ("columns", np.ones((4, 3)), ValueError,
     r"dA must have the shape of the last forward output \(4, 2\), got \(4, 3\)"),
    ("1-D", np.ones(8), ValueError, r"dA must have the shape of the last forward output \(4, 2\), got \(8,\)"),
    ("nan", np.full((4, 2), np.nan), ValueError, r"dA must be finite, got nan at index \(0, 0\)"),
    ("inf", np.where(np.arange(2) == 1, np.inf, np.ones((4, 2))), ValueError,
     r"dA must be finite, got inf at index \(0, 1\)"),
    ("nan, wrong shape", np.full((4, 3), np.nan), ValueError, r"dA must be finite"),  # checked before the shape
    ("complex", np.ones((4, 2), complex), TypeError, r"dA must hold real numbers"),
    ("object", np.ones((4, 2), object), TypeError, r"dA must hold real numbers"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", list(FORMS))  # the compiled Dense's fast path, or its validating path
@pytest.mark.parametrize("case", BAD_DA, ids=[c[0] for c in BAD_DA])
def test_bad_backward(fn, case, form, dtype):
    _, value, exc, match = case
    layer = fn.Dense(3, 2, seed=0, dtype=dtype)
    with pytest.raises(ValueError, match=r"backward needs a forward call first"):
        layer.backward(FORMS[form](np.ones((4, 2)), dtype))
    A = layer.forward(np.ones((4, 3), dtype))
    layer.backward(np.ones((4, 2), dtype))
    dW, db = layer.dW.copy(), layer.db.copy()
    with pytest.raises(exc, match=match):
        layer.backward(FORMS[form](value, dtype))
    assert layer.dW.tobytes() == dW.tobytes() and layer.db.tobytes() == db.tobytes()  # nothing written
    assert layer.forward(np.ones((4, 3), dtype)).tobytes() == A.tobytes()
