"""Callbacks during fit: the hooks and their order, stopping, EarlyStopping, and callbacks that change the
data they were given."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import (
    Recorder,
    batch_for,
    ce_model,
    classification_data,
    mse_model,
    regression_data,
    rejects,
    same_weights,
    trained_model,
)


def test_callback_returning_true_stops_and_train_end_still_runs(fn):
    model = mse_model(fn)
    recorder = Recorder(stop_at=1)
    history = model.fit(*regression_data(), epochs=10, verbose=0, callbacks=recorder)
    assert recorder.calls == ["begin", 0, 1, "end"]
    assert history.epoch == [0, 1]


def test_callback_base_class_and_partial_duck_typing(fn):
    seen = []

    class OnlyEpochs:
        def on_epoch_end(self, epoch, logs):
            seen.append(epoch)

    class Sub(fn.Callback):
        def on_epoch_end(self, epoch, logs):
            seen.append(("sub", epoch))

    mse_model(fn).fit(*regression_data(), epochs=2, verbose=0, callbacks=(OnlyEpochs(), Sub(), fn.Callback()))
    assert seen == [0, ("sub", 0), 1, ("sub", 1)]


def test_class_ids_changed_by_a_callback_during_fit_are_not_seen(fn):
    X = np.random.default_rng(0).standard_normal((20, 3))
    y = np.arange(20) % 3

    class Vandal:
        def on_epoch_end(self, epoch, logs):
            y[:] = 10**9  # out of range: must not reach the kernels

    model = ce_model(fn)
    model.fit(X, y, epochs=3, batch_size=4, verbose=0, callbacks=[Vandal()])
    assert all(np.isfinite(w).all() for w in model.get_weights())


# ---------------------------------------------------------------------------- EarlyStopping
def test_early_stopping_restores_the_best_weights(fn):
    model = mse_model(fn)
    X, Y = regression_data()
    recorder = Recorder()
    # Only the first epoch can "improve" by more than min_delta: training stops after patience more.
    stopper = fn.EarlyStopping(monitor="loss", patience=2, min_delta=1e9)
    history = model.fit(X, Y, epochs=10, verbose=0, callbacks=[recorder, stopper])
    assert history.epoch == [0, 1, 2]
    assert stopper.best_epoch == 0 and stopper.stopped_epoch == 2
    assert stopper.best == history.history["loss"][0]
    assert same_weights(model.get_weights(), recorder.weights[0])
    assert not same_weights(recorder.weights[0], recorder.weights[2])


def test_early_stopping_without_restoring(fn):
    model = mse_model(fn)
    recorder = Recorder()
    stopper = fn.EarlyStopping(monitor="loss", patience=1, min_delta=1e9, restore_best_weights=False)
    model.fit(*regression_data(), epochs=10, verbose=0, callbacks=[recorder, stopper])
    assert recorder.calls == ["begin", 0, 1, "end"]
    assert same_weights(model.get_weights(), recorder.weights[1])


def test_early_stopping_on_validation_loss_and_reuse(fn):
    X, Y = regression_data()
    model = mse_model(fn, fn.SGD(0.05))
    stopper = fn.EarlyStopping(patience=3)
    history = model.fit(X, Y, epochs=6, verbose=0, validation_data=(X, Y), callbacks=[stopper])
    val = history.history["val_loss"]
    assert history.epoch == list(range(6))  # still improving: no early stop
    assert val == sorted(val, reverse=True)
    assert stopper.best_epoch == 5 and stopper.stopped_epoch is None
    # the same instance starts afresh on the next fit
    model.fit(X, Y, epochs=1, verbose=0, validation_data=(X, Y), callbacks=[stopper])
    assert stopper.best_epoch == 0


def test_early_stopping_maximises_accuracy(fn):
    X, y = classification_data()
    stopper = fn.EarlyStopping(monitor="accuracy", patience=0)
    assert stopper.maximize
    history = ce_model(fn).fit(X, y, epochs=20, verbose=0, callbacks=[stopper])
    acc = history.history["accuracy"]
    # patience=0 stops at the first epoch that does not beat the best so far
    assert all(b > a for a, b in zip(acc[:-2], acc[1:-1]))
    assert 1 < len(acc) < 20  # this run does stop early
    assert stopper.stopped_epoch == len(acc) - 1 and acc[-1] <= max(acc[:-1])
    assert stopper.best == max(acc) == acc[stopper.best_epoch]


@pytest.mark.parametrize("monitor", ["val_loss", "val_mae", "accuracy", "lossy"])
def test_early_stopping_on_a_log_fit_will_not_produce(fn, monitor):
    # Rejected before the first epoch, so the model is not trained by the call.
    model = trained_model(fn)
    X, Y = batch_for()
    callback = fn.EarlyStopping(monitor=monitor)
    rejects(model, ValueError, rf"EarlyStopping\(monitor='{monitor}'\)", model.fit, X, Y, epochs=2, verbose=0,
            callbacks=[callback])


def test_early_stopping_on_validation_logs_is_fine_with_validation_data(fn):
    model = trained_model(fn)
    X, Y = batch_for()
    history = model.fit(X, Y, epochs=2, verbose=0, validation_data=(X, Y), callbacks=[fn.EarlyStopping("val_mae")])
    assert history.epoch == [0, 1]


def test_bad_early_stopping_arguments(fn):
    with pytest.raises(ValueError, match=r"patience must be an integer >= 0, got -1"):
        fn.EarlyStopping(patience=-1)
    with pytest.raises(TypeError, match=r"patience must be an integer"):
        fn.EarlyStopping(patience=2.5)
    with pytest.raises(ValueError, match=r"min_delta must be a finite number >= 0.0, got -0.5"):
        fn.EarlyStopping(min_delta=-0.5)
    with pytest.raises(TypeError, match=r"monitor must be a log key"):
        fn.EarlyStopping(monitor=3)
