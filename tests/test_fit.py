"""Training: fit's History and logs, batches and shuffling, progress output, train_step, Ctrl-C, and
fit's bad arguments and validation data."""

from __future__ import annotations

import io
import math
import os
import signal
import sys
import threading

import numpy as np
import pytest

from helpers import (
    TRAINING_TOL,
    Recorder,
    assert_close,
    batch_for,
    ce_model,
    classification_data,
    mse_model,
    regression_data,
    rejects,
    same_weights,
    trained_model,
)


# ---------------------------------------------------------------------------- History and logs
def test_history_and_logs(fn):
    model = ce_model(fn)
    X, y = classification_data()
    Xv, yv = classification_data(12, seed=1)
    recorder = Recorder()
    history = model.fit(X, y, epochs=3, batch_size=8, validation_data=(Xv, yv), verbose=0, callbacks=[recorder])
    assert isinstance(history, fn.History)
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 3 for values in history.history.values())
    assert recorder.calls == ["begin", 0, 1, 2, "end"]
    assert [log["loss"] for log in recorder.logs] == history.history["loss"]
    assert all(0 <= a <= 1 for a in history.history["accuracy"] + history.history["val_accuracy"])
    # the last epoch's validation logs are evaluate() on the final weights
    final = model.evaluate(Xv, yv)
    assert set(final) == {"loss", "accuracy"}
    assert final["accuracy"] == history.history["val_accuracy"][-1]
    assert math.isclose(final["loss"], history.history["val_loss"][-1], rel_tol=1e-9)
    assert model.steps == 3 * 4  # 30 rows in batches of 8: every sample each epoch, last batch smaller


def test_mse_reports_mae(fn):
    model = mse_model(fn)
    X, Y = regression_data()
    history = model.fit(X, Y, epochs=1, verbose=0, validation_data=(X, Y))
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert set(model.evaluate(X, Y)) == {"loss", "mae"}
    A = model.predict(X)
    assert math.isclose(model.evaluate(X, Y)["mae"], float(np.abs(A - Y).mean()), rel_tol=1e-9)
    assert math.isclose(model.evaluate(X, Y)["loss"], float(((A - Y) ** 2).mean()), rel_tol=1e-9)


def test_bce_reports_accuracy(fn):
    model = fn.Sequential([fn.Dense(3, 2, activation="sigmoid", seed=0)], loss="binary_cross_entropy")
    X, Y = regression_data()
    Y = (Y > 0).astype(float)
    logs = model.evaluate(X, Y)
    assert set(logs) == {"loss", "accuracy"}
    assert logs["accuracy"] == float(((model.predict(X) > 0.5) == (Y > 0.5)).mean())


def test_epoch_loss_is_the_batch_weighted_mean_of_batch_losses(fn):
    X, Y = regression_data(10)
    model, twin = mse_model(fn), mse_model(fn)
    history = model.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    losses = [twin.train_step(X[s:s + 4], Y[s:s + 4]) for s in (0, 4, 8)]
    want = (4 * losses[0] + 4 * losses[1] + 2 * losses[2]) / 10
    assert math.isclose(history.history["loss"][0], want, rel_tol=1e-9)
    assert model.steps == 3
    for a, b in zip(model.get_weights(), twin.get_weights()):
        assert_close(a, b, TRAINING_TOL[np.float64])


# ---------------------------------------------------------------------------- batches and shuffling
def test_zero_epochs(fn):
    model = mse_model(fn)
    weights = model.get_weights()
    history = model.fit(*regression_data(), epochs=0, verbose=0)
    assert history.epoch == [] and history.history == {}
    assert same_weights(weights, model.get_weights())


def test_a_batch_size_beyond_the_data_means_one_batch(fn):
    X, y = np.random.default_rng(0).standard_normal((10, 3)), np.arange(10) % 3
    model = ce_model(fn)
    history = model.fit(X, y, epochs=1, batch_size=2**63, verbose=0)
    assert len(history.epoch) == 1 and model.steps == 1


def test_successive_fits_continue_the_shuffle_stream(fn):
    X, Y = regression_data()
    a, b = mse_model(fn), mse_model(fn)
    a.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    b.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    b.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    assert same_weights(a.get_weights(), b.get_weights())
    c = mse_model(fn, seed=5)
    c.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    assert not same_weights(a.get_weights(), c.get_weights())  # the seed does pick the batches


def test_train_step_returns_the_loss_before_the_step(fn):
    model = mse_model(fn)
    X, Y = regression_data()
    before = model.evaluate(X, Y)["loss"]
    assert math.isclose(model.train_step(X, Y), before, rel_tol=1e-9)
    assert model.evaluate(X, Y)["loss"] < before


# ---------------------------------------------------------------------------- progress output
def test_verbose_0_is_silent(fn, capsys):
    mse_model(fn).fit(*regression_data(), epochs=2, verbose=0, validation_data=regression_data(5))
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("verbose", [1, 2])
def test_epoch_lines_on_a_pipe(fn, capsys, verbose):
    mse_model(fn).fit(*regression_data(), epochs=3, verbose=verbose, validation_data=regression_data(5))
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 3
    for i, line in enumerate(lines, 1):
        assert line.startswith(f"Epoch {i}/3")
        assert "loss:" in line and "mae:" in line and "val_loss:" in line and "val_mae:" in line
    assert "\r" not in err and "\x1b" not in err


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("verbose, bar", [(1, True), (2, False)])
def test_progress_bar_on_a_terminal(fn, monkeypatch, verbose, bar):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    mse_model(fn).fit(*regression_data(), epochs=2, batch_size=4, verbose=verbose)
    text = terminal.getvalue()
    assert ("[" in text and "8/8" in text and "\r" in text) is bar
    final_lines = [line.rsplit("\r", 1)[-1] for line in text.split("\n") if line]
    assert [line.split(" - ")[0] for line in final_lines] == ["Epoch 1/2", "Epoch 2/2"]


# ---------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_stops_fit_after_the_current_batch(fn):
    X, Y = regression_data(20)
    model = mse_model(fn, fn.SGD(0.01, momentum=0.9))
    handler_before = signal.getsignal(signal.SIGINT)

    class InterruptSoon:
        """After the first epoch, a timer thread sends SIGINT to this process, as Ctrl-C would."""

        epochs = 0

        def on_epoch_end(self, epoch, logs):
            self.epochs += 1
            if epoch == 0:
                threading.Timer(0.02, os.kill, (os.getpid(), signal.SIGINT)).start()
            return self.epochs >= 200_000  # a bound, so a lost signal fails the test instead of hanging

    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, epochs=1_000_000, batch_size=10, shuffle=False, verbose=0, callbacks=[InterruptSoon()])
    assert signal.getsignal(signal.SIGINT) is handler_before
    steps = model.steps
    assert steps >= 2

    # Consistent: exactly `steps` whole updates, as if the batches had been fed one by one.
    replay = mse_model(fn, fn.SGD(0.01, momentum=0.9))
    for step in range(steps):
        rows = slice(0, 10) if step % 2 == 0 else slice(10, 20)
        replay.train_step(X[rows], Y[rows])
    for a, b in zip(model.get_weights(), replay.get_weights()):
        assert_close(a, b, TRAINING_TOL[np.float64])
    model.fit(X, Y, epochs=1, verbose=0)  # and it trains on
    assert model.steps == steps + 1


# ---------------------------------------------------------------------------- bad arguments
BAD_FIT_ARGS = [
    ({"epochs": -1}, ValueError, r"epochs must be an integer >= 0, got -1"),
    ({"epochs": 1.5}, TypeError, r"epochs must be an integer >= 0, got float 1.5"),
    ({"epochs": "3"}, TypeError, r"epochs must be an integer"),
    ({"epochs": True}, TypeError, r"epochs must be an integer"),
    ({"batch_size": 0}, ValueError, r"batch_size must be an integer >= 1, got 0"),
    ({"batch_size": -4}, ValueError, r"batch_size must be an integer >= 1"),
    ({"batch_size": 8.0}, TypeError, r"batch_size must be an integer"),
    ({"batch_size": None}, TypeError, r"batch_size must be an integer"),
    ({"verbose": 3}, ValueError, r"verbose must be 0, 1 or 2, got 3"),
    ({"verbose": -1}, ValueError, r"verbose must be 0, 1 or 2"),
    ({"verbose": True}, ValueError, r"verbose must be 0, 1 or 2, got True"),
    ({"verbose": "loud"}, ValueError, r"verbose must be 0, 1 or 2"),
    ({"shuffle": "yes"}, TypeError, r"shuffle must be True or False, got 'yes'"),
    ({"shuffle": 1}, TypeError, r"shuffle must be True or False"),
    ({"callbacks": [object()]}, TypeError,
     r"callbacks\[0\] must have on_train_begin/on_epoch_begin/on_epoch_end/on_train_end"),
    ({"callbacks": "EarlyStopping"}, TypeError, r"callbacks\[0\] must have"),
]


@pytest.mark.parametrize("kwargs, exc, match", BAD_FIT_ARGS, ids=[str(c[0]) for c in BAD_FIT_ARGS])
def test_bad_fit_arguments(fn, kwargs, exc, match):
    model = trained_model(fn)
    X, Y = batch_for()
    kwargs = {"verbose": 0, **kwargs}
    rejects(model, exc, match, model.fit, X, Y, **kwargs)


BAD_VALIDATION = [
    ("nan X", lambda X, Y: (np.where(X > 1, np.nan, X), Y), ValueError, r"validation_data\[0\] must be finite"),
    ("inf Y", lambda X, Y: (X, np.where(Y > 1, np.inf, Y)), ValueError, r"validation_data\[1\] must be finite"),
    ("columns", lambda X, Y: (X[:, :2], Y), ValueError, r"validation_data\[0\] must have 3 columns"),
    ("rows", lambda X, Y: (X, Y[:5]), ValueError, r"validation_data\[1\] must have 20 rows"),
    ("empty", lambda X, Y: (X[:0], Y[:0]), ValueError, r"validation_data\[0\] must have at least one row"),
    ("complex", lambda X, Y: (X + 0j, Y), TypeError, r"validation_data\[0\] must hold real numbers"),
    ("not a pair", lambda X, Y: (X, Y, Y, Y), TypeError, r"validation_data must be a tuple \(X_val, Y_val\)"),
    ("weights", lambda X, Y: (X, Y, -np.ones(len(X))), ValueError, r"validation_data\[2\] must be non-negative"),
    ("array", lambda X, Y: X, TypeError, r"validation_data must be a tuple"),
]


@pytest.mark.parametrize("case", BAD_VALIDATION, ids=[c[0] for c in BAD_VALIDATION])
def test_bad_validation_data(fn, case):
    _, make_bad, exc, match = case
    model = trained_model(fn)
    X, Y = batch_for()
    rejects(model, exc, match, model.fit, X, Y, verbose=0, validation_data=make_bad(X, Y))


def test_bad_validation_labels(fn):
    model = trained_model(fn, "cross_entropy")
    X, y = batch_for("cross_entropy")
    rejects(model, ValueError, r"validation_data\[1\] class ids must lie in \[0, 3\)", model.fit, X, y, verbose=0,
            validation_data=(X, y + 1))
