"""Arrays whose data is not aligned to their dtype (views cut from a byte buffer): every entry
point reads them as their aligned copies, through the validating path; the kernels, which load
typed values, never see a misaligned pointer."""

import warnings

import numpy as np
import pytest

from helpers import BACKEND_IDS, BACKENDS, require


def misaligned(array):
    """The same values, C-contiguous, at an odd address."""
    array = np.ascontiguousarray(array)
    raw = np.zeros(array.nbytes + 1, dtype=np.uint8)
    view = raw[1:].view(array.dtype).reshape(array.shape)
    view[...] = array
    assert not view.flags.aligned and view.flags.c_contiguous
    return view


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("backend", BACKENDS, ids=BACKEND_IDS)
def test_model_entry_points_read_misaligned_arrays(backend, dtype):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(24, 5)).astype(dtype), rng.uniform(size=(24, 3)).astype(dtype)

    def run(x, y):
        model = backend.Sequential([backend.Dense(5, 4, "tanh", dtype=dtype, seed=0),
                                    backend.Dense(4, 3, "sigmoid", dtype=dtype, seed=1)],
                                   loss="binary_cross_entropy", seed=0)
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        return model.train_step(x, y), model.evaluate(x, y), model.predict(x), model.predict(x[:1])

    for got, want in zip(run(misaligned(X), misaligned(Y)), run(X, Y)):
        assert np.array_equal(np.asarray(got if not isinstance(got, dict) else list(got.values())),
                              np.asarray(want if not isinstance(want, dict) else list(want.values())))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_calls_read_misaligned_arrays(dtype):
    import fastnet

    rng = np.random.default_rng(1)
    X, dA = rng.normal(size=(6, 5)).astype(dtype), rng.normal(size=(6, 4)).astype(dtype)
    results = []
    for x, da in ((misaligned(X), misaligned(dA)), (X, dA)):
        layer = fastnet.Dense(5, 4, "relu", dtype=dtype, seed=0)
        layer.W = misaligned(layer.W) if x is not X else layer.W
        results.append((layer.forward(x), layer.backward(da), layer.dW.copy()))
    for got, want in zip(*results):
        assert got.tobytes() == want.tobytes()


def test_estimators_read_misaligned_arrays():
    require("sklearn")
    from fastnet.sklearn import MLPClassifier

    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(60, 4)), rng.integers(0, 3, 60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = [MLPClassifier((5,), max_iter=5, random_state=0).fit(x, y) for x in (misaligned(X), X)]
    assert all(np.array_equal(a, b) for a, b in zip(fitted[0].coefs_, fitted[1].coefs_))
    assert np.array_equal(fitted[1].predict_proba(misaligned(X)), fitted[1].predict_proba(X))
