"""The inputs X of fit, evaluate, train_step, predict and Dense.forward: every bad X raises the right
exception naming it and leaves the model untouched; every accepted kind and layout gives the same result."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from helpers import (
    ENTRY_POINTS,
    FORMS,
    ROWS,
    assert_unchanged,
    batch_for,
    entry_calls,
    rejects,
    snapshot,
    trained_model,
)

BAD_X = [
    ("1-D", lambda X: X[:, 0], ValueError, r"X must be 2-D .*reshape\(1, -1\)"),
    ("3-D", lambda X: X[None], ValueError, r"X must be 2-D \(n_samples, 3\), got shape \(1, 20, 3\)"),
    ("scalar", lambda X: 1.0, ValueError, r"X must be 2-D"),
    ("columns", lambda X: np.hstack([X, X[:, :1]]), ValueError, r"X must have 3 columns .*got shape \(20, 4\)"),
    ("complex", lambda X: X.astype(complex), TypeError, r"X must hold real numbers .*complex128"),
    ("object", lambda X: X.astype(object), TypeError, r"X must hold real numbers .*object"),
    ("strings", lambda X: X.astype(str), TypeError, r"X must hold real numbers"),
    ("nan", lambda X: np.where(np.arange(3) == 1, np.nan, X), ValueError,
     r"X must be finite, got nan at index \(0, 1\)"),
    ("inf", lambda X: np.where(np.arange(3) == 2, np.inf, X), ValueError, r"X must be finite, got inf"),
    ("-inf", lambda X: np.where(np.arange(3) == 0, -np.inf, X), ValueError, r"X must be finite, got -inf"),
    ("ragged", lambda X: [[1.0, 2.0, 3.0], [1.0, 2.0]], ValueError, r"X must be a rectangular array"),
    ("none", lambda X: None, TypeError, r"X must hold real numbers"),
]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", BAD_X, ids=[c[0] for c in BAD_X])
def test_bad_X(fn, entry, case):
    _, make_bad, exc, match = case
    model = trained_model(fn)
    X, Y = batch_for()
    X_bad = make_bad(X)
    rejects(model, exc, match, entry_calls(model, X_bad, Y)[entry])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", list(FORMS))  # the compiled Dense's fast path, or its validating path
@pytest.mark.parametrize("case", BAD_X, ids=[c[0] for c in BAD_X])
def test_bad_X_dense_forward(fn, case, form, dtype):
    _, make_bad, exc, match = case
    layer = fn.Dense(3, 2, seed=0, dtype=dtype)
    W, b = layer.W.copy(), layer.b.copy()
    with pytest.raises(exc, match=match):
        layer.forward(FORMS[form](make_bad(batch_for()[0]), dtype))
    assert layer.W.tobytes() == W.tobytes() and layer.b.tobytes() == b.tobytes()
    with pytest.raises(ValueError, match=r"backward needs a forward call first"):  # no batch was kept
        layer.backward(np.ones((ROWS, 2), dtype))


def test_X_that_overflows_a_float32_model_is_named(fn):
    # 1e39 is finite in float64 but overflows float32: the model never sees inf.
    model = trained_model(fn, dtype="float32")
    X, Y = batch_for()
    X[3, 1] = 1e39
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the cast's overflow is reported, not warned about
        rejects(model, ValueError, r"X must fit in float32, got 1e\+39 at index \(3, 1\)", model.fit, X, Y, verbose=0)


@pytest.mark.parametrize("entry", ["fit", "evaluate", "train_step"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy", "binary_cross_entropy"])
def test_empty_data_is_rejected(fn, entry, loss):
    model = trained_model(fn, loss)
    X, Y = batch_for(loss)
    rejects(model, ValueError, r"X must have at least one row, got shape \(0, 3\)",
            entry_calls(model, X[:0], Y[:0])[entry])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zero_rows_predict_and_forward(fn, dtype):
    model = trained_model(fn, dtype=dtype)
    before = snapshot(model)
    out = model.predict(np.empty((0, 3)))
    assert out.shape == (0, 2) and out.dtype == np.dtype(dtype)
    out = model.predict(np.empty((0, 3), dtype=np.int64))
    assert out.shape == (0, 2) and out.dtype == np.dtype(dtype)
    assert_unchanged(model, before)
    A = model.layers[0].forward(np.empty((0, 3)))
    assert A.shape == (0, 4) and A.dtype == np.dtype(dtype)


def test_zero_row_input_is_still_shape_checked(fn):
    model = trained_model(fn)
    rejects(model, ValueError, r"X must have 3 columns", model.predict, np.empty((0, 4)))
    rejects(model, ValueError, r"X must be 2-D", model.predict, [])


def readonly(X):
    X = X.copy()
    X.setflags(write=False)
    return X


@pytest.mark.parametrize(
    "convert",
    [
        lambda X: X.astype(np.float16),
        lambda X: X.astype(np.float32),
        lambda X: np.round(X * 3).astype(np.int32),
        lambda X: np.round(X * 3).astype(np.int8),
        lambda X: (X > 0).astype(np.uint8),
        lambda X: X > 0,
        lambda X: X.tolist(),
        lambda X: np.asfortranarray(X),
        lambda X: np.repeat(X, 2, axis=0)[::2],
        lambda X: readonly(X),
        lambda X: readonly(np.asfortranarray(X.astype(np.float16))),
    ],
    ids=["float16", "float32", "int32", "int8", "uint8", "bool", "list", "fortran", "strided", "readonly", "ro-f16-F"],
)
def test_accepted_X_kinds(fn, convert):
    model = trained_model(fn)
    X, Y = batch_for()
    X_in = convert(X)
    want = model.predict(np.asarray(X_in, dtype=np.float64))
    got = model.predict(X_in)
    assert got.dtype == np.float64 and got.tobytes() == want.tobytes()
    assert model.evaluate(X_in, Y) == model.evaluate(np.asarray(X_in, dtype=np.float64), Y)
    assert model.layers[0].forward(X_in).shape == (ROWS, 4)
    model.fit(X_in, Y, epochs=1, verbose=0)
    if isinstance(X_in, np.ndarray) and not X_in.flags.writeable:
        assert not X_in.flags.writeable
