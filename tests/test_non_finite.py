"""Training that stops being finite: a diverging fit keeps its last finite epoch, train_step changes
nothing, overflowing weights are caught; and extreme logits that must stay finite and silent."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from helpers import Recorder, mse_model, regression_data, same_weights


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_diverging_fit_keeps_the_last_finite_epoch(fn):
    X, Y = regression_data()
    model = mse_model(fn, fn.SGD(learning_rate=3.0, momentum=0.5))
    recorder = Recorder()
    with pytest.raises(FloatingPointError, match=r"loss became (nan|inf|-inf) at epoch (\d+), batch (\d+)") as info:
        model.fit(X, Y, epochs=500, batch_size=10, verbose=0, callbacks=[recorder])
    finite_epochs = len(recorder.weights)
    assert finite_epochs >= 1
    assert f"at epoch {finite_epochs + 1}," in str(info.value)
    assert f"(epoch index {finite_epochs} in History and callbacks)" in str(info.value)
    assert "keeps the weights it had before that epoch" in str(info.value)
    assert same_weights(model.get_weights(), recorder.weights[-1])
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert model.steps == 3 * finite_epochs
    assert all(np.isfinite(v).all() for slots in model.optimizer_state.slots for v in slots.values())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_in_the_first_epoch_restores_the_initial_weights(fn):
    X, Y = regression_data()
    layers = [fn.Dense(3, 6, activation="identity", seed=1), fn.Dense(6, 2, activation="identity", seed=2)]
    model = fn.Sequential(layers, optimizer=fn.SGD(learning_rate=1e6), seed=4)
    initial = model.get_weights()
    message = r"at epoch 1, batch [2-9] \(epoch index 0 in History and callbacks\); the model keeps the weights it had "
    with pytest.raises(FloatingPointError, match=message + "before that epoch"):
        model.fit(X, Y, epochs=3, batch_size=5, verbose=0)
    assert same_weights(initial, model.get_weights())
    assert model.steps == 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_train_step_with_an_infinite_loss_changes_nothing(fn):
    X, Y = regression_data()
    model = mse_model(fn, fn.Adam())
    model.train_step(X, Y)
    model.layers[1].W[...] = 1e200
    before = model.get_weights()
    state = [{k: v.copy() for k, v in s.items()} for s in model.optimizer_state.slots]
    with pytest.raises(FloatingPointError, match="train_step: the loss is inf; the model was left unchanged"):
        model.train_step(X, Y)
    assert same_weights(before, model.get_weights())
    assert model.steps == 1
    assert all(a[k].tobytes() == b[k].tobytes() for a, b in zip(state, model.optimizer_state.slots) for k in a)


@pytest.mark.filterwarnings("error")
def test_weights_that_overflow_on_a_finite_loss_step_are_caught_at_the_epoch_end(fn):
    layer = fn.Dense(2, 1, "identity", seed=0)
    model = fn.Sequential([layer], loss="mse", optimizer=fn.SGD(learning_rate=1e308))
    X, Y = np.array([[10.0, 10.0]]), np.array([[1e3]])
    before = model.get_weights()
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(FloatingPointError, match="the weights became"):
        model.fit(X, Y, epochs=1, batch_size=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))


HEADS = [("mse", "sigmoid"), ("mse", "tanh"), ("mse", "softmax"), ("cross_entropy", "softmax"),
         ("binary_cross_entropy", "sigmoid")]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("loss, last", HEADS)
def test_logits_of_1e4_stay_finite_and_silent(fn, dtype, loss, last):
    layer = fn.Dense(3, 3, last, dtype=dtype, seed=0)
    layer.W = np.eye(3)
    model = fn.Sequential([layer], loss=loss, optimizer=fn.SGD(1e-9))
    X = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, 1e4]])
    if loss == "cross_entropy":
        Y = np.array([1, 0, 2])  # the true class has predicted probability 0 in the first two rows
    elif loss == "binary_cross_entropy":
        Y = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
    else:
        Y = np.zeros((3, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            A = model.predict(X)
            logs = model.evaluate(X, Y)
            loss_value = model.train_step(X, Y)
    assert np.isfinite(A).all() and A.dtype == np.dtype(dtype)
    assert np.isfinite(logs["loss"]) and np.isfinite(loss_value)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    if loss == "cross_entropy":
        assert logs["loss"] == pytest.approx((4e4 + np.log(3)) / 3, rel=1e-5)
