"""The compiled engine: bounded memory, cache invalidation, predict paths, against the reference."""

import tracemalloc

import numpy as np
import pytest

import fastnet
import fastnet.reference
from fastnet.model import PREDICT_CHUNK_ROWS

from helpers import TRAINING_TOL, assert_close


def digits_like(fn, optimizer, dtype="float64"):
    layers = [fn.Dense(64, 15, "relu", dtype=dtype, seed=0), fn.Dense(15, 10, "sigmoid", dtype=dtype, seed=1)]
    return fn.Sequential(layers, loss="mse", optimizer=optimizer, seed=0)


def data(m=400, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(m, 64)), np.eye(10)[rng.integers(0, 10, size=m)]


def peak_bytes_of_fit(model, X, Y, batch_size):
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    model.fit(X, Y, epochs=3, batch_size=batch_size, verbose=0)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize("optimizer", [fastnet.SGD(0.5), fastnet.SGD(0.1, momentum=0.9), fastnet.Adam(1e-3)])
def test_no_allocation_grows_with_the_number_of_steps(optimizer):
    X, Y = data()
    model = digits_like(fastnet, optimizer)
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)  # warm-up: the workspace is sized for 8 rows
    engine = model._engine()
    grown = engine.allocations
    few_steps = peak_bytes_of_fit(model, X, Y, batch_size=8)  # 150 steps
    many_steps = peak_bytes_of_fit(model, X, Y, batch_size=1)  # 1200 steps, smaller batches
    assert model._engine() is engine and engine.allocations == grown
    assert many_steps <= few_steps + 16 * 1024, (few_steps, many_steps)
    for _ in range(200):
        model.train_step(X[:8], Y[:8])
    assert engine.allocations == grown


def test_workspace_grows_to_the_largest_batch_and_is_reused():
    X, Y = data()
    model = digits_like(fastnet, fastnet.SGD(0.1))
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    engine = model._engine()
    assert engine.capacity >= 16
    count = engine.allocations
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
    assert engine.allocations == count
    model.fit(X, Y, epochs=1, batch_size=100, verbose=0)
    assert engine.capacity >= 100 and engine.allocations == count + 1


def test_engine_follows_an_optimizer_change_like_the_reference():
    X, Y = data(120)
    models = [digits_like(fn, fn.SGD(0.5, momentum=0.5)) for fn in (fastnet, fastnet.reference)]
    for model in models:
        model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
        model.optimizer = fastnet.Adam(1e-2)  # new kind: fresh state, step count restarts
        model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
        model.optimizer = fastnet.Adam(5e-3)  # same kind: the state carries on
        model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    for got, want in zip(*(model.get_weights() for model in models)):
        assert_close(got, want, TRAINING_TOL[np.float64])
    assert models[0].steps == models[1].steps


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_paths_match_the_reference(dtype):
    X, _ = data(PREDICT_CHUNK_ROWS + 37)  # more than one chunk
    compiled = digits_like(fastnet, fastnet.SGD(0.1), dtype)
    reference = digits_like(fastnet.reference, fastnet.SGD(0.1), dtype)
    tol = TRAINING_TOL[np.dtype(dtype).type]
    want = reference.predict(X)
    assert_close(compiled.predict(X), want, tol)  # chunked general path
    one = X[:1].astype(dtype)
    got = compiled.predict(one)  # fast path
    assert got.dtype == np.dtype(dtype) and got.shape == (1, 10)
    assert_close(got, want[:1], tol)
    assert_close(compiled.predict(X[:5].tolist()), want[:5], tol)  # converted input
    assert_close(compiled.predict(np.asfortranarray(X[:300])), want[:300], tol)
    assert compiled.predict(X[:0]).shape == (0, 10)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_predict_rejects_non_finite_input_from_the_forward_pass(bad):
    model = digits_like(fastnet, fastnet.SGD(0.1))
    X, _ = data(20)
    X[3, 7] = bad
    for batch in (X, X[3:4], np.asfortranarray(X)):
        with pytest.raises(ValueError, match=r"X must be finite"):
            model.predict(batch)


@pytest.mark.parametrize("fn", [fastnet, fastnet.reference], ids=["compiled", "reference"])
def test_predict_reports_overflow_of_finite_input(fn):
    model = digits_like(fn, fn.SGD(0.1))
    model.layers[0].W[...] = 1.0  # 64 inputs of 1e307 sum past the largest double
    with pytest.raises(ValueError, match="overflow"):
        model.predict(np.full((2, 64), 1e307))


def test_fit_returns_at_checkpoints_during_a_long_epoch(monkeypatch):
    """Progress and Ctrl-C are served mid-epoch: the engine returns to Python at checkpoints."""
    import fastnet.engine

    monkeypatch.setattr(fastnet.engine, "CHECKPOINT_SECONDS", 0.0)  # return after every batch
    X, Y = data(64)
    model = digits_like(fastnet, fastnet.SGD(0.1))
    seen = []
    monkeypatch.setattr(fastnet.progress.Progress, "batch_end", lambda self, epoch, done, loss: seen.append(done))
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    assert seen == [1, 2, 3, 4]


def test_predict_of_a_huge_input_keeps_the_workspace_bounded():
    import fastnet.engine

    layers = [fastnet.Dense(8, 4096, "relu", seed=0), fastnet.Dense(4096, 4096, "relu", seed=1)]
    model = fastnet.Sequential(layers, loss="mse")
    X = np.random.default_rng(0).standard_normal((3000, 8))
    out = model.predict(X)
    engine = model._engine()
    assert engine.capacity * engine.row_bytes <= 2 * fastnet._predict.PREDICT_WORKSPACE_BYTES
    assert engine.capacity < 3000
    reference = fastnet.reference.Sequential(
        [fastnet.reference.Dense(8, 4096, "relu", seed=0), fastnet.reference.Dense(4096, 4096, "relu", seed=1)]
    )
    assert_close(out, reference.predict(X), 1e-12)
