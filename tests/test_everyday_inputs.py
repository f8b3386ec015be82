"""Inputs people pass every day: pandas' nullable dtypes, bool class ids, and the messages and
terminal output around fit, predict and save, alike in both backends."""

import io
import os

import numpy as np
import pandas as pd
import pytest

import fastnet
import fastnet.reference
from fastnet.progress import Progress

from helpers import BACKEND_IDS, BACKENDS


def classifier(fn, dtype="float64"):
    layers = [fn.Dense(3, 5, "relu", seed=0, dtype=dtype), fn.Dense(5, 3, "softmax", seed=1, dtype=dtype)]
    return fn.Sequential(layers, loss="cross_entropy", optimizer=fn.SGD(0.1), seed=0)


def frame(rows=12):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((rows, 3))
    y = rng.integers(0, 3, rows)
    return X, y


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_pandas_nullable_dtypes_train_like_numpy(fn):
    X, y = frame()
    df = pd.DataFrame(X, columns=list("abc")).astype({"a": "Float64", "b": "Float64", "c": "Float64"})
    df["c"] = (df["c"] > 0).astype("boolean")  # a nullable boolean column reads as 0/1
    ids = pd.Series(y, dtype="Int64")
    plain, nullable = classifier(fn), classifier(fn)
    X_plain = np.column_stack([X[:, 0], X[:, 1], (X[:, 2] > 0).astype(float)])
    plain.fit(X_plain, y, epochs=2, batch_size=4, verbose=0)
    nullable.fit(df, ids, epochs=2, batch_size=4, verbose=0)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(plain.get_weights(), nullable.get_weights()))
    assert np.array_equal(nullable.predict(df), plain.predict(X_plain))


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_pandas_missing_values_are_named(fn):
    X, y = frame()
    df = pd.DataFrame(X).astype("Float64")
    df.iloc[4, 1] = pd.NA
    with pytest.raises(ValueError, match=r"X must be finite, got nan at index \(4, 1\)"):
        classifier(fn).fit(df, y, verbose=0)
    ids = pd.Series(y, dtype="Int64")
    ids.iloc[2] = pd.NA
    with pytest.raises(ValueError, match="Y must be finite"):
        classifier(fn).fit(X, ids, verbose=0)
    mixed = pd.DataFrame({"a": X[:, 0], "b": ["x"] * len(X), "c": X[:, 2]})
    with pytest.raises(TypeError, match="X must hold real numbers"):
        classifier(fn).fit(mixed, y, verbose=0)


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_bool_class_ids_are_classes_0_and_1(fn):
    X, y = frame()
    y = y % 2
    a, b = classifier(fn), classifier(fn)
    a.fit(X, y.astype(bool), epochs=2, batch_size=4, verbose=0)
    b.fit(X, y, epochs=2, batch_size=4, verbose=0)
    assert all(p.tobytes() == q.tobytes() for p, q in zip(a.get_weights(), b.get_weights()))


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_validation_data_of_the_wrong_length_says_so(fn):
    X, y = frame()
    expected = r"validation_data must be a tuple \(X_val, Y_val\) or \(X_val, Y_val, sample_weight\), "
    with pytest.raises(TypeError, match=expected + "got a tuple of 1 item$"):
        classifier(fn).fit(X, y, validation_data=(X,), verbose=0)
    with pytest.raises(TypeError, match=r"got a list of 4 items$"):
        classifier(fn).fit(X, y, validation_data=[X, y, y, y], verbose=0)


@pytest.mark.parametrize("call", ["predict", "forward"])
def test_a_value_too_large_for_float32_is_named_alike_by_both_backends(call):
    messages = set()
    for fn in (fastnet, fastnet.reference):
        model = classifier(fn, "float32")
        run = model.predict if call == "predict" else model.layers[0].forward
        with pytest.raises(ValueError) as info:
            run([[0.0, 1e300, 0.0]] * 2000)  # a list: the converting path, not the fast path
        messages.add(str(info.value))
    assert messages == {"X must fit in float32, got 1e+300 at index (0, 1)"}


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_saving_into_a_missing_folder_names_the_target(fn, tmp_path):
    target = tmp_path / "missing" / "model.npz"
    with pytest.raises(FileNotFoundError, match=f"cannot save the model to '{target}': the folder"):
        classifier(fn).save(target)
    assert not (tmp_path / "missing").exists()


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_live_bar_clears_what_a_longer_line_left_and_ends_its_line_when_stopped():
    out = Terminal()
    progress = Progress(1, epochs=2, n_batches=10, stream=out)
    progress.epoch_begin(0)
    progress.batch_end(0, 10, 123456.789)
    progress.epoch_end(0, {"loss": 1.0})
    progress.epoch_begin(1)
    progress.batch_end(1, 3, 1.0)
    assert all(draw.endswith("\x1b[K") for draw in out.getvalue().split("\r")[1:] if "[" in draw and "\n" not in draw)
    assert not out.getvalue().endswith("\n")
    progress.close()  # fit stopped inside epoch 2 (Ctrl-C, divergence)
    assert out.getvalue().endswith("\n")
    progress.close()
    assert not out.getvalue().endswith("\n\n")  # only once


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_a_fit_stopped_inside_an_epoch_ends_the_bar_line(fn, monkeypatch):
    """Ctrl-C arrives while the bar is drawn mid-epoch (here: during its second draw)."""

    class InterruptedTerminal(Terminal):
        draws = 0

        def write(self, text):
            if text.startswith("\rEpoch 1/1 ["):
                self.draws += 1
                if self.draws == 2:
                    raise KeyboardInterrupt
            return super().write(text)

    # every batch end redraws; the compiled engine's batch ends come every ~50 ms: enough rows for two
    monkeypatch.setattr("fastnet.progress._REFRESH_SECONDS", 0.0)
    rows = 400_000 if fn is fastnet else 400
    X, y = np.random.default_rng(0).standard_normal((rows, 3)), np.zeros(rows, dtype=int)
    out = InterruptedTerminal()
    monkeypatch.setattr("sys.stderr", out)
    with pytest.raises(KeyboardInterrupt):
        classifier(fn).fit(X, y, epochs=1, batch_size=2, verbose=1)
    text = out.getvalue()
    assert text.startswith("\rEpoch 1/1 [") and text.endswith("\n") and not text.endswith("\n\n")


def test_the_public_namespace_and_docs():
    assert "Any" not in dir(fastnet) and "checks" not in dir(fastnet) and "training" not in dir(fastnet)
    assert {"Dense", "Sequential", "Adam", "GELU", "load", "gradcheck"} <= set(dir(fastnet))
    for name in ("evaluate", "save", "set_weights", "predict", "train_step", "fit"):
        assert getattr(fastnet.Sequential, name).__doc__, name
    assert "cannot be reassigned" in fastnet.Dense.dW.__doc__
    assert os.path.basename(fastnet.__file__) == "__init__.py"


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_summary_lists_layers_parameters_dtype_loss_and_optimizer(fn):
    out = io.StringIO()
    model = classifier(fn, "float32")
    model.summary(file=out)
    text = out.getvalue()
    assert "Dense 0  3 -> 5  relu" in text and "Dense 1  5 -> 3  softmax" in text
    assert "38 parameters, float32 (152 bytes)" in text  # 3·5 + 5 + 5·3 + 3
    assert "loss: cross_entropy, metric: accuracy, optimizer: SGD(learning_rate=0.1" in text
