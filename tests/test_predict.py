"""predict: the compiled engine's small-batch fast path (what predict_common admits) and chunked path
against the reference, and inputs that are not finite or overflow the network."""

from __future__ import annotations

import numpy as np
import pytest

import fastnet
from fastnet import _predict
from fastnet.model import PREDICT_CHUNK_ROWS

from helpers import TRAINING_TOL, assert_close, digits_data, digits_like


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_paths_match_the_reference(dtype):
    X, _ = digits_data(PREDICT_CHUNK_ROWS + 37)  # more than one chunk
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


def test_big_endian_input_predicts_the_same(fn):
    model = fn.Sequential([fn.Dense(4, 3, "softmax", seed=0)], loss="cross_entropy")
    X = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_array_equal(model.predict(X.astype(">f8")), model.predict(X))


# ---------------------------------------------------------------------------- the fast path
def test_what_the_fast_path_admits():
    model = digits_like(fastnet, fastnet.SGD(0.1))
    net = model._engine()
    X = np.random.default_rng(0).uniform(size=(1025, 64))
    for admitted in (X[:5], X[:1], X[:1024]):
        assert _predict.predict_common(net, admitted).shape == (admitted.shape[0], 10)
    refused = {
        "a list": X[:5].tolist(),
        "1-D": X[0],
        "another dtype": X[:5].astype(np.float32),
        "big-endian": X[:5].astype(">f8"),
        "Fortran order": np.asfortranarray(X[:5]),
        "a strided view": X[:10:2],
        "another width": X[:5, :63].copy(),
        "no rows": X[:0],
        "more than 1024 rows": X,
    }
    for what, value in refused.items():
        assert _predict.predict_common(net, value) is None, what
    float32 = digits_like(fastnet, fastnet.SGD(0.1), "float32")._engine()
    assert _predict.predict_common(float32, X[:5].astype(np.float32)) is not None
    assert _predict.predict_common(float32, X[:5]) is None


def test_predict_common_matches_predict_and_names_a_bad_entry():
    model = digits_like(fastnet, fastnet.SGD(0.1))
    net = model._engine()
    X = np.random.default_rng(0).uniform(size=(7, 64))
    got = _predict.predict_common(net, X)
    assert got.shape == (7, 10) and got.dtype == np.float64 and got.flags.c_contiguous
    assert_close(got, digits_like(fastnet.reference, fastnet.SGD(0.1)).predict(X), TRAINING_TOL[np.float64])
    for bad, shown in ((np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")):
        X_bad = X.copy()
        X_bad[2, 61] = bad
        with pytest.raises(ValueError, match=rf"X must be finite, got {shown} at index \(2, 61\)"):
            _predict.predict_common(net, X_bad)
    model.layers[0].W[...] = 1.0  # 64 inputs of 1e307 sum past the largest double
    with pytest.raises(ValueError, match="overflow"):
        _predict.predict_common(net, np.full((2, 64), 1e307))
    assert _predict.predict_common(net, np.full((2, 64), 1e307), strict=False) is None  # the caller decides


# ---------------------------------------------------------------------------- not finite
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_predict_rejects_non_finite_input_from_the_forward_pass(bad):
    model = digits_like(fastnet, fastnet.SGD(0.1))
    X, _ = digits_data(20)
    X[3, 7] = bad
    for batch in (X, X[3:4], np.asfortranarray(X)):
        with pytest.raises(ValueError, match=r"X must be finite"):
            model.predict(batch)


def test_predict_reports_overflow_of_finite_input(fn):
    model = digits_like(fn, fn.SGD(0.1))
    model.layers[0].W[...] = 1.0  # 64 inputs of 1e307 sum past the largest double
    with pytest.raises(ValueError, match="overflow"):
        model.predict(np.full((2, 64), 1e307))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_reports_an_exp_output_that_overflows(fn, dtype):
    layer = fn.Dense(1, 2, "exp", dtype=dtype, seed=0)
    layer.W = [[1.0, -1.0]]
    model = fn.Sequential([layer], loss="mse")
    big = {"float32": 100.0, "float64": 800.0}[dtype]  # a finite Z whose exp overflows
    for rows in (1, 2000):  # the fast path and the chunked one
        with pytest.raises(ValueError, match="overflow"):
            model.predict(np.full((rows, 1), big))
    A = model.predict([[1.0], [-2.0]])
    assert_close(A, np.exp(np.array([[1.0, -1.0], [-2.0, 2.0]])).astype(dtype), TRAINING_TOL[np.dtype(dtype).type])
