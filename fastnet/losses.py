"""Loss names, their pairing rules with the last activation, and their metrics."""

from __future__ import annotations

from typing import Any

import numpy as np

from fastnet._codes import FUSED, METRIC_NAMES, METRIC_OF_LOSS
from fastnet._codes import MODEL_LOSSES as LOSSES
from fastnet.activations import _Named, resolve_name

__all__ = ["LOSSES", "FUSED", "MSE", "CrossEntropy", "BinaryCrossEntropy", "loss_name", "check_pairing",
           "metric_name", "metric_sums"]
_ALIASES = {
    "mean_squared_error": "mse",
    "categorical_crossentropy": "cross_entropy",
    "crossentropy": "cross_entropy",
    "binary_crossentropy": "binary_cross_entropy",
    "bce": "binary_cross_entropy",
}


class MSE(_Named):
    """Mean squared error over all m·k elements: mean((A − Y)²)."""

    name = "mse"


class CrossEntropy(_Named):
    """Softmax cross-entropy, −(1/m) Σ Y log P, fused and log-sum-exp stable."""

    name = "cross_entropy"


class BinaryCrossEntropy(_Named):
    """Sigmoid binary cross-entropy from logits, mean over all elements."""

    name = "binary_cross_entropy"


def loss_name(value: Any) -> str:
    """Canonical loss name for ``value`` (string or class such as ``MSE``)."""
    return resolve_name(value, LOSSES, _ALIASES, "loss")


def check_pairing(loss: str, last_activation: str, last_units: int) -> None:
    """Raise ValueError when ``loss`` cannot follow the last layer as configured."""
    if loss == "cross_entropy":
        if last_activation != "softmax":
            raise ValueError(
                f"loss='cross_entropy' needs a softmax last layer, got activation={last_activation!r}; "
                "use Dense(..., activation='softmax') as the last layer"
            )
        if last_units < 2:
            raise ValueError(
                f"loss='cross_entropy' needs at least 2 output units, got {last_units}; "
                "for one output use activation='sigmoid' with loss='binary_cross_entropy'"
            )
    elif loss == "binary_cross_entropy" and last_activation != "sigmoid":
        raise ValueError(
            f"loss='binary_cross_entropy' needs a sigmoid last layer, got activation={last_activation!r}; "
            "use Dense(..., activation='sigmoid') as the last layer"
        )


def metric_name(loss: str) -> str:
    """The metric reported beside ``loss``: accuracy for cross-entropies, mae for mse."""
    return METRIC_NAMES[METRIC_OF_LOSS[loss]]


def metric_sums(loss: str, A: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """(sum, count) of the metric over a batch, each row counting ``weights[i]`` times (once
    without weights), so batches combine exactly (the compiled engine's twin is ``metric_sum``
    in fastnet/_kernels.pyx)."""
    metric = METRIC_OF_LOSS[loss]
    if metric == "mae":
        per_row, per_count = np.abs(A - Y).sum(axis=1, dtype=np.float64), A.shape[1]
    elif metric == "argmax_accuracy":
        truth = Y if Y.ndim == 1 else Y.argmax(axis=1)
        per_row, per_count = (A.argmax(axis=1) == truth).astype(np.float64), 1
    else:
        per_row, per_count = ((A > 0.5) == (Y > 0.5)).sum(axis=1, dtype=np.float64), A.shape[1]
    if weights is None:
        return float(per_row.sum()), float(A.shape[0] * per_count)
    weights = weights.astype(np.float64)
    return float(weights @ per_row), float(weights.sum()) * per_count
