"""Sparse input to fastnet.sklearn: CSR and CSC read by the engine's sparse first layer, never
densified. Against scikit-learn (which multiplies the sparse matrix too), against fastnet on the
densified matrix, and a memory bound on an input whose dense form would not fit."""

import tracemalloc
import warnings

import numpy as np
import pytest

from helpers import require
from sklearn_helpers import assert_same_fit

sklearn = require("sklearn")
scipy_sparse = require("scipy.sparse")
from sklearn import neural_network as reference  # noqa: E402

from fastnet import sklearn as fast  # noqa: E402
from fastnet._sparse import CSRRows  # noqa: E402


def sparse_problem(rows=160, cols=40, density=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = scipy_sparse.random(rows, cols, density=density, format="csr", random_state=seed, dtype=np.float64)
    y = (np.asarray(X[:, :5].sum(axis=1)).ravel() > 0.1).astype(int) + (rng.random(rows) > 0.7)
    return X, y


def fit(module, X, y, **params):
    est = module.MLPClassifier(**{"hidden_layer_sizes": (9,), "max_iter": 6, "random_state": 0, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


@pytest.mark.parametrize("layout", ["csr", "csc"])
@pytest.mark.parametrize("params", [{"solver": "adam"}, {"solver": "sgd", "batch_size": 37},
                                    {"solver": "lbfgs"}, {"solver": "adam", "early_stopping": True},
                                    {"solver": "sgd", "shuffle": False, "alpha": 0.1}],
                         ids=["adam", "sgd", "lbfgs", "early stopping", "no shuffle"])
def test_sparse_fits_equal_scikit_learn(params, layout):
    X, y = sparse_problem()
    X = X.asformat(layout)
    ours, theirs = fit(fast, X, y, **params), fit(reference, X, y, **params)
    assert_same_fit(ours, theirs, X, 1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_equals_dense_input(dtype):
    X, y = sparse_problem(seed=1)
    X = X.astype(dtype)
    sparse, dense = fit(fast, X, y), fit(fast, X.toarray(), y)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for a, b in zip(sparse.coefs_ + sparse.intercepts_, dense.coefs_ + dense.intercepts_):
        assert a.dtype == dtype
        assert np.abs(a - b).max() <= tol * np.abs(b).max()
    assert np.abs(sparse.predict_proba(X) - dense.predict_proba(X.toarray())).max() <= tol


def test_a_matrix_whose_dense_form_would_not_fit_trains_in_bounded_memory():
    """2 000 × 1 000 000 with 5 stored values a row: 16 GB dense, a few MB stored. The fit's
    peak allocation stays within a small multiple of the first layer's weights (8 MB here)."""
    rng = np.random.default_rng(0)
    rows, cols, per_row = 2_000, 1_000_000, 5
    indices = rng.integers(0, cols, size=rows * per_row)
    X = scipy_sparse.csr_matrix((rng.random(rows * per_row), indices, np.arange(0, rows * per_row + 1, per_row)),
                                shape=(rows, cols))
    y = rng.integers(0, 2, size=rows)
    tracemalloc.start()
    try:
        est = fit(fast, X, y, hidden_layer_sizes=(1,), max_iter=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    weights_bytes = cols * 1 * 8
    assert peak < 12 * weights_bytes, f"peak {peak / 2**20:.0f} MiB"
    assert est.predict(X[:3]).shape == (3,)


def test_csr_rows_refuse_what_would_read_outside_them():
    data, indices, indptr = np.ones(3), np.array([0, 2, 1]), np.array([0, 2, 3])
    CSRRows(data, indices, indptr, 3)
    with pytest.raises(ValueError, match=r"column indices must lie in \[0, 2\)"):
        CSRRows(data, indices, indptr, 2)
    with pytest.raises(ValueError, match="indptr must rise"):
        CSRRows(data, indices, np.array([0, 3, 2]), 3)
    with pytest.raises(ValueError, match="indptr must rise"):
        CSRRows(data, indices, np.array([0, 2, 4]), 3)
    with pytest.raises(TypeError, match="data must be float32 or float64"):
        CSRRows(np.ones(3, np.int64), indices, indptr, 3)
