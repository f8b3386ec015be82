"""Shared test helpers: the two backends, docs/design.md's normwise comparison, peers, and the small
models and data sets several test files train."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import numpy as np
import pytest

import fastnet
import fastnet.reference

BACKENDS = [fastnet, fastnet.reference]
BACKEND_IDS = ["compiled", "reference"]
KERNEL_TOL = {np.float64: 1e-12, np.float32: 1e-5}
TRAINING_TOL = {np.float64: 1e-9, np.float32: 1e-4}


# ---------------------------------------------------------------------------- comparisons
def normwise_error(got: np.ndarray, want: np.ndarray) -> float:
    """max|got − want| / max|want| (0 when both are all zero)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = np.abs(want).max() if want.size else 0.0
    diff = np.abs(got - want).max() if want.size else 0.0
    return float(diff / scale) if scale else float(diff)


def assert_close(got, want, tol: float, scale=None, what: str = "") -> None:
    """Normwise check: max|got − want| <= tol · scale, with scale = max|want| by default.

    ``scale`` replaces max|want| where the result cancels below its inputs' size; an array
    ``scale`` (broadcast against ``want``) bounds each entry by its own scale. A zero scale
    demands equality. Arrays must agree in shape, and in dtype when both are NumPy arrays.
    """
    label = f"{what}: " if what else ""
    if isinstance(got, np.ndarray) and isinstance(want, np.ndarray):
        assert got.dtype == want.dtype, f"{label}dtype {got.dtype} != {want.dtype}"
    got_, want_ = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got_.shape == want_.shape, f"{label}shape {got_.shape} != {want_.shape}"
    if not want_.size:
        return
    diff = np.abs(got_ - want_)
    if scale is None:
        scale = np.abs(want_).max()
    bound = tol * np.asarray(scale, dtype=np.float64)
    ok = diff <= bound
    if not ok.all():
        where = np.unravel_index(np.argmin(np.where(ok, np.inf, bound - diff)), diff.shape)
        scale_there = np.broadcast_to(np.asarray(scale, dtype=np.float64), diff.shape)[where]
        raise AssertionError(f"{label}error {diff[where]:.3g} > {tol:.1g} × scale {scale_there:.3g} at index "
                             f"{tuple(int(i) for i in where)} (got {got_[where]!r}, want {want_[where]!r})")


# ---------------------------------------------------------------------------- peers
def require(module: str) -> ModuleType:
    """Import a library the tests compare against: skipped when missing, but a failure when
    FASTNET_REQUIRE_PEERS=1 (CI installs the peers and sets it, so a comparison never silently vanishes)."""
    if os.environ.get("FASTNET_REQUIRE_PEERS") == "1":
        try:
            return importlib.import_module(module)
        except ImportError as exc:
            pytest.fail(f"FASTNET_REQUIRE_PEERS=1 but {module} cannot be imported: {exc}")
    return pytest.importorskip(module)


# ---------------------------------------------------------------------------- small training problems
def regression_data(m=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    Y = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 0]], axis=1)
    return X, Y


def classification_data(m=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)


def mse_model(fn, optimizer=None, seed=4, dtype="float64"):
    layers = [fn.Dense(3, 6, activation="tanh", dtype=dtype, seed=1),
              fn.Dense(6, 2, activation="identity", dtype=dtype, seed=2)]
    return fn.Sequential(layers, loss="mse", optimizer=optimizer or fn.SGD(0.05), seed=seed)


def ce_model(fn, optimizer=None, seed=4):
    layers = [fn.Dense(3, 6, activation="relu", seed=1), fn.Dense(6, 3, activation="softmax", seed=2)]
    return fn.Sequential(layers, loss="cross_entropy", optimizer=optimizer or fn.SGD(0.1), seed=seed)


def digits_like(fn, optimizer, dtype="float64"):
    """The digits benchmark's 64-15-10 network."""
    layers = [fn.Dense(64, 15, "relu", dtype=dtype, seed=0), fn.Dense(15, 10, "sigmoid", dtype=dtype, seed=1)]
    return fn.Sequential(layers, loss="mse", optimizer=optimizer, seed=0)


def digits_data(m=400, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(m, 64)), np.eye(10)[rng.integers(0, 10, size=m)]


def same_weights(a, b):
    return all(x.dtype == y.dtype and x.tobytes() == y.tobytes() for x, y in zip(a, b, strict=True))


class Recorder:
    """A duck-typed callback that records every hook call and the weights at each epoch end."""

    def __init__(self, stop_at=None):
        self.calls, self.weights, self.logs, self.stop_at = [], [], [], stop_at

    def on_train_begin(self, model):
        self.model = model
        self.calls.append("begin")

    def on_epoch_end(self, epoch, logs):
        self.calls.append(epoch)
        self.logs.append(dict(logs))
        self.weights.append(self.model.get_weights())
        return epoch == self.stop_at

    def on_train_end(self, model):
        assert model is self.model
        self.calls.append("end")


# ---------------------------------------------------------------------------- rejected calls leave the model alone
ROWS = 20  # rows of the standard batch of the bad-input tests
ENTRY_POINTS = ["fit", "evaluate", "train_step", "predict"]


def batch_for(loss="mse", m=ROWS):
    """X (m, 3) and valid targets for ``loss`` (class ids for cross_entropy)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(m, 3))
    if loss == "cross_entropy":
        Y = rng.integers(0, 3, size=m)
    elif loss == "binary_cross_entropy":
        Y = rng.uniform(size=(m, 2))
    else:
        Y = rng.normal(size=(m, 2))
    return X, Y


def trained_model(fn, loss="mse", dtype="float64", optimizer=None):
    """3 -> 4 -> k with a loss-appropriate head, one step trained so optimiser state and step exist."""
    last, k = {"mse": ("identity", 2), "cross_entropy": ("softmax", 3), "binary_cross_entropy": ("sigmoid", 2)}[loss]
    model = fn.Sequential(
        [fn.Dense(3, 4, activation="tanh", dtype=dtype, seed=1), fn.Dense(4, k, activation=last, dtype=dtype, seed=2)],
        loss=loss,
        optimizer=optimizer or fn.SGD(learning_rate=0.1, momentum=0.9),
        seed=0,
    )
    X, Y = batch_for(loss)
    model.train_step(X, Y)
    return model


def snapshot(model):
    """Everything a rejected call must leave alone."""
    opt = None if model.optimizer_state is None else model.optimizer_state.copy().slots
    return model.get_weights(), opt, model.steps, model._rng.bit_generator.state


def assert_unchanged(model, before):
    weights, opt, step, rng = before
    after = model.get_weights()
    assert len(after) == len(weights)
    for a, b in zip(after, weights):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert model.steps == step
    assert model._rng.bit_generator.state == rng
    if opt is None:
        assert model.optimizer_state is None
    else:
        for s_after, s_before in zip(model.optimizer_state.slots, opt):
            assert s_after.keys() == s_before.keys()
            for key in s_after:
                assert s_after[key].tobytes() == s_before[key].tobytes()


def rejects(model, exc, match, call, *args, **kwargs):
    """``call(*args, **kwargs)`` raises ``exc`` matching ``match`` and leaves ``model`` as it was."""
    before = snapshot(model)
    with pytest.raises(exc, match=match) as info:
        call(*args, **kwargs)
    assert_unchanged(model, before)
    return info


def entry_calls(model, X, Y):
    """The four entry points that take X, as {name: thunk}."""
    return {
        "fit": lambda: model.fit(X, Y, epochs=1, verbose=0),
        "evaluate": lambda: model.evaluate(X, Y),
        "train_step": lambda: model.train_step(X, Y),
        "predict": lambda: model.predict(X),
    }


# ---------------------------------------------------------------------------- the layer's two paths
def at_the_door(value, dtype):
    """``value`` where the compiled Dense's fast paths look at it: a C-contiguous ndarray, in ``dtype``
    when it holds floats (other kinds stay as they are); non-arrays and scalars unchanged."""
    if not isinstance(value, np.ndarray) or value.ndim == 0:
        return value
    return np.ascontiguousarray(value, dtype=np.dtype(dtype) if value.dtype.kind == "f" else None)


def off_the_door(value):
    """The same values as a strided view (not C-contiguous when the last axis has 2 or more entries),
    which only the validating path takes; non-arrays and scalars unchanged."""
    if not isinstance(value, np.ndarray) or value.ndim == 0:
        return value
    return np.repeat(value, 2, axis=-1)[..., ::2]


FORMS = {"as-made": lambda value, dtype: value, "at-the-door": at_the_door,
         "off-the-door": lambda value, dtype: off_the_door(value)}


# ---------------------------------------------------------------------------- model files
FILE_OPTIMIZERS = {
    "sgd": lambda fn: fn.SGD(learning_rate=0.05),
    "momentum": lambda fn: fn.SGD(learning_rate=0.05, momentum=0.9),
    "nesterov": lambda fn: fn.SGD(learning_rate=0.05, momentum=0.8, nesterov=True),
    "adam": lambda fn: fn.Adam(learning_rate=0.01, beta1=0.8, beta2=0.99, eps=1e-7),
}
FILE_HEADS = {"mse": ("tanh", 2), "cross_entropy": ("softmax", 3), "binary_cross_entropy": ("sigmoid", 2)}


def file_model(fn, loss="mse", optimizer="adam", dtype="float64", seed=11):
    """A three-layer model using every stored layer setting (init, l2, activation)."""
    last, k = FILE_HEADS[loss]
    layers = [
        fn.Dense(4, 5, activation="relu", init="xavier", l2=0.01, dtype=dtype, seed=1),
        fn.Dense(5, 3, activation="leaky_relu", init="lecun", dtype=dtype, seed=2),
        fn.Dense(3, k, activation=last, dtype=dtype, seed=3),
    ]
    return fn.Sequential(layers, loss=loss, optimizer=FILE_OPTIMIZERS[optimizer](fn), seed=seed)


def file_data(loss="mse", m=37):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(m, 4))
    if loss == "cross_entropy":
        return X, rng.integers(0, 3, size=m)
    if loss == "binary_cross_entropy":
        return X, rng.uniform(size=(m, 2))
    return X, rng.normal(size=(m, 2))


def fit_file_model(model, loss, epochs=2):
    X, Y = file_data(loss)
    return model.fit(X, Y, epochs=epochs, batch_size=8, verbose=0)


def assert_identical(a, b):
    """Same configuration, parameters, optimiser state, step, shuffling stream and dropout generator,
    bit for bit."""
    assert a.loss == b.loss and a.optimizer == b.optimizer and a.seed == b.seed
    assert [layer.config() for layer in a.layers] == [layer.config() for layer in b.layers]
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
    assert a.steps == b.steps
    if a.optimizer_state is None:
        assert b.optimizer_state is None
    else:
        assert a.optimizer_state.kind == b.optimizer_state.kind
        for sa, sb in zip(a.optimizer_state.slots, b.optimizer_state.slots, strict=True):
            assert sa.keys() == sb.keys()
            for key in sa:
                assert sa[key].dtype == sb[key].dtype and sa[key].tobytes() == sb[key].tobytes()
    assert a._rng.bit_generator.state == b._rng.bit_generator.state
    assert (a._dropout_key, a._dropout_count) == (b._dropout_key, b._dropout_count)
