"""Models and layers whose arrays are read-only memory maps (joblib.load(..., mmap_mode="r"), or
what loky hands its workers): inference works, writes are refused with a clear error, never
written through a pointer, and a copy trains."""

import copy

import numpy as np
import pytest

from helpers import BACKEND_IDS, BACKENDS, require

joblib = require("joblib")


def memory_mapped(obj, tmp_path):
    path = tmp_path / "obj.joblib"
    joblib.dump(obj, path)
    return joblib.load(path, mmap_mode="r")


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_a_memory_mapped_layer_refuses_writes_and_still_computes(backend, tmp_path):
    layer = memory_mapped(backend.Dense(4, 3, seed=0), tmp_path)
    assert not layer.W.flags.writeable
    W = layer.W.copy()
    for value in (np.ones((4, 3)), np.ones((4, 3), dtype=">f8"), layer.W):
        with pytest.raises(ValueError, match="read-only"):
            layer.W = value if value is not layer.W else np.zeros((4, 3))
    assert np.array_equal(layer.W, W)
    X = np.ones((2, 4))
    A = layer.forward(X)
    assert np.allclose(A, np.maximum(X @ W, 0))
    with pytest.raises(ValueError, match="read-only"):
        layer.backward(np.ones((2, 3)))


@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_a_memory_mapped_model_predicts_refuses_training_and_its_copy_trains(backend, tmp_path):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(32, 4)), rng.normal(size=(32, 2))
    model = backend.Sequential([backend.Dense(4, 5, "tanh", seed=0), backend.Dense(5, 2, "identity", seed=1)],
                               optimizer=backend.Adam(0.01), seed=0)
    model.fit(X, Y, epochs=1, verbose=0)
    mapped = memory_mapped(model, tmp_path)
    assert np.array_equal(mapped.predict(X), model.predict(X))
    weights = [w.copy() for w in mapped.get_weights()]
    for train in (lambda: mapped.fit(X, Y, epochs=1, verbose=0), lambda: mapped.train_step(X, Y)):
        with pytest.raises(ValueError, match="read-only"):
            train()
    assert all(np.array_equal(a, b) for a, b in zip(mapped.get_weights(), weights))
    twin = copy.deepcopy(mapped)
    twin.fit(X, Y, epochs=1, verbose=0)
    model.fit(X, Y, epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(twin.get_weights(), model.get_weights()))
