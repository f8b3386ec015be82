"""Memory: the compiled engine allocates nothing per step, grows its workspace to the largest batch and
keeps predict's bounded; and many model lifetimes leave resident memory flat."""

from __future__ import annotations

import os
import tracemalloc

import numpy as np
import pytest

import fastnet
import fastnet.reference

from helpers import assert_close, digits_data, digits_like


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
    X, Y = digits_data()
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
    X, Y = digits_data()
    model = digits_like(fastnet, fastnet.SGD(0.1))
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0)
    engine = model._engine()
    assert engine.capacity >= 16
    count = engine.allocations
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
    assert engine.allocations == count
    model.fit(X, Y, epochs=1, batch_size=100, verbose=0)
    assert engine.capacity >= 100 and engine.allocations == count + 1


@pytest.mark.parametrize("rows, width", [(1000, 3000), (3000, 4096)], ids=["fast-path-size", "beyond-fast-path"])
def test_predict_keeps_the_workspace_bounded(rows, width):
    """A batch the fast path could take by its size, and one beyond it: with wide layers both run in
    chunks of a workspace of at most about PREDICT_WORKSPACE_BYTES."""
    layers = [fastnet.Dense(8, width, "relu", seed=0), fastnet.Dense(width, width, "relu", seed=1)]
    model = fastnet.Sequential(layers, loss="mse")
    X = np.random.default_rng(0).standard_normal((rows, 8))
    out = model.predict(X)
    (used,) = model._engine().inference_rows  # one call: one set of inference rows
    assert used.capacity * used.row_bytes <= 2 * fastnet._predict.PREDICT_WORKSPACE_BYTES
    assert used.capacity < rows
    reference = fastnet.reference.Sequential(
        [fastnet.reference.Dense(8, width, "relu", seed=0), fastnet.reference.Dense(width, width, "relu", seed=1)]
    )
    assert_close(out, reference.predict(X), 1e-12)


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.filterwarnings("error")
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
