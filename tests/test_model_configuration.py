"""Configuration assigned after construction is validated and honoured by both backends alike;
the model keeps the History of its current or last fit."""

import threading

import numpy as np
import pytest

import fastnet
import fastnet.reference

from helpers import BACKEND_IDS, BACKENDS, TRAINING_TOL


def regression_model(fn, loss="mse", seed=0):
    return fn.Sequential(
        [fn.Dense(4, 6, "tanh", seed=seed), fn.Dense(6, 1, "sigmoid", seed=seed + 1)],
        loss=loss, optimizer=fn.SGD(0.1), seed=seed,
    )


def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((30, 4)), rng.uniform(0, 1, (30, 1))


def test_assigned_loss_is_used_by_both_backends_alike():
    X, Y = data()
    runs = []
    for fn in (fastnet, fastnet.reference):
        model = regression_model(fn, loss="binary_cross_entropy")
        model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
        model.loss = "mse"
        history = model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
        assert model.loss == "mse" and "mae" in history.history
        runs.append((model.get_weights(), history.history["loss"], model.evaluate(X, Y)["loss"]))
    (w_c, h_c, e_c), (w_r, h_r, e_r) = runs
    tol = TRAINING_TOL[np.float64]
    assert all(np.abs(a - b).max() <= tol * np.abs(b).max() for a, b in zip(w_c, w_r))
    assert np.allclose(h_c, h_r, rtol=tol) and e_c == pytest.approx(e_r, rel=tol)
    # the compiled model really trained on mse after the assignment: the reference's mse trajectory
    fresh = regression_model(fastnet.reference, loss="binary_cross_entropy")
    fresh.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    bce_history = fresh.fit(X, Y, epochs=2, batch_size=8, verbose=0).history["loss"]
    assert not np.allclose(h_c, bce_history)


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_assigned_loss_is_validated_like_the_constructor(fn):
    model = regression_model(fn)
    with pytest.raises(ValueError, match="loss must be one of"):
        model.loss = "hinge"
    with pytest.raises(ValueError, match="cross_entropy' needs a softmax"):
        model.loss = "cross_entropy"
    with pytest.raises(TypeError, match="loss must be one of"):
        model.loss = 3
    assert model.loss == "mse"
    model.loss = fn.BinaryCrossEntropy
    assert model.loss == "binary_cross_entropy"
    softmax = fn.Sequential([fn.Dense(4, 3, "softmax", seed=0)], loss="cross_entropy")
    with pytest.raises(ValueError, match="needs a sigmoid"):
        softmax.loss = "bce"


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_loss_cannot_change_during_fit(fn):
    X, Y = data()
    model = regression_model(fn)

    class Switch(fn.Callback):
        def on_epoch_end(self, epoch, logs):
            model.loss = "binary_cross_entropy"

    with pytest.raises(RuntimeError, match="loss cannot change during fit"):
        model.fit(X, Y, epochs=2, verbose=0, callbacks=[Switch()])
    assert model.loss == "mse"
    model.loss = "binary_cross_entropy"  # fine between fits


def test_loss_cannot_change_while_another_thread_trains():
    X, Y = np.random.default_rng(0).standard_normal((4000, 4)), np.random.default_rng(1).uniform(0, 1, (4000, 1))
    model = regression_model(fastnet)
    started, errors = threading.Event(), []

    class Signal(fastnet.Callback):
        def on_train_begin(self, m):
            started.set()

    worker = threading.Thread(target=lambda: model.fit(X, Y, epochs=40, batch_size=4, verbose=0, callbacks=[Signal()]))
    worker.start()
    started.wait()
    try:
        model.loss = "binary_cross_entropy"
    except RuntimeError as exc:
        errors.append(exc)
    worker.join()
    assert errors and model.loss == "mse"


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_history_survives_a_diverging_fit(fn):
    X, Y = data()
    model = fn.Sequential([fn.Dense(4, 1, "identity", seed=0)], loss="mse", optimizer=fn.SGD(1e3), seed=0)
    assert model.history is None
    with pytest.raises(FloatingPointError):
        model.fit(X * 1e3, Y * 1e3, epochs=50, batch_size=8, verbose=0)
    assert isinstance(model.history, fn.History)
    assert len(model.history.epoch) == len(model.history.history["loss"])
    ok = model.fit(X, Y, epochs=0, verbose=0)
    assert model.history is ok


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_history_survives_an_interrupted_fit(fn):
    X, Y = data()
    model = regression_model(fn)

    class Interrupt(fn.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 2:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, epochs=10, batch_size=8, verbose=0, callbacks=[Interrupt()])
    assert model.history.epoch == [0, 1, 2] and len(model.history.history["loss"]) == 3


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_a_copy_made_during_fit_is_not_fitting(fn):
    import copy

    X, Y = data()
    model, copies = regression_model(fn), []

    class KeepBest(fn.Callback):
        def on_epoch_end(self, epoch, logs):
            copies.append(copy.deepcopy(model))

    model.fit(X, Y, epochs=2, verbose=0, callbacks=[KeepBest()])
    copies[0].loss = "binary_cross_entropy"  # a copy taken mid-fit is not under a fit
    assert copies[0].loss == "binary_cross_entropy"


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_a_fit_inside_a_callback_keeps_the_outer_fit_protected(fn):
    X, Y = data()
    model = regression_model(fn)
    attempts = []

    class Nested(fn.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 0:
                model.fit(X, Y, epochs=1, verbose=0)  # a fit inside the fit, same thread
                try:
                    model.loss = "binary_cross_entropy"
                except RuntimeError as exc:
                    attempts.append(str(exc))

    model.fit(X, Y, epochs=2, verbose=0, callbacks=[Nested()])
    assert attempts and "loss cannot change during fit" in attempts[0]
    model.loss = "binary_cross_entropy"
