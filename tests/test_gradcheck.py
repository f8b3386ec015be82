"""Analytic gradients against central finite differences of the full objective: every activation in
hidden layers and at the output, every loss, with and without L2, both backends."""

import numpy as np
import pytest

from fastnet.activations import ACTIVATIONS, LAST_LAYER_ONLY

from helpers import batch_for, rejects, trained_model

HIDDEN = [activation for activation in ACTIVATIONS if activation not in LAST_LAYER_ONLY]
HEADS = [("mse", last) for last in ACTIVATIONS]
HEADS += [("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid")]


def make_problem(fn, hidden, loss, last, l2, dtype="float64"):
    rng = np.random.default_rng(7)
    layers = [
        fn.Dense(4, 5, activation=hidden, l2=l2, dtype=dtype, seed=1),
        fn.Dense(5, 4, activation=hidden, l2=l2, dtype=dtype, seed=2),
        fn.Dense(4, 3, activation=last, l2=l2, dtype=dtype, seed=3),
    ]
    for layer in layers:  # non-zero biases so every term is exercised
        layer.b = rng.normal(size=layer.n_out) * 0.1
    model = fn.Sequential(layers, loss=loss)
    X = rng.normal(size=(6, 4))
    if loss == "cross_entropy":
        Y = rng.integers(0, 3, size=6)
    elif loss == "binary_cross_entropy":
        Y = rng.uniform(size=(6, 3))
    else:
        Y = rng.normal(size=(6, 3))
    return model, X, Y


@pytest.mark.parametrize("l2", [0.0, 0.1], ids=["no_l2", "l2"])
@pytest.mark.parametrize("loss, last", HEADS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_gradcheck_every_activation_loss_l2(fn, hidden, loss, last, l2):
    model, X, Y = make_problem(fn, hidden, loss, last, l2)
    assert fn.gradcheck(model, X, Y) <= 1e-6


def test_gradcheck_cross_entropy_probability_rows(fn):
    model, X, _ = make_problem(fn, "tanh", "cross_entropy", "softmax", 0.05)
    rows = np.random.default_rng(3).dirichlet(np.ones(3), size=6)
    assert fn.gradcheck(model, X, rows) <= 1e-6


def test_gradcheck_float32_model_checks_a_float64_copy_and_restores_weights(fn):
    model, X, Y = make_problem(fn, "tanh", "mse", "identity", 0.1, dtype="float32")
    before = [w.copy() for w in model.get_weights()]
    assert fn.gradcheck(model, X, Y) <= 1e-6
    after = model.get_weights()
    assert all(a.dtype == np.float32 and np.array_equal(a, b) for a, b in zip(after, before))


def test_gradcheck_detects_a_wrong_gradient(fn, monkeypatch):
    model, X, Y = make_problem(fn, "tanh", "mse", "identity", 0.0)
    ops = model._ops
    real = ops.dense_backward

    def off_by_ten_percent(X, W, dZ, l2, dW, db, dX=None):
        real(X, W, dZ, l2, dW, db, dX)
        dW *= 1.1

    monkeypatch.setattr(
        fn.Dense,
        "_ops",
        type(
            "Ops",
            (),
            {
                **{k: getattr(ops, k) for k in dir(ops) if not k.startswith("__")},
                "dense_backward": staticmethod(off_by_ten_percent),
            },
        ),
    )
    monkeypatch.setattr(fn.Sequential, "_layer_type", fn.Dense)
    model, X, Y = make_problem(fn, "tanh", "mse", "identity", 0.0)
    assert fn.gradcheck(model, X, Y) > 0.05


def test_bad_gradcheck_eps(fn):
    model = trained_model(fn)
    X, Y = batch_for()
    for eps in (0.0, -1e-6, float("nan")):
        rejects(model, ValueError, r"eps must be", fn.gradcheck, model, X, Y, eps=eps)
    rejects(model, ValueError, r"X must be finite", fn.gradcheck, model, np.full((2, 3), np.nan), Y[:2])
