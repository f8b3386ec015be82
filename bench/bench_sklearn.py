"""scikit-learn drop-in groups ``sklearn-*``: whole ``fit`` calls of scikit-learn's MLP and of
``fastnet.sklearn``'s (contender "fastnet") with identical parameters, BLAS at THREADS threads for
all (conftest.py; ``FASTNET_BENCH_THREADS=1`` gives the one-thread comparison the README reports),
beside "products and updates alone": that fit's matrix products and optimiser updates done by
NumPy on preallocated arrays, the bound for anyone's fit at these batch sizes. Also ``predict`` of
one sample. ``python bench/report.py -k sklearn`` tabulates them with their targets.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from workloads import SMOKE, THREADS

sklearn = pytest.importorskip("sklearn")
from sklearn import neural_network as reference  # noqa: E402

from fastnet import sklearn as fast  # noqa: E402


@dataclass(frozen=True)
class Case:
    data: str
    hidden: tuple[int, ...]
    solver: str
    max_iter: int
    regression: bool = False

    def params(self) -> dict[str, Any]:
        iterations = 2 if SMOKE else self.max_iter
        return dict(hidden_layer_sizes=self.hidden, solver=self.solver, max_iter=iterations, random_state=0,
                    tol=0.0, n_iter_no_change=10**9)  # every iteration runs: the same work for both


CASES = {
    "digits-adam": Case("digits", (64,), "adam", 50),
    "digits-sgd": Case("digits", (64,), "sgd", 50),
    "20k-10class": Case("classes", (128, 64), "adam", 20),
    "20k-regression": Case("regression", (256,), "adam", 20, regression=True),
    "digits-lbfgs": Case("digits", (64,), "lbfgs", 100),
    "sparse-10k-20k": Case("sparse", (64,), "adam", 10),
}


def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return (X / 16.0)[: 200 if SMOKE else None], y[: 200 if SMOKE else None]
    if name == "sparse":  # text-like: 10 000 × 20 000 with 0.5 % stored, 5 classes
        from scipy import sparse

        rows = 400 if SMOKE else 10_000
        X = sparse.random(rows, 20_000, density=0.005, format="csr", random_state=0)
        return X, np.asarray(X[:, :100].sum(axis=1)).ravel().argsort().argsort() * 5 // rows
    rows = 400 if SMOKE else 20_000
    if name == "classes":
        X = rng.normal(size=(rows, 50))
        return X, np.argmax(X[:, :10] + rng.normal(size=(rows, 10)), axis=1)
    X = rng.normal(size=(rows, 100))
    return X, X[:, :5].sum(axis=1) + 0.1 * rng.normal(size=rows)


def estimator(module: Any, case: Case) -> Any:
    return (module.MLPRegressor if case.regression else module.MLPClassifier)(**case.params())


def products_and_updates(case: Case, X: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """The fit's matrix products (forward, dW, dX but for the first layer) and its optimiser
    updates (Adam's or momentum SGD's elementwise passes) on preallocated arrays, per batch."""
    n_out = 1 if case.regression else len(np.unique(y))
    sizes = [X.shape[1], *case.hidden, n_out]
    Ws = [np.ones((a, b)) * 0.01 for a, b in zip(sizes[:-1], sizes[1:])]  # sparse X: sparse @ dense products
    moments = [(np.zeros_like(W), np.zeros_like(W)) for W in Ws]
    batch = X.shape[0] if case.solver == "lbfgs" else min(200, X.shape[0])  # L-BFGS: the full batch
    batches = [X[i:i + batch] for i in range(0, X.shape[0], batch)]
    buffers = {
        m: ([np.ones((m, n)) for n in sizes[:-1]], [np.empty((m, n)) for n in sizes[1:]],
            [np.ones((m, n)) for n in sizes[1:]], [np.empty_like(W) for W in Ws])
        for m in {b.shape[0] for b in batches}
    }
    iterations = case.params()["max_iter"]

    def fit() -> None:
        for _ in range(iterations):
            for Xb in batches:
                A, Z, dZ, dW = buffers[Xb.shape[0]]
                A[0] = Xb
                for layer, W in enumerate(Ws):
                    product(A[layer], W, Z[layer])
                for layer in range(len(Ws) - 1, -1, -1):
                    product(A[layer].T, dZ[layer], dW[layer])
                    if layer:
                        np.matmul(dZ[layer], Ws[layer].T, out=A[layer])
                if case.solver == "lbfgs":
                    continue
                for W, g, (m, v) in zip(Ws, dW, moments):
                    m *= 0.9
                    m += 0.1 * g
                    if case.solver == "adam":
                        v *= 0.999
                        v += 0.001 * (g * g)
                        W -= 1e-3 * m / (np.sqrt(v) + 1e-8)
                    else:
                        W += m
    return fit


def product(a: Any, b: np.ndarray, out: np.ndarray) -> None:
    """out = a @ b; a sparse first-layer input multiplies as scikit-learn's safe_sparse_dot does."""
    if hasattr(a, "tocsr"):
        out[...] = a @ b
    else:
        np.matmul(a, b, out=out)


CONTENDERS = ["scikit-learn", "fastnet", "products and updates alone"]  # "fastnet": fastnet.sklearn's estimator


@pytest.mark.parametrize("contender", CONTENDERS)
@pytest.mark.parametrize("case", list(CASES))
def test_fit(benchmark: Any, case: str, contender: str) -> None:
    spec = CASES[case]
    X, y = dataset(spec.data)
    benchmark.group = f"sklearn-{case}"
    benchmark.extra_info.update(contender=contender, threads=THREADS, rows=X.shape[0], **spec.params())
    if contender == "products and updates alone":
        run = products_and_updates(spec, X, y)
    else:
        module = reference if contender == "scikit-learn" else fast

        def run() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ConvergenceWarning: a fixed number of iterations on purpose
                estimator(module, spec).fit(X, y)

    benchmark.pedantic(run, rounds=1 if SMOKE else 3, iterations=1, warmup_rounds=0 if SMOKE else 1)


@pytest.mark.parametrize("contender", CONTENDERS[:2])
def test_predict_one_sample(benchmark: Any, contender: str) -> None:
    X, y = dataset("digits")
    module = reference if contender == "scikit-learn" else fast
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = module.MLPClassifier(hidden_layer_sizes=(64,), max_iter=2, random_state=0).fit(X, y)
    x = X[:1].copy()
    benchmark.group = "sklearn-predict-one"
    benchmark.extra_info.update(contender=contender, threads=THREADS)
    benchmark(est.predict, x)
