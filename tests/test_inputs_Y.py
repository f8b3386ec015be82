"""The targets Y of fit, evaluate and train_step for each loss: every bad Y raises the right exception
naming it and leaves the model untouched; every accepted spelling gives the same result."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import ROWS, batch_for, entry_calls, rejects, trained_model

TRAINING_ENTRY_POINTS = ["fit", "evaluate", "train_step"]

BAD_Y_MSE = [
    ("rows", lambda Y: Y[:-1], ValueError, r"Y must have 20 rows .*got shape \(19, 2\)"),
    ("scalar", lambda Y: 1.0, ValueError, r"Y must have 20 rows"),
    ("columns", lambda Y: Y[:, :1], ValueError, r"Y must have shape \(20, 2\) for loss='mse', got shape \(20, 1\)"),
    ("1-D for k=2", lambda Y: Y[:, 0], ValueError, r"Y must have shape \(20, 2\)"),
    ("3-D", lambda Y: Y[:, :, None], ValueError, r"Y must have shape \(20, 2\)"),
    ("nan", lambda Y: np.where(Y > 1, np.nan, Y), ValueError, r"Y must be finite, got nan"),
    ("inf", lambda Y: np.where(Y > 1, np.inf, Y), ValueError, r"Y must be finite, got inf"),
    ("complex", lambda Y: Y + 0j, TypeError, r"Y must hold real numbers .*complex"),
    ("object", lambda Y: Y.astype(object), TypeError, r"Y must hold real numbers .*object"),
    ("strings", lambda Y: Y.astype(str), TypeError, r"Y must hold real numbers"),
    ("ragged", lambda Y: [[1.0, 2.0]] * 19 + [[1.0]], ValueError, r"Y must be a rectangular array"),
]


@pytest.mark.parametrize("entry", TRAINING_ENTRY_POINTS)
@pytest.mark.parametrize("case", BAD_Y_MSE, ids=[c[0] for c in BAD_Y_MSE])
def test_bad_Y_mse(fn, entry, case):
    _, make_bad, exc, match = case
    model = trained_model(fn)
    X, Y = batch_for()
    rejects(model, exc, match, entry_calls(model, X, make_bad(Y))[entry])


def test_mse_one_unit_accepts_1d_targets(fn):
    model = fn.Sequential([fn.Dense(3, 1, activation="identity", seed=0)], loss="mse")
    X, Y = batch_for()
    assert model.evaluate(X, Y[:, 0]) == model.evaluate(X, Y[:, :1])


BAD_Y_CE = [
    ("id too big", lambda Y: np.where(np.arange(ROWS) == 5, 3, Y), ValueError,
     r"Y class ids must lie in \[0, 3\) .*got values in \[0, 3\]"),
    ("id negative", lambda Y: np.where(np.arange(ROWS) == 5, -1, Y), ValueError, r"Y class ids must lie in \[0, 3\)"),
    ("id 1.5", lambda Y: np.where(np.arange(ROWS) == 5, 1.5, Y), ValueError,
     r"Y class ids must be whole numbers, got non-integer values such as 1.5"),
    ("id nan", lambda Y: np.where(np.arange(ROWS) == 5, np.nan, Y), ValueError, r"Y must be finite"),
    ("id inf", lambda Y: np.where(np.arange(ROWS) == 5, np.inf, Y), ValueError, r"Y must be finite"),
    ("id float too big", lambda Y: np.where(np.arange(ROWS) == 5, 7.0, Y), ValueError,
     r"Y class ids must lie in \[0, 3\)"),
    ("rows", lambda Y: Y[:-2], ValueError, r"Y must have 20 rows"),
    ("prob columns", lambda Y: np.eye(3)[Y][:, :2], ValueError,
     r"Y must have shape \(20,\) class ids or \(20, 3\) for loss='cross_entropy'"),
    ("prob rows sum", lambda Y: np.eye(3)[Y] * 0.5, ValueError, r"Y rows must be probabilities summing to 1"),
    ("prob negative", lambda Y: np.eye(3)[Y] * 2 - 0.5, ValueError, r"Y must lie in \[0, 1\] for loss='cross_entropy'"),
    ("prob nan", lambda Y: np.where(np.eye(3)[Y] == 1, np.nan, 0.0), ValueError, r"Y must be finite"),
    ("complex", lambda Y: Y + 0j, TypeError, r"Y must hold real numbers"),
    ("strings", lambda Y: Y.astype(str), TypeError, r"Y must hold real numbers"),
]


@pytest.mark.parametrize("entry", TRAINING_ENTRY_POINTS)
@pytest.mark.parametrize("case", BAD_Y_CE, ids=[c[0] for c in BAD_Y_CE])
def test_bad_Y_cross_entropy(fn, entry, case):
    _, make_bad, exc, match = case
    model = trained_model(fn, "cross_entropy")
    X, Y = batch_for("cross_entropy")
    rejects(model, exc, match, entry_calls(model, X, make_bad(Y))[entry])


@pytest.mark.parametrize(
    "convert",
    [lambda y: y.astype(np.float64), lambda y: y.astype(np.float32), lambda y: y.astype(np.int8),
     lambda y: y.astype(np.uint16), lambda y: y.tolist(), lambda y: np.eye(3)[y], lambda y: np.eye(3)[y].tolist()],
    ids=["float64", "float32", "int8", "uint16", "list", "one-hot", "one-hot-list"],
)
def test_accepted_class_ids(fn, convert):
    model = trained_model(fn, "cross_entropy")
    X, y = batch_for("cross_entropy")
    want = model.evaluate(X, y)
    got = model.evaluate(X, convert(y))
    assert got.keys() == want.keys()
    assert got["accuracy"] == want["accuracy"]
    assert abs(got["loss"] - want["loss"]) <= 1e-12 * abs(want["loss"])


BAD_Y_BCE = [
    ("above 1", lambda Y: np.where(Y > 0.9, 1.5, Y), r"Y must lie in \[0, 1\] for loss='binary_cross_entropy'"),
    ("below 0", lambda Y: np.where(Y < 0.1, -0.1, Y), r"Y must lie in \[0, 1\] for loss='binary_cross_entropy'"),
    ("nan", lambda Y: np.where(Y < 0.1, np.nan, Y), r"Y must be finite"),
    ("columns", lambda Y: Y[:, :1], r"Y must have shape \(20, 2\) for loss='binary_cross_entropy'"),
]


@pytest.mark.parametrize("entry", TRAINING_ENTRY_POINTS)
@pytest.mark.parametrize("case", BAD_Y_BCE, ids=[c[0] for c in BAD_Y_BCE])
def test_bad_Y_bce(fn, entry, case):
    _, make_bad, match = case
    model = trained_model(fn, "binary_cross_entropy")
    X, Y = batch_for("binary_cross_entropy")
    rejects(model, ValueError, match, entry_calls(model, X, make_bad(Y))[entry])


def test_bce_accepts_bool_and_int_targets(fn):
    model = trained_model(fn, "binary_cross_entropy")
    X, Y = batch_for("binary_cross_entropy")
    hard = Y > 0.5
    assert model.evaluate(X, hard) == model.evaluate(X, hard.astype(np.int64)) == model.evaluate(X, hard * 1.0)
