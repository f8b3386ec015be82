"""Scale-out groups ``scaleout-*``: model selection and ensembles over ``fastnet.sklearn`` under
joblib's backends, wall time of the whole job, BLAS at one thread per fit everywhere.

- ``scaleout-search``: ``GridSearchCV(MLPClassifier(max_iter=30, random_state=0), grid, cv=3,
  refit=False)`` over 8 candidates (24 fits) on the digits scaled to [0, 1]. Contender "fastnet" is
  fastnet.sklearn's estimator on 2 threads (``joblib.parallel_backend("threading")``, n_jobs=2);
  "fastnet serial" n_jobs=1; "fastnet loky" n_jobs=2 in loky's processes; "fastnet dask" a Dask
  distributed cluster of 2 single-threaded worker processes; "fastnet ray" Ray's joblib backend on 2
  CPUs (its pool of worker processes is started by each search, a cost that is timed: it is what a
  search under Ray pays); scikit-learn's own MLP serial and in loky's processes.
- ``scaleout-8-fits``: 8 independent fits (``joblib.Parallel`` over 8 seeds), serial ("fastnet
  serial") against 2 threads ("fastnet").

Dask and Ray are skipped when not installed; their clusters start once, outside the timings.
ConvergenceWarnings are silenced (30 iterations on purpose). ``python bench/report.py -k scaleout``
tabulates them with their targets.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import numpy as np
import pytest
from workloads import SMOKE

pytest.importorskip("sklearn")
import joblib  # noqa: E402  (scikit-learn's dependency)
from sklearn import neural_network as reference  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from fastnet import sklearn as fast  # noqa: E402

GRID = {"hidden_layer_sizes": [(32,), (64,)], "alpha": [1e-4, 1e-3], "learning_rate_init": [1e-3, 3e-3]}
MAX_ITER = 2 if SMOKE else 30
ONE_BLAS_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# contender: (module, joblib backend, n_jobs)
SEARCH = {
    "fastnet": (fast, "threading", 2),
    "fastnet serial": (fast, "threading", 1),
    "fastnet loky": (fast, "loky", 2),
    "fastnet dask": (fast, "dask", 2),
    "fastnet ray": (fast, "ray", 2),
    "scikit-learn serial": (reference, "threading", 1),
    "scikit-learn loky": (reference, "loky", 2),
}
FITS = {"fastnet": 2, "fastnet serial": 1}  # contender: threads


@cache
def digits() -> tuple[np.ndarray, np.ndarray]:
    from fastnet.data import load_digits

    X, y = load_digits()
    return (X / 16.0)[: 200 if SMOKE else None], y[: 200 if SMOKE else None]


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[None]:
    """Two single-threaded worker processes on the loopback interface, one BLAS thread each."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, env=ONE_BLAS_THREAD) as cluster, distributed.Client(cluster):
        yield


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    """Ray on 2 CPUs, on the loopback interface (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, read when ray is
    imported), one BLAS thread per worker; its session files and HOME (where it writes an
    authentication token) in a short temporary folder, removed afterwards."""
    temp = tempfile.mkdtemp(prefix="ray")
    with pytest.MonkeyPatch.context() as env:
        for name, value in (("HOME", temp), ("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0"),
                            ("RAY_USAGE_STATS_ENABLED", "0")):
            env.setenv(name, value)
        ray = pytest.importorskip("ray")
        from ray.util.joblib import register_ray

        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", _temp_dir=f"{temp}/r",
                 log_to_driver=False, runtime_env={"env_vars": ONE_BLAS_THREAD})
        try:
            register_ray()
            yield
        finally:
            ray.shutdown()
            shutil.rmtree(temp, ignore_errors=True)


def quietly(run: Callable[[], Any]) -> Callable[[], None]:
    """``run`` with ConvergenceWarnings silenced (scikit-learn's Parallel passes the filter to its workers)
    and BLAS at one thread in this process."""

    def call() -> None:
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            run()

    return call


@pytest.mark.parametrize("contender", list(SEARCH))
def test_search(benchmark: Any, request: Any, contender: str) -> None:
    module, backend, n_jobs = SEARCH[contender]
    if backend in ("dask", "ray"):
        request.getfixturevalue(f"{backend}_cluster")
    X, y = digits()

    def search() -> None:
        estimator = module.MLPClassifier(max_iter=MAX_ITER, random_state=0)
        inner = {"inner_max_num_threads": 1} if backend == "loky" else {}  # Dask's and Ray's: ONE_BLAS_THREAD
        with joblib.parallel_config(backend=backend, **inner):
            GridSearchCV(estimator, GRID, cv=3, refit=False, n_jobs=n_jobs).fit(X, y)

    benchmark.group = "scaleout-search"
    benchmark.extra_info.update(contender=contender, backend=backend, n_jobs=n_jobs, rows=X.shape[0],
                                max_iter=MAX_ITER, fits=3 * 8)
    benchmark.pedantic(quietly(search), rounds=1 if SMOKE else 3, iterations=1, warmup_rounds=0 if SMOKE else 1)


@pytest.mark.parametrize("contender", list(FITS))
def test_eight_fits(benchmark: Any, contender: str) -> None:
    X, y = digits()

    def fit(seed: int) -> Any:
        return fast.MLPClassifier(hidden_layer_sizes=(64,), max_iter=MAX_ITER, random_state=seed).fit(X, y)

    def fits() -> None:
        joblib.Parallel(n_jobs=FITS[contender], prefer="threads")(joblib.delayed(fit)(seed) for seed in range(8))

    benchmark.group = "scaleout-8-fits"
    benchmark.extra_info.update(contender=contender, threads=FITS[contender], rows=X.shape[0], max_iter=MAX_ITER)
    benchmark.pedantic(quietly(fits), rounds=1 if SMOKE else 3, iterations=1, warmup_rounds=0 if SMOKE else 1)
