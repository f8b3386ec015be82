"""Hand-written training loops: seed 002's step written with fastnet's layers, and the same math as a lean
NumPy loop (plain arrays and expressions, no classes); and the layer calls alone against their NumPy
expressions. Same data and initial weights as every other contender (bench/workloads.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import peer_fastnet
from workloads import Trainer, Workload, data, initial_params


def _batches(w: Workload, rng: np.random.Generator) -> Any:
    """Seed 002's epoch: shuffle the data once, then take consecutive batches (the last may be smaller)."""
    X, Y = data(w.name)
    order = rng.permutation(len(X))
    X, Y = X[order], Y[order]
    for start in range(0, len(X), w.batch):
        yield X[start : start + w.batch], Y[start : start + w.batch]


def fastnet_loop(w: Workload, module: str = "fastnet") -> Trainer:
    """Forward through each layer, the MSE gradient, backward, then ``layer.W -= lr * layer.dW`` per parameter."""
    layers, lr, rng = peer_fastnet.layers(w, module), w.lr, np.random.default_rng(0)

    def epoch() -> None:
        for x, y in _batches(w, rng):
            a = x
            for layer in layers:
                a = layer.forward(a)
            d = (a - y) * (2.0 / a.size)
            for layer in reversed(layers):
                d = layer.backward(d)
            for layer in layers:
                layer.W -= lr * layer.dW
                layer.b -= lr * layer.db

    return Trainer(epoch, w.n_steps, lambda: all(np.isfinite(layer.W).all() for layer in layers))


def numpy_loop(w: Workload) -> Trainer:
    """The same steps written out for the digits net (relu, then sigmoid) with plain arrays: the lean loop
    a NumPy user writes, with no Python calls between the expressions."""
    assert w.activations == ("relu", "sigmoid"), "the lean loop is written out for the digits net"
    (W1, b1), (W2, b2) = ((W.copy(), b.copy()) for W, b in initial_params(w.name))
    lr, rng = w.lr, np.random.default_rng(0)

    def epoch() -> None:
        nonlocal W1, b1, W2, b2  # updated in place: the names are rebound to the same arrays
        for x, y in _batches(w, rng):
            Z1 = x @ W1 + b1
            A1 = np.maximum(Z1, 0)
            A2 = 1 / (1 + np.exp(-(A1 @ W2 + b2)))
            dZ2 = (A2 - y) * (2.0 / A2.size) * A2 * (1 - A2)
            dZ1 = (dZ2 @ W2.T) * (Z1 > 0)
            W2 -= lr * (A1.T @ dZ2)
            b2 -= lr * dZ2.sum(axis=0)
            W1 -= lr * (x.T @ dZ1)
            b1 -= lr * dZ1.sum(axis=0)

    return Trainer(epoch, w.n_steps, lambda: bool(np.isfinite(W1).all() and np.isfinite(W2).all()))


def _first_layer_case(w: Workload) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first layer's batch X, weights, biases and an upstream gradient dA."""
    X = np.ascontiguousarray(data(w.name)[0][: w.batch])
    W, b = initial_params(w.name)[0]
    dA = np.random.default_rng(2).standard_normal((len(X), W.shape[1])).astype(w.dtype)
    return X, W.copy(), b.copy(), dA


def layer_calls(w: Workload, module: str = "fastnet") -> dict[str, Callable[[], Any]]:
    """``Dense.forward(X)`` and ``Dense.backward(dA)`` on the workload's first layer."""
    X, _, _, dA = _first_layer_case(w)
    layer = peer_fastnet.layers(w, module)[0]
    layer.forward(X)  # what backward needs
    return {"forward": lambda: layer.forward(X), "backward": lambda: layer.backward(dA)}


def numpy_calls(w: Workload) -> dict[str, Callable[[], Any]]:
    """The NumPy expressions of the same two calls on the relu layer (backward: dZ, then dW, db and dX)."""
    assert w.activations[0] == "relu", "the expressions are written out for a relu layer"
    X, W, b, dA = _first_layer_case(w)
    Z = X @ W + b

    def backward() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dZ = dA * (Z > 0)
        return X.T @ dZ, dZ.sum(axis=0), dZ @ W.T

    return {"forward": lambda: np.maximum(X @ W + b, 0), "backward": backward}
