"""The benchmark workloads: network, loss, optimiser, batch, dtype and data, shared by every contender."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

SMOKE = os.environ.get("FASTNET_BENCH_SMOKE", "") not in ("", "0")  # CI: tiny data, every benchmark runs once
THREADS = int(os.environ.get("FASTNET_BENCH_THREADS", "0")) or len(os.sched_getaffinity(0))


@dataclass(frozen=True)
class Workload:
    """A dense network trained with MSE and plain SGD on ``n_samples`` rows in batches of ``batch``."""

    name: str
    sizes: tuple[int, ...]  # widths, input first
    activations: tuple[str, ...]  # one per weight layer: relu / sigmoid / identity
    batch: int
    dtype: str
    n_samples: int
    lr: float  # fastnet's SGD learning rate (true MSE gradient, mean over m·k)

    @property
    def n_steps(self) -> int:
        """Steps per epoch when every sample is used (the last batch may be smaller)."""
        return -(-self.n_samples // self.batch)

    def batch_sizes(self) -> list[int]:
        """The sizes of one epoch's batches, in order."""
        full, rest = divmod(self.n_samples, self.batch)
        return [self.batch] * full + ([rest] if rest else [])

    def describe(self, training: bool = True) -> str:
        net = f"{'-'.join(map(str, self.sizes))} {'/'.join(self.activations)}"
        if not training:
            return f"{net}, {self.dtype}"
        return f"{net}, MSE, SGD(lr={self.lr:g}), batch {self.batch}, {self.dtype}, {self.n_samples} samples"


def contender_id(name: str) -> str:
    """A contender's name as a pytest id (no spaces)."""
    return name.replace(" ", "_")


def _n(full: int, batch: int) -> int:
    return 2 * batch if SMOKE else full  # smoke: two batches per epoch


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("digits", (64, 15, 10), ("relu", "sigmoid"), 16, "float64", _n(1257, 16), 2.0),
        Workload("mlp784", (784, 256, 256, 10), ("relu", "relu", "sigmoid"), 64, "float32", _n(4096, 64), 0.5),
        Workload("wide", (1024,) * 5, ("relu", "relu", "relu", "identity"), 256, "float32", _n(2048, 256), 0.01),
    )
}


@cache
def data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, Y)`` for a workload, C-contiguous in its dtype; the same arrays for every contender."""
    w = WORKLOADS[name]
    rng = np.random.default_rng(0)
    if name == "digits":  # seed 002's data: the training split, pixels scaled to [0, 1], one-hot labels
        from fastnet.data import load_digits, train_test_split

        X, y = load_digits()
        X, _, y, _ = train_test_split(X / 16.0, y, test_size=0.3, random_state=42)
        X, Y = X[: w.n_samples], np.eye(10)[y[: w.n_samples]]
    elif name == "mlp784":
        X = rng.standard_normal((w.n_samples, w.sizes[0]))
        Y = np.eye(w.sizes[-1])[rng.integers(0, w.sizes[-1], w.n_samples)]
    else:
        X = rng.standard_normal((w.n_samples, w.sizes[0]))
        Y = rng.standard_normal((w.n_samples, w.sizes[-1]))
    return np.ascontiguousarray(X, w.dtype), np.ascontiguousarray(Y, w.dtype)


@cache
def initial_params(name: str) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Starting ``(W, b)`` per layer (He init, ``W`` is ``(n_in, n_out)``); every contender copies these."""
    w = WORKLOADS[name]
    rng = np.random.default_rng(1)
    params = []
    for n_in, n_out in zip(w.sizes, w.sizes[1:]):
        W = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)
        params.append((W.astype(w.dtype), np.zeros(n_out, w.dtype)))
    return tuple(params)


def one_sample(name: str) -> np.ndarray:
    """The ``(1, n_in)`` input of the ``infer`` benchmarks."""
    return np.ascontiguousarray(data(name)[0][:1])


@dataclass
class Trainer:
    """One contender set up on one workload: ``epoch()`` trains one pass over the data in ``steps`` steps."""

    epoch: Callable[[], object]
    steps: int
    finite: Callable[[], bool] = lambda: True  # parameters still finite (a diverged run would time NaN arithmetic)
