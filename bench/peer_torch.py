"""PyTorch CPU: ``nn.Sequential`` of ``Linear`` layers, ``MSELoss``, ``optim.SGD``, ``set_num_threads(THREADS)``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from workloads import THREADS, Trainer, Workload, data, initial_params, one_sample

torch.set_num_threads(THREADS)
ACTIVATIONS = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid, "identity": torch.nn.Identity}


def network(w: Workload) -> torch.nn.Sequential:
    dtype = getattr(torch, w.dtype)
    modules: list[torch.nn.Module] = []
    for (W, b), act in zip(initial_params(w.name), w.activations):
        linear = torch.nn.Linear(*W.shape, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))  # torch keeps (n_out, n_in)
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear, ACTIVATIONS[act]()]
    return torch.nn.Sequential(*modules)


def train(w: Workload) -> Trainer:
    """The usual loop: permute, gather, zero_grad, forward, MSE, backward, step."""
    net = network(w)
    opt = torch.optim.SGD(net.parameters(), lr=w.lr)
    loss_fn = torch.nn.MSELoss()
    X, Y = (torch.from_numpy(a) for a in data(w.name))
    rng = np.random.default_rng(0)

    def epoch() -> None:
        order = torch.from_numpy(rng.permutation(w.n_samples))
        for start in range(0, w.n_samples, w.batch):
            rows = order[start : start + w.batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(net(X[rows]), Y[rows]).backward()
            opt.step()

    return Trainer(epoch, w.n_steps, lambda: all(bool(torch.isfinite(p).all()) for p in net.parameters()))


def predictor(w: Workload) -> Any:
    """NumPy in, NumPy out, under ``inference_mode``."""
    net, x = network(w), one_sample(w.name)

    def predict() -> np.ndarray:
        with torch.inference_mode():
            return net(torch.from_numpy(x)).numpy()

    return predict
