"""The public API: names, signatures, callbacks, History, progress output, NN, interrupts, divergence,
optimiser state across fit calls, and the boundary between the two backends."""

from __future__ import annotations

import inspect
import io
import math
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastnet
import fastnet.reference

from helpers import BACKEND_IDS, BACKENDS, TRAINING_TOL, assert_close

SHARED = ["SGD", "Adam", "EarlyStopping", "Callback", "History", "gradcheck", "Identity", "ReLU", "LeakyReLU",
          "Tanh", "Sigmoid", "Softmax", "MSE", "CrossEntropy", "BinaryCrossEntropy"]
PER_BACKEND = ["Dense", "Sequential", "NN", "load"]


@pytest.fixture(params=BACKENDS, ids=BACKEND_IDS)
def fn(request):
    return request.param


def regression(m=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 3))
    Y = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 0]], axis=1)
    return X, Y


def classification(m=30, seed=0):
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


# ---------------------------------------------------------------------------- names and signatures
def test_public_names():
    assert set(fastnet.__all__) == set(fastnet.reference.__all__) - {"ops"} | {"ops", "__version__"}
    for name in SHARED + PER_BACKEND:
        assert name in fastnet.__all__ and name in fastnet.reference.__all__
    for name in fastnet.__all__:
        assert getattr(fastnet, name) is not None
    assert isinstance(fastnet.__version__, str) and fastnet.__version__[0].isdigit()
    assert set(PER_BACKEND) <= set(dir(fastnet))
    with pytest.raises(AttributeError, match="no attribute 'Conv2D'"):
        fastnet.Conv2D  # noqa: B018


@pytest.mark.parametrize("name", SHARED)
def test_shared_objects_are_identical_in_both_backends(name):
    assert getattr(fastnet, name) is getattr(fastnet.reference, name)


def test_sgd_is_backend_free():
    assert fastnet.SGD is fastnet.reference.SGD
    assert fastnet.Adam is fastnet.reference.Adam
    assert fastnet.EarlyStopping is fastnet.reference.EarlyStopping
    assert fastnet.SGD(0.1, 0.9) == fastnet.reference.SGD(learning_rate=0.1, momentum=0.9)


@pytest.mark.parametrize("name", PER_BACKEND)
def test_per_backend_objects_differ_but_look_alike(name):
    compiled, reference = getattr(fastnet, name), getattr(fastnet.reference, name)
    assert compiled is not reference
    assert compiled.__name__ == reference.__name__ == name
    assert compiled.__module__ == "fastnet" and reference.__module__ == "fastnet.reference"
    assert inspect.signature(compiled) == inspect.signature(reference)
    assert compiled.__doc__ and compiled.__doc__ == reference.__doc__


def test_ops_modules():
    assert fastnet.ops.__name__ == "fastnet._ops"
    assert fastnet.reference.ops.__name__ == "fastnet.reference.ops"
    assert fastnet.Dense._ops is fastnet.ops and fastnet.reference.Dense._ops is fastnet.reference.ops


def parameters(callable_):
    return [(p.name, p.default) for p in inspect.signature(callable_).parameters.values() if p.name != "self"]


E = inspect.Parameter.empty
DESIGN_SIGNATURES = {
    "Dense": [("n_in", E), ("n_out", E), ("activation", "relu"), ("init", "he"), ("l2", 0.0), ("dtype", "float64"),
              ("seed", None)],
    "Sequential": [("layers", E), ("loss", "mse"), ("optimizer", None), ("seed", None)],
    "Sequential.fit": [("X", E), ("Y", E), ("epochs", 1), ("batch_size", 32), ("shuffle", True),
                       ("validation_data", None), ("verbose", 1), ("callbacks", None)],
    "Sequential.predict": [("X", E)],
    "Sequential.evaluate": [("X", E), ("Y", E)],
    "Sequential.train_step": [("X", E), ("Y", E)],
    "Sequential.save": [("path", E)],
    "Dense.forward": [("X", E)],
    "Dense.backward": [("dA", E)],
    "load": [("path", E)],
    "gradcheck": [("model", E), ("X", E), ("Y", E), ("eps", 1e-6)],
    "EarlyStopping": [("monitor", "val_loss"), ("patience", 5), ("min_delta", 0.0), ("restore_best_weights", True)],
    "SGD": [("learning_rate", 0.01), ("momentum", 0.0), ("nesterov", False)],
    "Adam": [("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("eps", 1e-8)],
    "NN": [("dimensions", E), ("activations", E), ("loss", E), ("optimizer", E)],
    "NN.fit": [("X", E), ("y", E), ("epochs", E), ("batch_size", E), ("print_every", math.inf)],
    "NN.predict": [("X", E)],
}


@pytest.mark.parametrize("path", list(DESIGN_SIGNATURES))
def test_signatures_match_design(fn, path):
    obj = fn
    for part in path.split("."):
        obj = getattr(obj, part)
    assert parameters(obj) == DESIGN_SIGNATURES[path]


# ---------------------------------------------------------------------------- backends
def test_importing_the_reference_loads_nothing_compiled(tmp_path):
    code = (
        "import sys, fastnet.reference as R\n"
        "m = R.Sequential([R.Dense(2, 1, activation='sigmoid', seed=0)], loss='binary_cross_entropy')\n"
        "m.fit([[1, 2], [3, 4]], [1, 0], epochs=2, verbose=0); m.predict([[0, 0]])\n"
        "print(' '.join(sorted(k for k in sys.modules if k.startswith('fastnet'))))\n"
        "import fastnet; fastnet.SGD; fastnet.reference.SGD\n"
        "print(' '.join(sorted(k for k in sys.modules if k.startswith('fastnet'))))\n"
        "fastnet.Dense\n"
        "print(' '.join(sorted(k for k in sys.modules if k.startswith('fastnet'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    after_reference, after_shared_names, after_dense = (set(line.split()) for line in out.stdout.splitlines())
    for loaded in (after_reference, after_shared_names):
        assert "fastnet.reference" in loaded
        assert not loaded & {"fastnet._ops", "fastnet._kernels", "fastnet._compiled", "fastnet._engine"}, loaded
    assert "fastnet._ops" in after_dense  # the check above can fail: touching fastnet.Dense loads the core


def test_mixing_backends_is_a_value_error():
    with pytest.raises(ValueError, match=r"layers\[0\] is a fastnet.reference.Dense but this is fastnet.Sequential"):
        fastnet.Sequential([fastnet.reference.Dense(3, 2)])
    with pytest.raises(ValueError, match=r"layers\[1\] is a fastnet.Dense .*build every layer from one backend"):
        fastnet.reference.Sequential([fastnet.reference.Dense(3, 4), fastnet.Dense(4, 2)])
    with pytest.raises(ValueError, match=r"one backend"):
        fastnet.Sequential([fastnet.Dense(3, 4), fastnet.reference.Dense(4, 2)])


def test_base_classes_are_not_usable_directly():
    from fastnet.layers import Dense

    with pytest.raises(TypeError, match="use fastnet.Dense or fastnet.reference.Dense"):
        Dense(3, 2)


def test_same_seed_same_initial_weights_in_both_backends():
    for init in ("he", "xavier", "glorot", "lecun"):
        a = fastnet.Dense(5, 4, init=init, seed=9)
        b = fastnet.reference.Dense(5, 4, init=init, seed=9)
        assert a.W.tobytes() == b.W.tobytes() and not b.b.any()
    assert fastnet.Dense(5, 4, seed=1).W.tobytes() != fastnet.Dense(5, 4, seed=2).W.tobytes()


# ---------------------------------------------------------------------------- dtypes and defaults
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_model_dtype_is_kept_end_to_end(fn, dtype):
    model = mse_model(fn, fn.Adam(0.01), dtype=dtype)
    X, Y = regression()
    assert model.dtype == np.dtype(dtype)
    model.fit(X.astype(np.float16), Y, epochs=1, verbose=0)
    assert all(w.dtype == np.dtype(dtype) and w.flags.c_contiguous for w in model.get_weights())
    assert all(state.dtype == np.dtype(dtype) for slots in model.optimizer_state.slots for state in slots.values())
    assert model.predict(X).dtype == np.dtype(dtype)
    assert model.layers[0].forward(X).dtype == np.dtype(dtype)
    assert model.layers[0].backward(np.ones((30, 6))).dtype == np.dtype(dtype)
    assert model.layers[0].dW.dtype == np.dtype(dtype)
    assert isinstance(model.train_step(X, Y), float)
    assert all(isinstance(v, float) for v in model.evaluate(X, Y).values())


def test_defaults(fn):
    layer = fn.Dense(3, 2)
    assert layer.activation == "relu" and layer.init == "he" and layer.l2 == 0.0 and layer.dtype == np.float64
    model = fn.Sequential([layer])
    assert model.loss == "mse" and model.optimizer == fn.SGD() and model.seed is None
    assert fn.Sequential([fn.Dense(3, 2)], optimizer=fn.Adam).optimizer == fn.Adam()
    assert fn.Sequential(fn.Dense(3, 2)).layers[0].n_in == 3  # a single layer is accepted
    assert isinstance(model.layers, tuple)  # fixed at construction: engines cache the layer sizes
    repr(model), repr(layer), repr(fn.History())


@pytest.mark.parametrize(
    "spelling, name",
    [("ReLU", "relu"), ("Sigmoid", "sigmoid"), ("Identity", "identity"), ("Tanh", "tanh"),
     ("LeakyReLU", "leaky_relu"), ("Softmax", "softmax")],
)
def test_activation_classes_and_strings(fn, spelling, name):
    assert fn.Dense(3, 2, activation=getattr(fn, spelling)).activation == name
    assert fn.Dense(3, 2, activation=name.upper()).activation == name


def test_loss_classes_and_strings(fn):
    assert fn.Sequential([fn.Dense(3, 2)], loss=fn.MSE).loss == "mse"
    assert fn.Sequential([fn.Dense(3, 2, activation="softmax")], loss=fn.CrossEntropy).loss == "cross_entropy"
    assert fn.Sequential([fn.Dense(3, 2, activation="sigmoid")], loss=fn.BinaryCrossEntropy).loss == (
        "binary_cross_entropy")


# ---------------------------------------------------------------------------- fit, History, callbacks
def test_history_and_logs(fn):
    model = ce_model(fn)
    X, y = classification()
    Xv, yv = classification(12, seed=1)
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
    X, Y = regression()
    history = model.fit(X, Y, epochs=1, verbose=0, validation_data=(X, Y))
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    assert set(model.evaluate(X, Y)) == {"loss", "mae"}
    A = model.predict(X)
    assert math.isclose(model.evaluate(X, Y)["mae"], float(np.abs(A - Y).mean()), rel_tol=1e-9)
    assert math.isclose(model.evaluate(X, Y)["loss"], float(((A - Y) ** 2).mean()), rel_tol=1e-9)


def test_bce_reports_accuracy(fn):
    model = fn.Sequential([fn.Dense(3, 2, activation="sigmoid", seed=0)], loss="binary_cross_entropy")
    X, Y = regression()
    Y = (Y > 0).astype(float)
    logs = model.evaluate(X, Y)
    assert set(logs) == {"loss", "accuracy"}
    assert logs["accuracy"] == float(((model.predict(X) > 0.5) == (Y > 0.5)).mean())


def test_epoch_loss_is_the_batch_weighted_mean_of_batch_losses(fn):
    X, Y = regression(10)
    model, twin = mse_model(fn), mse_model(fn)
    history = model.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    losses = [twin.train_step(X[s:s + 4], Y[s:s + 4]) for s in (0, 4, 8)]
    want = (4 * losses[0] + 4 * losses[1] + 2 * losses[2]) / 10
    assert math.isclose(history.history["loss"][0], want, rel_tol=1e-9)
    assert model.steps == 3
    for a, b in zip(model.get_weights(), twin.get_weights()):
        assert_close(a, b, TRAINING_TOL[np.float64])


def test_train_step_returns_the_loss_before_the_step(fn):
    model = mse_model(fn)
    X, Y = regression()
    before = model.evaluate(X, Y)["loss"]
    assert math.isclose(model.train_step(X, Y), before, rel_tol=1e-9)
    assert model.evaluate(X, Y)["loss"] < before


def test_zero_epochs(fn):
    model = mse_model(fn)
    weights = model.get_weights()
    history = model.fit(*regression(), epochs=0, verbose=0)
    assert history.epoch == [] and history.history == {}
    assert same_weights(weights, model.get_weights())


def test_callback_returning_true_stops_and_train_end_still_runs(fn):
    model = mse_model(fn)
    recorder = Recorder(stop_at=1)
    history = model.fit(*regression(), epochs=10, verbose=0, callbacks=recorder)
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

    mse_model(fn).fit(*regression(), epochs=2, verbose=0, callbacks=(OnlyEpochs(), Sub(), fn.Callback()))
    assert seen == [0, ("sub", 0), 1, ("sub", 1)]


def test_successive_fits_continue_the_shuffle_stream(fn):
    X, Y = regression()
    a, b = mse_model(fn), mse_model(fn)
    a.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    b.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    b.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    assert same_weights(a.get_weights(), b.get_weights())
    c = mse_model(fn, seed=5)
    c.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    assert not same_weights(a.get_weights(), c.get_weights())  # the seed does pick the batches


# ---------------------------------------------------------------------------- EarlyStopping
def test_early_stopping_restores_the_best_weights(fn):
    model = mse_model(fn)
    X, Y = regression()
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
    model.fit(*regression(), epochs=10, verbose=0, callbacks=[recorder, stopper])
    assert recorder.calls == ["begin", 0, 1, "end"]
    assert same_weights(model.get_weights(), recorder.weights[1])


def test_early_stopping_on_validation_loss_and_reuse(fn):
    X, Y = regression()
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
    X, y = classification()
    stopper = fn.EarlyStopping(monitor="accuracy", patience=0)
    assert stopper.maximize
    history = ce_model(fn).fit(X, y, epochs=20, verbose=0, callbacks=[stopper])
    acc = history.history["accuracy"]
    # patience=0 stops at the first epoch that does not beat the best so far
    assert all(b > a for a, b in zip(acc[:-2], acc[1:-1]))
    assert 1 < len(acc) < 20  # this run does stop early
    assert stopper.stopped_epoch == len(acc) - 1 and acc[-1] <= max(acc[:-1])
    assert stopper.best == max(acc) == acc[stopper.best_epoch]


# ---------------------------------------------------------------------------- progress output
def test_verbose_0_is_silent(fn, capsys):
    mse_model(fn).fit(*regression(), epochs=2, verbose=0, validation_data=regression(5))
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("verbose", [1, 2])
def test_epoch_lines_on_a_pipe(fn, capsys, verbose):
    mse_model(fn).fit(*regression(), epochs=3, verbose=verbose, validation_data=regression(5))
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
    mse_model(fn).fit(*regression(), epochs=2, batch_size=4, verbose=verbose)
    text = terminal.getvalue()
    assert ("[" in text and "8/8" in text and "\r" in text) is bar
    final_lines = [line.rsplit("\r", 1)[-1] for line in text.split("\n") if line]
    assert [line.split(" - ")[0] for line in final_lines] == ["Epoch 1/2", "Epoch 2/2"]


# ---------------------------------------------------------------------------- NN (seed 002)
def test_nn_draws_from_the_global_random_state(fn):
    np.random.seed(1)
    net = fn.NN((4, 5, 2), (fn.ReLU, fn.Sigmoid), fn.MSE, fn.SGD(learning_rate=2.0))
    np.random.seed(1)
    W0 = np.random.randn(4, 5) / np.sqrt(4)
    W1 = np.random.randn(5, 2) / np.sqrt(5)
    assert net.layers[0].W.tobytes() == W0.tobytes() and net.layers[1].W.tobytes() == W1.tobytes()
    assert not net.layers[0].b.any() and not net.layers[1].b.any()
    assert [layer.activation for layer in net.layers] == ["relu", "sigmoid"]
    assert net.model.loss == "mse" and net.model.optimizer == fn.SGD(learning_rate=2.0)
    assert isinstance(net.model, fn.Sequential) and all(isinstance(layer, fn.Dense) for layer in net.layers)


def test_nn_is_reproducible_with_np_random_seed(fn):
    X, Y = regression()
    Y = 1 / (1 + np.exp(-Y))

    def run():
        np.random.seed(1)
        net = fn.NN([3, 8, 2], ["relu", fn.Sigmoid], "mse", fn.SGD(learning_rate=0.5))
        history = net.fit(X, Y, epochs=3, batch_size=7)
        return net, history

    (a, ha), (b, hb) = run(), run()
    assert ha.history == hb.history and same_weights(a.model.get_weights(), b.model.get_weights())
    assert a.model.steps == 3 * 5  # the last partial batch is used
    assert a.predict(X).shape == (30, 2)
    np.random.seed(2)
    c = fn.NN([3, 8, 2], ["relu", fn.Sigmoid], "mse", fn.SGD(learning_rate=0.5))
    c.fit(X, Y, epochs=3, batch_size=7)
    assert not same_weights(a.model.get_weights(), c.model.get_weights())


def test_nn_weights_agree_across_backends():
    nets = []
    for fn in BACKENDS:
        np.random.seed(3)
        nets.append(fn.NN([3, 4, 2], [fn.Tanh, fn.Identity], fn.MSE, fn.Adam()))
    assert same_weights(nets[0].model.get_weights(), nets[1].model.get_weights())


def test_nn_print_every(fn, capsys):
    np.random.seed(0)
    net = fn.NN([3, 4, 2], [fn.LeakyReLU, fn.Identity], fn.MSE, fn.SGD(0.01))
    X, Y = regression()
    net.fit(X, Y, epochs=4, batch_size=10, print_every=2)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["[2]", "[4]"] and err == ""
    assert math.isclose(float(lines[-1].split(": ")[1]), net.model.evaluate(X, Y)["loss"], rel_tol=1e-9)
    net.fit(X, Y, epochs=2, batch_size=10)
    assert capsys.readouterr() == ("", "")


# ---------------------------------------------------------------------------- optimiser state across fits
@pytest.mark.parametrize("optimizer", [lambda fn: fn.SGD(0.05, momentum=0.9), lambda fn: fn.SGD(0.05, 0.9, True),
                                       lambda fn: fn.Adam(0.01)], ids=["momentum", "nesterov", "adam"])
def test_optimizer_state_continues_across_fit_calls(fn, tmp_path, optimizer):
    X, Y = regression()
    straight, split, saved = (mse_model(fn, optimizer(fn)) for _ in range(3))
    straight.fit(X, Y, epochs=3, batch_size=8, verbose=0)
    for _ in range(3):
        split.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    saved.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    saved.save(tmp_path / "m.npz")
    saved = fn.load(tmp_path / "m.npz")
    saved.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    for model in (split, saved):
        assert model.steps == straight.steps == 12
        assert same_weights(straight.get_weights(), model.get_weights())
        for a, b in zip(straight.optimizer_state.slots, model.optimizer_state.slots):
            assert all(a[k].tobytes() == b[k].tobytes() for k in a)
    # and the state matters: a model whose state is reset each time ends elsewhere
    reset = mse_model(fn, optimizer(fn))
    for _ in range(3):
        reset.set_optimizer_state(None)
        reset.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    assert not same_weights(straight.get_weights(), reset.get_weights())


def test_train_step_and_fit_share_the_optimizer_state(fn):
    X, Y = regression(8)
    a, b = mse_model(fn, fn.Adam(0.01)), mse_model(fn, fn.Adam(0.01))
    a.train_step(X, Y)
    a.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    b.fit(X, Y, epochs=2, batch_size=8, verbose=0, shuffle=False)
    assert a.steps == b.steps == 2
    for x, y in zip(a.get_weights(), b.get_weights()):
        assert_close(x, y, TRAINING_TOL[np.float64])


# ---------------------------------------------------------------------------- divergence
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_diverging_fit_keeps_the_last_finite_epoch(fn):
    X, Y = regression()
    model = mse_model(fn, fn.SGD(learning_rate=3.0, momentum=0.5))
    recorder = Recorder()
    with pytest.raises(FloatingPointError, match=r"loss became (nan|inf|-inf) at epoch (\d+), batch (\d+)") as info:
        model.fit(X, Y, epochs=500, batch_size=10, verbose=0, callbacks=[recorder])
    finite_epochs = len(recorder.weights)
    assert finite_epochs >= 1
    assert f"at epoch {finite_epochs + 1}," in str(info.value)
    assert f"end of epoch {finite_epochs}" in str(info.value)
    assert same_weights(model.get_weights(), recorder.weights[-1])
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert model.steps == 3 * finite_epochs
    assert all(np.isfinite(v).all() for slots in model.optimizer_state.slots for v in slots.values())


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_in_the_first_epoch_restores_the_initial_weights(fn):
    X, Y = regression()
    layers = [fn.Dense(3, 6, activation="identity", seed=1), fn.Dense(6, 2, activation="identity", seed=2)]
    model = fn.Sequential(layers, optimizer=fn.SGD(learning_rate=1e6), seed=4)
    initial = model.get_weights()
    with pytest.raises(FloatingPointError, match=r"at epoch 1, batch [2-9].*end of epoch 0"):
        model.fit(X, Y, epochs=3, batch_size=5, verbose=0)
    assert same_weights(initial, model.get_weights())
    assert model.steps == 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_train_step_with_an_infinite_loss_changes_nothing(fn):
    X, Y = regression()
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


# ---------------------------------------------------------------------------- Ctrl-C
def test_ctrl_c_stops_fit_after_the_current_batch(fn):
    X, Y = regression(20)
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
