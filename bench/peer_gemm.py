""""GEMMs alone": the step's matrix products by ``numpy.matmul(..., out=...)`` on preallocated arrays.

Per step: forward ``A[l] @ W[l]`` for every layer, ``A[l].T @ dZ[l]`` (dW) for every layer and
``dZ[l] @ W[l].T`` (dX) for every layer but the first. No bias, activation, loss or update:
the lower limit of a step for networks large enough to be bound by their products.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from workloads import Trainer, Workload, initial_params, one_sample


def _buffers(w: Workload, m: int, Ws: list[np.ndarray]) -> tuple[list[np.ndarray], ...]:
    rng = np.random.default_rng(2)
    A = [rng.standard_normal((m, n)).astype(w.dtype) for n in w.sizes[:-1]]  # each layer's input
    Z = [np.empty((m, n), w.dtype) for n in w.sizes[1:]]
    dZ = [rng.standard_normal((m, n)).astype(w.dtype) for n in w.sizes[1:]]
    dA = [np.empty((m, n), w.dtype) for n in w.sizes[:-1]]
    dW = [np.empty_like(W) for W in Ws]
    return A, Z, dZ, dA, dW


def train(w: Workload) -> Trainer:
    """An epoch of the same batch sizes as the contenders' (the last batch may be smaller)."""
    Ws = [W.copy() for W, _ in initial_params(w.name)]
    plans = {m: _buffers(w, m, Ws) for m in set(w.batch_sizes())}
    sizes = w.batch_sizes()

    def epoch() -> None:
        for m in sizes:
            A, Z, dZ, dA, dW = plans[m]
            for l, W in enumerate(Ws):
                np.matmul(A[l], W, out=Z[l])
            for l in range(len(Ws) - 1, -1, -1):
                np.matmul(A[l].T, dZ[l], out=dW[l])
                if l:
                    np.matmul(dZ[l], Ws[l].T, out=dA[l])

    return Trainer(epoch, len(sizes))


def predictor(w: Workload) -> Any:
    """The forward products for one sample."""
    Ws = [W.copy() for W, _ in initial_params(w.name)]
    outs = [one_sample(w.name)] + [np.empty((1, W.shape[1]), w.dtype) for W in Ws]

    def forward() -> np.ndarray:
        for l, W in enumerate(Ws):
            np.matmul(outs[l], W, out=outs[l + 1])
        return outs[-1]

    return forward
