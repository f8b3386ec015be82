"""Whole training runs: the compiled backend against the reference, and the documented accuracies."""

import numpy as np
import pytest

import fastnet
import fastnet.reference
from fastnet.demo import digits_split, fastnet_recipe, seed002_recipe

from helpers import TRAINING_TOL, assert_close

OPTIMIZERS = {
    "sgd": lambda fn: fn.SGD(learning_rate=0.1),
    "momentum": lambda fn: fn.SGD(learning_rate=0.05, momentum=0.9),
    "nesterov": lambda fn: fn.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
    "adam": lambda fn: fn.Adam(learning_rate=0.01),
}
HEADS = {  # loss: (last activation, targets maker)
    "mse": ("tanh", lambda rng, m: rng.normal(size=(m, 3))),
    "cross_entropy": ("softmax", lambda rng, m: rng.integers(0, 3, size=m)),
    "cross_entropy_rows": ("softmax", lambda rng, m: rng.dirichlet(np.ones(3), size=m)),
    "binary_cross_entropy": ("sigmoid", lambda rng, m: (rng.uniform(size=(m, 3)) > 0.5).astype(float)),
}


def build(fn, head, optimizer, l2, dtype):
    last, _ = HEADS[head]
    loss = "cross_entropy" if head.startswith("cross_entropy") else head
    layers = [
        fn.Dense(6, 9, "relu", l2=l2, dtype=dtype, seed=1),
        fn.Dense(9, 7, "leaky_relu", l2=l2, dtype=dtype, seed=2),
        fn.Dense(7, 3, last, l2=l2, dtype=dtype, seed=3),
    ]
    return fn.Sequential(layers, loss=loss, optimizer=OPTIMIZERS[optimizer](fn), seed=11)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("l2", [0.0, 0.01], ids=["no_l2", "l2"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("head", list(HEADS))
def test_fit_matches_reference(head, optimizer, l2, dtype):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(50, 6))  # 50 = 3 batches of 16 + a last batch of 2
    Y = HEADS[head][1](rng, 50)
    X_val, Y_val = rng.normal(size=(9, 6)), HEADS[head][1](rng, 9)
    tol = TRAINING_TOL[np.dtype(dtype).type]
    runs = []
    for fn in (fastnet, fastnet.reference):
        model = build(fn, head, optimizer, l2, dtype)
        first = model.fit(X, Y, epochs=4, batch_size=16, verbose=0, validation_data=(X_val, Y_val))
        second = model.fit(X, Y, epochs=2, batch_size=16, verbose=0)  # continues the shuffling stream and state
        runs.append((model, first, second))
    (compiled, c1, c2), (reference, r1, r2) = runs
    for got, want in zip(compiled.get_weights(), reference.get_weights()):
        assert got.dtype == np.dtype(dtype)
        assert_close(got, want, tol)
    for got_history, want_history in ((c1, r1), (c2, r2)):
        assert sorted(got_history.history) == sorted(want_history.history)
        for key in want_history.history:
            assert_close(np.array(got_history.history[key]), np.array(want_history.history[key]), tol)
    assert_close(compiled.predict(X_val), reference.predict(X_val), tol)


def test_train_step_matches_between_backends(fn):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, 6)), rng.normal(size=(8, 3))
    model = build(fn, "mse", "adam", 0.01, "float64")
    other = build(fastnet.reference, "mse", "adam", 0.01, "float64")
    for _ in range(3):
        assert model.train_step(X, Y) == pytest.approx(other.train_step(X, Y), rel=1e-12)
    for got, want in zip(model.get_weights(), other.get_weights()):
        assert_close(got, want, 1e-12)


def test_digits_recipes_reach_documented_accuracy(fn):
    X_train, X_test, y_train, y_test = digits_split()
    model = fastnet_recipe(fn)
    model.fit(X_train, y_train, epochs=60, batch_size=32, verbose=0)
    assert model.evaluate(X_test, y_test)["accuracy"] >= 0.97
    nn = seed002_recipe(fn)
    nn.fit(X_train, np.eye(10)[y_train], epochs=50, batch_size=16)
    assert (nn.predict(X_test).argmax(axis=1) == y_test).mean() >= 0.96
