"""Finite-difference check of a model's analytic gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from fastnet.checks import check_real

_TINY = 1e-10  # floor for the scale of an all-zero gradient


def float64_copy(model: Any) -> Any:
    """A new model of the same backend and configuration, with float64 copies of the parameters."""
    layers = []
    for layer in model.layers:
        config = {**layer.config(), "dtype": "float64"}
        clone = type(layer)(**config, seed=0)
        clone.W, clone.b = layer.W, layer.b
        layers.append(clone)
    clone = type(model)(layers, loss=model.loss, optimizer=model.optimizer)
    clone._dropout_key, clone._dropout_count = model._dropout_key, model._dropout_count
    return clone


def objective(model: Any, X: np.ndarray, Y: np.ndarray, dropout_count: int) -> float:
    """Data loss plus the L2 term Σ (λ/2)·‖W‖², through the dropout masks of ``dropout_count``:
    the function whose gradient backward computes."""
    data = model._data_loss(model._forward(X, keep=False, dropout_count=dropout_count), Y)
    return data + sum(0.5 * layer.l2 * float(np.sum(layer.W * layer.W)) for layer in model.layers)


def gradcheck(model: Any, X: Any, Y: Any, eps: float = 1e-6) -> float:
    """Max relative error between analytic and central-difference gradients of every W and b.

    Works on a float64 copy of ``model`` (whose weights stay bit-exactly as they were). Layers
    with dropout keep one fixed mask, the one the model's next training batch would draw. The
    error of one parameter array is ``max|analytic − numeric| / max(max|analytic|, max|numeric|)``
    (normwise, as docs/design.md's tolerances); the result is the largest over all arrays.
    """
    eps = check_real("eps", eps)
    if eps == 0.0:
        raise ValueError("eps must be > 0, got 0.0")
    clone = float64_copy(model)
    X, Y = clone._check_XY(X, Y)
    count = clone._dropout_count
    clone._loss_and_gradients(X, Y, None, count)
    worst = 0.0
    for param, grad in clone._parameters():
        analytic = grad.copy()
        numeric = np.empty_like(param)
        flat = param.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            plus = objective(clone, X, Y, count)
            flat[i] = original - eps
            minus = objective(clone, X, Y, count)
            flat[i] = original
            numeric.flat[i] = (plus - minus) / (2 * eps)
        scale = max(np.abs(analytic).max(), np.abs(numeric).max(), _TINY)
        worst = max(worst, float(np.abs(analytic - numeric).max() / scale))
    return worst
