"""Scale-out: a search and independent fits of fastnet.sklearn estimators under each joblib backend —
threads, loky processes (which receive inputs over 1 MB as read-only memory maps), a Dask distributed
cluster and Ray — give the serial run's results bit for bit."""

import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from helpers import require

sklearn = require("sklearn")
import joblib  # noqa: E402  (scikit-learn's dependency)
from sklearn.model_selection import GridSearchCV  # noqa: E402

import fastnet  # noqa: E402
from fastnet.data import load_digits  # noqa: E402
from fastnet.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

from scaleout_helpers import fit_reporting_input  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
TESTS = str(Path(__file__).resolve().parent)  # the workers import scaleout_helpers from here
BACKENDS = ["threading", "loky", "dask", "ray"]


@pytest.fixture(scope="module")
def dask_cluster():
    """Two single-threaded worker processes on the loopback interface, shut down after the module."""
    require("dask")
    distributed = require("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray instance with 2 CPUs kept on the loopback interface (Ray reads
    RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 when imported), its session files in a short temporary folder
    (unix socket paths are limited to about 107 characters) and HOME there too (Ray writes an
    authentication token into the home folder); shut down after the module. Its workers import this
    folder's helpers and the fastnet this process imported."""
    temp = tempfile.mkdtemp(prefix="ray")
    path = os.pathsep.join([TESTS, str(Path(fastnet.__file__).parent.parent),
                            *filter(None, [os.environ.get("PYTHONPATH")])])
    with pytest.MonkeyPatch.context() as env:
        env.setenv("HOME", temp)
        env.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        env.setenv("RAY_USAGE_STATS_ENABLED", "0")
        ray = require("ray")
        from ray.util.joblib import register_ray

        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", _temp_dir=f"{temp}/r",
                 log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": path}})
        try:
            assert ray.nodes()[0]["NodeManagerAddress"] == "127.0.0.1", "ray was imported before the test set it up"
            register_ray()
            yield ray
        finally:
            ray.shutdown()
            shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """A joblib backend's name, its cluster started (once per module) for Dask and Ray."""
    if request.param in ("dask", "ray"):
        request.getfixturevalue(f"{request.param}_cluster")
    return request.param


def assert_same_fit(ours, theirs):
    """The same fitted estimator, bit for bit."""
    assert type(ours) is type(theirs)
    for got, want in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True):
        assert got.dtype == want.dtype and np.array_equal(got, want)
    assert ours.loss_curve_ == theirs.loss_curve_
    assert (ours.n_iter_, ours.t_, ours.loss_) == (theirs.n_iter_, theirs.t_, theirs.loss_)


# ---------------------------------------------------------------------------- a search
@cache
def digits():
    X, y = load_digits()
    return X[:300] / 16.0, y[:300]


def grid_search(n_jobs):
    search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(16,), max_iter=8, random_state=0),
                          {"alpha": [1e-4, 1e-2], "learning_rate_init": [1e-3, 1e-2]}, cv=3, n_jobs=n_jobs)
    return search.fit(*digits())


@cache
def serial_search():
    return grid_search(n_jobs=1)


def test_grid_search_in_parallel_equals_serial(backend):
    """12 fits (4 candidates × 3 folds) on 2 workers: every split's score, the ranking and the refit
    best estimator as in the serial search."""
    with joblib.parallel_backend(backend):
        search = grid_search(n_jobs=2)
    serial = serial_search()
    for key in [f"split{i}_test_score" for i in range(3)] + ["mean_test_score", "rank_test_score"]:
        assert np.array_equal(search.cv_results_[key], serial.cv_results_[key]), key
    assert search.best_params_ == serial.best_params_
    assert_same_fit(search.best_estimator_, serial.best_estimator_)


# ---------------------------------------------------------------------------- independent fits
@cache
def wide_data():
    """2 500 × 64 float64, 1.3 MB: over joblib's 1 MB threshold, so loky memory-maps X."""
    rng = np.random.default_rng(0)
    X = rng.random((2500, 64))
    return X, X[:, :3].argmax(axis=1), X[:, :4].sum(axis=1)


def estimators():
    """Two classifiers and two regressors of different seeds."""
    return [*(MLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=seed) for seed in (0, 1)),
            *(MLPRegressor(hidden_layer_sizes=(16,), max_iter=5, random_state=seed) for seed in (0, 1))]


def fit_all(parallel):
    X, labels, values = wide_data()
    jobs = [joblib.delayed(fit_reporting_input)(est, X, labels if isinstance(est, MLPClassifier) else values)
            for est in estimators()]
    return parallel(jobs)


@cache
def serial_fits():
    return [fitted for fitted, _, _ in fit_all(lambda jobs: [f(*args, **kwargs) for f, args, kwargs in jobs])]


def test_independent_fits_in_parallel_equal_serial(backend):
    """joblib.Parallel(n_jobs=2) over four fits (prefer="threads" for the threading backend). Loky's
    workers get X as a read-only memory map and Ray's as a read-only array from its object store:
    the fits read them in place and give the same numbers."""
    with joblib.parallel_backend(backend):
        results = fit_all(joblib.Parallel(n_jobs=2, prefer="threads" if backend == "threading" else None))
    for (fitted, arrived_as, writeable), serial in zip(results, serial_fits(), strict=True):
        assert_same_fit(fitted, serial)
        if backend == "loky":
            assert (arrived_as, writeable) == ("memmap", False)
        elif backend == "ray":
            assert not writeable
    if backend == "threading":
        assert all(arrived_as == "ndarray" and writeable for _, arrived_as, writeable in results)



# ---------------------------------------------------------------------------- a read-only memory map, not copied
SMALL = dict(hidden_layer_sizes=(8,), max_iter=2, random_state=0)
FITS = {
    "classifier fit": lambda X, labels, values: MLPClassifier(**SMALL).fit(X, labels),
    "regressor fit": lambda X, labels, values: MLPRegressor(**SMALL).fit(X, values),
    "partial_fit": lambda X, labels, values: MLPClassifier(**SMALL).partial_fit(X, labels, classes=[0, 1, 2]),
}


@pytest.mark.parametrize("fit", list(FITS))
def test_fit_reads_a_read_only_memory_map_in_place(fit, tmp_path):
    """What loky's workers receive: a dense C-contiguous float64 np.memmap opened read-only. With
    shuffle=True (the default; no early stopping, whose split copies its rows) the fit reads it in
    place: its peak allocation (the targets, the row order, the engine's buffers) stays under a fifth
    of X.nbytes, where a copy would take all of it; the numbers are those of an in-memory array."""
    import tracemalloc

    rows, width = 40_000, 64  # 20 MB
    X = np.memmap(tmp_path / "X.f64", dtype=np.float64, mode="w+", shape=(rows, width))
    X[:] = np.random.default_rng(0).random((rows, width))
    X.flush()
    X = np.memmap(tmp_path / "X.f64", dtype=np.float64, mode="r", shape=(rows, width))
    labels, values = X[:, :3].argmax(axis=1), np.asarray(X[:, :4].sum(axis=1))
    assert not X.flags.writeable and X.flags.c_contiguous
    tracemalloc.start()
    try:
        fitted = FITS[fit](X, labels, values)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 5, f"peak {peak / 1e6:.1f} MB for X of {X.nbytes / 1e6:.1f} MB"
    assert_same_fit(fitted, FITS[fit](np.array(X), labels, values))
