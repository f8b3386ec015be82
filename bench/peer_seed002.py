"""Seed 002's NumPy network (bench/seed002.py, the post's code) on the shared data and initial weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import seed002
from workloads import Trainer, Workload, data, initial_params, one_sample

ACTIVATIONS = {"relu": seed002.ReLU, "sigmoid": seed002.Sigmoid, "identity": seed002.Identity}


def network(w: Workload) -> seed002.NN:
    # The post's weight gradient lacks the 1/(m·k) of the true MSE gradient: divide the learning
    # rate by it so the steps have fastnet's size and the run stays finite (the time does not depend on it).
    lr = w.lr / (w.batch * w.sizes[-1])
    net = seed002.NN(w.sizes, [ACTIVATIONS[a] for a in w.activations], seed002.MSE, seed002.SGD(lr))
    for i, (W, b) in enumerate(initial_params(w.name), start=1):  # the post's float64 randn, replaced
        net.w[i], net.b[i] = W.copy(), b.copy()
    return net


def train(w: Workload) -> Trainer:
    """``NN.fit(epochs=1)``: the post drops the last partial batch, so an epoch has ``n // batch`` steps."""
    net = network(w)
    X, Y = data(w.name)
    return Trainer(lambda: net.fit(X, Y, epochs=1, batch_size=w.batch), w.n_samples // w.batch,
                   lambda: all(np.isfinite(W).all() for W in net.w.values()))


def predictor(w: Workload) -> Any:
    net, x = network(w), one_sample(w.name)
    return lambda: net.predict(x)
