"""Sample weights from ``sample_weight`` and ``class_weight``: the per-row weights of a loss.

A batch's data loss is Σ wᵢ·lossᵢ / Σ wᵢ (docs/design.md); ``class_weight`` multiplies into the
sample weights through each row's class.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from fastnet.checks import as_sample_weight

__all__ = ["row_weights", "class_of_rows", "balanced_class_weight", "weight_sum"]


def class_of_rows(Y: np.ndarray, loss: str) -> np.ndarray:
    """The class id of each row of validated targets; ValueError when ``loss`` has no single class
    per row (mse, several binary outputs, soft targets)."""
    if loss == "cross_entropy":
        if Y.ndim == 1:
            return Y
        if not np.isin(Y, (0, 1)).all():
            raise ValueError("needs one class per row: Y's probability rows must be one-hot")
        return Y.argmax(axis=1)
    if loss == "binary_cross_entropy" and Y.shape[1] == 1:
        if not np.isin(Y, (0, 1)).all():
            raise ValueError("needs one class per row: Y must hold 0 or 1 for binary_cross_entropy")
        return Y[:, 0].astype(np.intp)
    raise ValueError(
        f"needs one class per row: loss='cross_entropy', or 'binary_cross_entropy' with one "
        f"output; got loss={loss!r} with {Y.shape[1] if Y.ndim == 2 else 1} outputs (use sample_weight)"
    )


def balanced_class_weight(classes: np.ndarray) -> np.ndarray:
    """Weight per row of scikit-learn's ``"balanced"`` rule: n_samples / (n_present_classes ·
    count of the row's class)."""
    counts = np.bincount(classes)
    present = np.count_nonzero(counts)
    return classes.size / (present * counts[classes].astype(np.float64))


def _weights_from_dict(class_weight: dict, classes: np.ndarray, n_classes: int) -> np.ndarray:
    table = np.ones(n_classes)
    for key, value in class_weight.items():
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, numbers.Integral):
            raise TypeError(f"class_weight keys must be class ids (integers), got {key!r}")
        if not 0 <= key < n_classes:
            raise ValueError(f"class_weight has class {key!r}, outside the model's classes 0 .. {n_classes - 1}")
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"class_weight[{key!r}] must be a number, got {type(value).__name__} {value!r}")
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"class_weight[{key!r}] must be finite and >= 0, got {value!r}")
        table[int(key)] = value
    return table[classes]


def row_weights(
    sample_weight: Any, class_weight: Any, Y: np.ndarray, loss: str, n_out: int, dtype: np.dtype,
    names: tuple[str, str] = ("sample_weight", "class_weight"),
) -> np.ndarray | None:
    """The rows' weights for validated targets ``Y``, or None when both arguments are None (every
    row weighs 1). ``class_weight``: None, a dict ``{class id: weight}`` (absent classes weigh 1)
    or ``"balanced"``; its classes are the class ids of cross-entropy, or 0 and 1 of a one-output
    binary cross-entropy."""
    n_rows = Y.shape[0]
    weights = None if sample_weight is None else as_sample_weight(sample_weight, names[0], n_rows, dtype)
    if class_weight is None:
        return weights
    try:
        classes = class_of_rows(Y, loss)
    except ValueError as exc:
        raise ValueError(f"{names[1]} {exc}") from None
    n_classes = n_out if loss == "cross_entropy" else 2
    if isinstance(class_weight, str) and class_weight == "balanced":
        per_row = balanced_class_weight(classes)
    elif isinstance(class_weight, dict):
        per_row = _weights_from_dict(class_weight, classes, n_classes)
    else:
        raise TypeError(f"{names[1]} must be None, a dict {{class id: weight}} or 'balanced', got {class_weight!r}")
    if weights is None:
        return as_sample_weight(per_row, f"the weights of {names[1]}", n_rows, dtype)
    return as_sample_weight(weights * per_row, f"{names[0]} × {names[1]}", n_rows, dtype)


def weight_sum(weights: np.ndarray | None, n_rows: int) -> float:
    """Σ weights of a batch (its row count without weights), in float64."""
    return float(n_rows) if weights is None else float(weights.sum(dtype=np.float64))
