"""The fast paths of train_step and evaluate (compiled backend): arrays already in the model's
dtype, shape and layout are checked in C and run at once. They must give bit-identical results
to the validating path, and the same errors with the model left unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import fastnet
import fastnet.model

from helpers import assert_unchanged, batch_for, snapshot, trained_model

LOSSES = ["mse", "binary_cross_entropy", "cross_entropy"]
DTYPES = ["float64", "float32"]


def targets(loss, m=20, dtype="float64"):
    """Float targets the fast path admits: one-hot rows for cross_entropy."""
    X, Y = batch_for(loss, m)
    if loss == "cross_entropy":
        Y = np.eye(3)[Y]
    return X.astype(dtype), Y.astype(dtype)


def slow(a):
    """The same values in a layout the fast path does not take (Fortran order)."""
    return np.asfortranarray(a) if a.ndim == 2 and a.shape[1] > 1 else a.tolist()


def refuse(*args, **kwargs):
    raise AssertionError("the validating path ran")


ENTRIES = {
    "train_step": lambda model, X, Y: model.train_step(X, Y),
    "evaluate": lambda model, X, Y: model.evaluate(X, Y),
}


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSSES)
def test_the_common_call_takes_the_fast_path(loss, dtype, entry, monkeypatch):
    model = trained_model(fastnet, loss, dtype)
    X, Y = targets(loss, dtype=dtype)
    monkeypatch.setattr(fastnet.model, "as_matrix", refuse)  # fastnet/checks.py's conversion of X
    assert ENTRIES[entry](model, X, Y)


@pytest.mark.parametrize("m", [1, 7, 20, 9000])  # 9000: more than one chunk
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSSES)
def test_evaluate_gives_the_same_logs_on_both_paths(loss, dtype, m):
    model = trained_model(fastnet, loss, dtype)
    X, Y = targets(loss, m, dtype)
    assert model.evaluate(X, Y) == model.evaluate(slow(X), slow(Y))
    reference = trained_model(fastnet.reference, loss, dtype)
    for key, value in reference.evaluate(X, Y).items():
        assert np.isclose(model.evaluate(X, Y)[key], value, rtol=1e-4 if dtype == "float32" else 1e-9)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss", LOSSES)
def test_fast_and_validating_paths_train_bit_identically(loss, dtype, dropout):
    fast, full = (trained_model(fastnet, loss, dtype, optimizer=fastnet.Adam(0.01)) for _ in range(2))
    if dropout:
        for model in (fast, full):
            layers = [fastnet.Dense(3, 4, "tanh", dtype=dtype, seed=1, dropout=dropout), model.layers[1]]
            layers[0].W = model.layers[0].W
            model.__init__(layers, loss=loss, optimizer=fastnet.Adam(0.01), seed=0)
    for m in (20, 1, 7):
        X, Y = targets(loss, m, dtype)
        assert fast.train_step(X, Y) == full.train_step(slow(X), slow(Y))
    for a, b in zip(fast.get_weights(), full.get_weights()):
        assert a.tobytes() == b.tobytes()
    assert fast.steps == full.steps
    for a, b in zip(fast.optimizer_state.slots, full.optimizer_state.slots):
        assert all(a[key].tobytes() == b[key].tobytes() for key in a)


BAD = [
    ("X nan", lambda X, Y: (np.where(np.arange(3) == 1, np.nan, X), Y), ValueError, r"X must be finite, got nan"),
    ("X inf", lambda X, Y: (np.where(np.arange(3) == 2, np.inf, X), Y), ValueError, r"X must be finite, got inf"),
    ("Y nan", lambda X, Y: (X, np.where(Y > 0.9, np.nan, Y)), ValueError, r"Y must be finite, got nan"),
    ("Y inf", lambda X, Y: (X, np.where(Y > 0.9, np.inf, Y)), ValueError, r"Y must be finite, got inf"),
    ("X rows", lambda X, Y: (X[:-1], Y), ValueError, r"Y must have 19 rows"),
    ("X columns", lambda X, Y: (X[:, :2].copy(), Y), ValueError, r"X must have 3 columns"),
]
RANGE = [
    ("Y above 1", lambda X, Y: (X, Y * 2), ValueError, r"Y must lie in \[0, 1\]"),
    ("Y below 0", lambda X, Y: (X, Y - 0.5), ValueError, r"Y must lie in \[0, 1\]"),
]


# every bad case for every loss, the target ranges for the cross-entropies (mse takes any finite targets)
CASES = [(case, loss) for loss in LOSSES for case in BAD + (RANGE if loss != "mse" else [])]


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("layout", ["fast door", "validating"])
@pytest.mark.parametrize(("case", "loss"), CASES, ids=[f"{case[0]}-{loss}" for case, loss in CASES])
def test_the_same_errors_on_both_paths(case, loss, layout, entry):
    _, make_bad, exc, match = case
    model = trained_model(fastnet, loss)
    X, Y = make_bad(*targets(loss))
    if layout == "validating":
        X, Y = slow(X), slow(Y)
    before = snapshot(model)
    with pytest.raises(exc, match=match):
        ENTRIES[entry](model, X, Y)
    assert_unchanged(model, before)


@pytest.mark.parametrize("entry", ENTRIES)
def test_cross_entropy_rows_that_do_not_sum_to_one_are_refused_alike(entry):
    model = trained_model(fastnet, "cross_entropy")
    X, Y = targets("cross_entropy")
    Y[4] *= 0.5
    for x, y in ((X, Y), (slow(X), slow(Y))):
        before = snapshot(model)
        with pytest.raises(ValueError, match="row 4 sums to 0.5"):
            ENTRIES[entry](model, x, y)
        assert_unchanged(model, before)


@pytest.mark.parametrize("entry", ENTRIES)
def test_infinite_input_behind_a_saturating_output_is_still_named(entry):
    """A sigmoid output turns an infinite pre-activation into a finite loss; the call must still
    refuse the input, as the validating path does, not train on it or report a number."""
    model = fastnet.Sequential([fastnet.Dense(3, 2, "sigmoid", seed=0)], loss="binary_cross_entropy")
    X, Y = targets("binary_cross_entropy")
    X[3, 0] = np.inf
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"X must be finite, got inf at index \(3, 0\)"):
        ENTRIES[entry](model, X, Y)
    assert_unchanged(model, before)


def test_overflow_from_finite_input_behaves_as_the_validating_path():
    """Finite input whose pre-activations overflow: both paths do the same thing."""
    outcomes = []
    for layout in (lambda a: a, slow):
        model = fastnet.Sequential([fastnet.Dense(3, 2, "sigmoid", seed=0)], loss="binary_cross_entropy")
        model.layers[0].W = np.full((3, 2), 1e308)
        X, Y = targets("binary_cross_entropy")
        try:
            outcomes.append(("loss", model.train_step(layout(X), layout(Y)), model.get_weights()[0].tobytes()))
        except FloatingPointError as exc:
            outcomes.append(("error", str(exc), model.get_weights()[0].tobytes()))
    assert outcomes[0] == outcomes[1]


def test_weighted_and_class_id_calls_take_the_validating_path():
    model = trained_model(fastnet, "cross_entropy")
    X, ids = batch_for("cross_entropy")
    twin = trained_model(fastnet, "cross_entropy")
    assert model.train_step(X, ids) == twin.train_step(X, np.eye(3)[ids])
    assert model.train_step(X, ids, sample_weight=np.ones(len(ids))) == twin.train_step(X, np.eye(3)[ids])
