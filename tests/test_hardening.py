"""Hardening: no leaks over many cycles, crash-safe saves, extreme logits, float32 end to end."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import fastnet
import fastnet.reference

from helpers import BACKEND_IDS, BACKENDS

pytestmark = pytest.mark.filterwarnings("error")  # any numpy warning here is a failure


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_resident_memory_is_flat_over_1000_cycles(tmp_path):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((32, 8)), rng.integers(0, 3, size=32)
    path = tmp_path / "m.npz"

    def cycle(seed):
        model = fastnet.Sequential(
            [fastnet.Dense(8, 16, "relu", seed=seed), fastnet.Dense(16, 3, "softmax", seed=seed)],
            loss="cross_entropy", optimizer=fastnet.Adam(1e-2), seed=seed,
        )
        model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
        model.predict(X)
        model.save(path)
        fastnet.load(path).predict(X[:1])

    for seed in range(200):  # warm-up: caches, allocator arenas
        cycle(seed)
    before = resident_bytes()
    for seed in range(1000):
        cycle(seed)
    grown = resident_bytes() - before
    assert grown < 4 * 1024 * 1024, f"resident memory grew by {grown / 1e6:.1f} MB over 1000 cycles"


SAVER = textwrap.dedent(
    """
    import sys, numpy as np, fastnet
    layer = fastnet.Dense(2000, 2000, "identity", seed=1)
    model = fastnet.Sequential([layer])
    print("ready", flush=True)
    while True:  # keep rewriting the file until killed
        layer.W[0, 0] += 1.0
        model.save(sys.argv[1])
    """
)


def test_a_process_killed_while_saving_never_damages_the_saved_file(tmp_path):
    path = tmp_path / "model.npz"
    original = fastnet.Sequential([fastnet.Dense(2000, 2000, "identity", seed=1)])
    original.save(path)
    for delay in (0.05, 0.2, 0.5):
        with subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE) as child:
            assert child.stdout.readline().strip() == b"ready"
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
        loaded = fastnet.load(path)  # whichever complete version was last renamed into place
        W = loaded.layers[0].W
        assert np.array_equal(W[1:], original.layers[0].W[1:]) and W[0, 0] >= original.layers[0].W[0, 0]
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert all(p.startswith(".model.npz.") for p in leftovers)  # a killed save can leave only its own temp


HEADS = [("mse", "sigmoid"), ("mse", "tanh"), ("mse", "softmax"), ("cross_entropy", "softmax"),
         ("binary_cross_entropy", "sigmoid")]


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
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


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_float32_is_never_upcast(fn, monkeypatch):
    """Every array the ops receive from a float32 model is float32 (ids excepted)."""
    seen = []
    ops = fn.Dense._ops

    class Spy:
        def __getattr__(self, name):
            real = getattr(ops, name)

            def spy(*args):
                seen.extend(a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f")
                return real(*args)

            return spy

    monkeypatch.setattr(fn.Dense, "_ops", Spy())
    layers = [fn.Dense(4, 5, "tanh", dtype="float32", seed=0), fn.Dense(5, 3, "softmax", dtype="float32", seed=1)]
    model = fn.Sequential(layers, loss="cross_entropy", optimizer=fn.Adam(1e-3))
    X = np.random.default_rng(0).standard_normal((10, 4))  # float64 in: converted once
    model.evaluate(X, np.arange(10) % 3)
    model.layers[0].forward(X)
    model.layers[0].backward(np.ones((10, 5)))
    assert seen and set(seen) == {np.dtype(np.float32)}
    model.fit(X, np.arange(10) % 3, epochs=2, batch_size=4, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.predict(X).dtype == np.float32


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_weights_that_overflow_on_a_finite_loss_step_are_caught_at_the_epoch_end(fn):
    layer = fn.Dense(2, 1, "identity", seed=0)
    model = fn.Sequential([layer], loss="mse", optimizer=fn.SGD(learning_rate=1e308))
    X, Y = np.array([[10.0, 10.0]]), np.array([[1e3]])
    before = model.get_weights()
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(FloatingPointError, match="the weights became"):
        model.fit(X, Y, epochs=1, batch_size=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
