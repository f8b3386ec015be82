"""Input validation and conversion: the one place that checks user input.

Each public call converts its arrays once (to C-contiguous arrays of the
model's dtype, copying only when needed) and raises ``TypeError`` for the
wrong kind of data or ``ValueError`` for wrong values or shapes, naming the
argument, what was expected and what was given. Kernels trust what passes.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

FLOAT_DTYPES = ("float32", "float64")
OVERFLOW_MESSAGE = "X overflows the network: a pre-activation became infinite; scale the inputs"
_REAL_KINDS = "biuf"  # bool, signed, unsigned, float


def check_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """``float32`` or ``float64`` as a NumPy dtype; anything else is an error."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be 'float32' or 'float64', got {dtype!r}") from None
    if resolved.name not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be 'float32' or 'float64', got {resolved.name!r}")
    return resolved


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_pair(value: Any, name: str, shape: str) -> tuple[Any, Any]:
    """The two items of a tuple or list of length 2; TypeError naming what was given otherwise."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    what = type(value).__name__
    if isinstance(value, (tuple, list)):
        what = f"a {what} of {len(value)} item{'s' if len(value) != 1 else ''}"
    raise TypeError(f"{name} must be a tuple {shape}, got {what}")


def check_real(name: str, value: Any, minimum: float = 0.0) -> float:
    """A finite real number ``>= minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number >= {minimum}, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum}, got {value!r}")
    return float(value)


def as_real_array(value: Any, name: str) -> np.ndarray:
    """``value`` as an ndarray of a real numeric kind; TypeError for anything else."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} must be a rectangular array of numbers: {exc}") from None
    if array.dtype == object and hasattr(value, "to_numpy"):
        # pandas' nullable dtypes (Float64, Int64, boolean) arrive as objects: read them as float64,
        # missing values as NaN (then named by the finiteness check)
        try:
            array = value.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            pass
    if array.dtype.kind not in _REAL_KINDS:
        raise TypeError(
            f"{name} must hold real numbers (bool, int or float), got dtype {array.dtype} ({type(value).__name__})"
        )
    return array


def check_finite(array: np.ndarray, name: str, source: np.ndarray | None = None) -> None:
    """ValueError naming the first non-finite entry of a float array.

    ``source`` is what ``array`` was converted from: a finite value there overflowed the cast.
    """
    if array.dtype.kind == "f" and array.size and not np.isfinite(array).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        if source is not None and source.shape == array.shape and np.isfinite(source[where]):
            raise ValueError(f"{name} must fit in {array.dtype}, got {source[where]} at index {where}")
        raise ValueError(f"{name} must be finite, got {array[where]} at index {where}")


def c_array(array: Any, dtype: Any) -> np.ndarray:
    """``array`` as a C-contiguous, aligned, native-order array of ``dtype``, copied only when it
    is not one already: what the kernels read through a typed pointer (``ascontiguousarray``
    alone keeps a misaligned view, such as one cut from a byte buffer)."""
    out = np.ascontiguousarray(array, dtype=dtype)
    return out if out.flags.aligned else out.copy()


def convert(array: np.ndarray, dtype: np.dtype, copy: bool = False) -> np.ndarray:
    """C-contiguous, aligned ``array`` in ``dtype``; values too large for it become inf silently
    (every caller then checks finiteness and reports them)."""
    with np.errstate(over="ignore", invalid="ignore"):
        if copy:
            return np.array(array, dtype=dtype, order="C", copy=True)
        return c_array(array, dtype)


def as_float_array(value: Any, name: str, dtype: np.dtype) -> np.ndarray:
    """C-contiguous, finite, real array in ``dtype``; copies only when needed."""
    source = as_real_array(value, name)
    array = convert(source, dtype)
    check_finite(array, name, source)
    return array


def as_matrix(
    value: Any, name: str, dtype: np.dtype, n_cols: int, allow_empty: bool = False, finite: bool = True
) -> np.ndarray:
    """A 2-D ``(m, n_cols)`` input batch such as ``X``.

    ``finite=False`` skips the NaN/inf scan for callers whose forward pass reports it instead.
    """
    array = as_real_array(value, name)
    if array.ndim != 2:
        hint = f"; for one sample use {name}.reshape(1, -1)" if array.ndim == 1 else ""
        raise ValueError(f"{name} must be 2-D (n_samples, {n_cols}), got shape {array.shape}{hint}")
    if array.shape[1] != n_cols:
        raise ValueError(f"{name} must have {n_cols} columns (the first layer's n_in), got shape {array.shape}")
    if array.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} must have at least one row, got shape {array.shape}")
    if not finite:
        return convert(array, dtype)
    return as_float_array(array, name, dtype)


def as_targets(value: Any, name: str, loss: str, n_rows: int, n_out: int, dtype: np.dtype) -> np.ndarray:
    """Targets for ``loss``: ``(m, k)`` in ``dtype``, or class ids ``(m,)`` (intp) for cross-entropy."""
    array = as_real_array(value, name)
    if array.ndim == 0 or array.shape[0] != n_rows:
        raise ValueError(f"{name} must have {n_rows} rows (one per sample of X), got shape {array.shape}")
    if loss == "cross_entropy" and array.ndim == 1:
        return _class_ids(array, name, n_out)
    if array.ndim == 1 and n_out == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] != n_out:
        expected = (
            f"({n_rows},) class ids or ({n_rows}, {n_out})" if loss == "cross_entropy" else f"({n_rows}, {n_out})"
        )
        raise ValueError(f"{name} must have shape {expected} for loss={loss!r}, got shape {array.shape}")
    array = as_float_array(array, name, dtype)
    if loss != "mse" and array.size and (array.min() < 0 or array.max() > 1):
        raise ValueError(f"{name} must lie in [0, 1] for loss={loss!r}, got values in [{array.min()}, {array.max()}]")
    if loss == "cross_entropy" and array.size:
        sums = array.sum(axis=1)
        tol = 1e-3 if dtype == np.float32 else 1e-6
        if np.abs(sums - 1).max() > tol:
            row = int(np.argmax(np.abs(sums - 1)))
            raise ValueError(
                f"{name} rows must be probabilities summing to 1 for loss='cross_entropy' "
                f"(or pass class ids of shape ({n_rows},)); row {row} sums to {sums[row]}"
            )
    return array


def _class_ids(array: np.ndarray, name: str, n_classes: int) -> np.ndarray:
    if array.dtype.kind == "f":
        check_finite(array, name)
        if not np.array_equal(array, np.round(array)):
            raise ValueError(
                f"{name} class ids must be whole numbers, got non-integer values such as "
                f"{array[array != np.round(array)][0]}"
            )
    # bool ids are the classes 0 and 1 (as NumPy and scikit-learn read them)
    if array.size and (array.min() < 0 or array.max() >= n_classes):
        raise ValueError(
            f"{name} class ids must lie in [0, {n_classes}) (the last layer has {n_classes} units), "
            f"got values in [{array.min()}, {array.max()}]"
        )
    # always a private copy: the compiled loop indexes with these ids, so a caller changing
    # the array during fit (a callback, another thread) must not reach it
    return np.array(array, dtype=np.intp, order="C", copy=True)


def as_parameter(value: Any, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A new C-contiguous finite copy of ``value`` with exactly ``shape``, for ``layer.W = ...``."""
    array = as_real_array(value, name)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    converted = convert(array, dtype, copy=True)
    check_finite(converted, name, array)
    return converted


def as_sample_weight(value: Any, name: str, n_rows: int, dtype: np.dtype) -> np.ndarray:
    """Per-sample weights ``(n_rows,)``: finite, non-negative, not all zero; a private C-contiguous
    copy in ``dtype`` (the compiled loop reads it while callbacks run)."""
    source = as_real_array(value, name)
    if source.ndim != 1 or source.shape[0] != n_rows:
        raise ValueError(f"{name} must have shape ({n_rows},) (one weight per sample of X), got shape {source.shape}")
    weights = convert(source, dtype, copy=True)
    check_finite(weights, name, source)
    if n_rows and weights.min() < 0:
        where = int(np.argmax(weights < 0))
        raise ValueError(f"{name} must be non-negative, got {weights[where]} at index {where}")
    if n_rows and not weights.any():
        raise ValueError(f"{name} must not be all zero (no sample would count)")
    return weights
