"""fastnet and fastnet.reference: ``Sequential.fit`` one epoch at a time, a ``train_step`` loop, and ``predict``."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np
from workloads import Trainer, Workload, data, initial_params, one_sample


def layers(w: Workload, module: str) -> list[Any]:
    """The workload's Dense layers in ``module`` ("fastnet" or "fastnet.reference"), from the shared initial weights."""
    fn = importlib.import_module(module)
    stack = []
    for (n_in, n_out), act, (W, b) in zip(zip(w.sizes, w.sizes[1:]), w.activations, initial_params(w.name)):
        layer = fn.Dense(n_in, n_out, activation=act, dtype=w.dtype, seed=0)
        layer.W, layer.b = W, b
        stack.append(layer)
    return stack


def model(w: Workload, module: str) -> Any:
    """The workload's network in ``module``, from the shared initial weights."""
    fn = importlib.import_module(module)
    return fn.Sequential(layers(w, module), loss="mse", optimizer=fn.SGD(learning_rate=w.lr), seed=0)


def _finite(net: Any) -> bool:
    return all(np.isfinite(layer.W).all() for layer in net.layers)


def train_fit(w: Workload, module: str = "fastnet") -> Trainer:
    """``fit(epochs=1)`` per epoch: shuffle, gather, every step and its update, as users call it."""
    net = model(w, module)
    X, Y = data(w.name)
    return Trainer(lambda: net.fit(X, Y, epochs=1, batch_size=w.batch, verbose=0), w.n_steps, lambda: _finite(net))


def train_steps(w: Workload, module: str = "fastnet") -> Trainer:
    """A Python loop of ``train_step`` calls over shuffled batches (the hand-written-loop user)."""
    net = model(w, module)
    X, Y = data(w.name)
    rng = np.random.default_rng(0)

    def epoch() -> None:
        order = rng.permutation(w.n_samples)
        for start in range(0, w.n_samples, w.batch):
            rows = order[start : start + w.batch]
            net.train_step(X[rows], Y[rows])

    return Trainer(epoch, w.n_steps, lambda: _finite(net))


def predictor(w: Workload, module: str = "fastnet") -> Any:
    net, x = model(w, module), one_sample(w.name)
    return lambda: net.predict(x)
