"""Shared test helpers: the two backends and DESIGN.md's normwise comparison."""

from __future__ import annotations

import numpy as np

import fastnet
import fastnet.reference

BACKENDS = [fastnet, fastnet.reference]
BACKEND_IDS = ["compiled", "reference"]
KERNEL_TOL = {np.float64: 1e-12, np.float32: 1e-5}
TRAINING_TOL = {np.float64: 1e-9, np.float32: 1e-4}


def normwise_error(got: np.ndarray, want: np.ndarray) -> float:
    """max|got − want| / max|want| (0 when both are all zero)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = np.abs(want).max() if want.size else 0.0
    diff = np.abs(got - want).max() if want.size else 0.0
    return float(diff / scale) if scale else float(diff)


def assert_close(got: np.ndarray, want: np.ndarray, tol: float, scale: float | None = None) -> None:
    """Normwise check; ``scale`` replaces max|want| where the result cancels below its inputs' size."""
    error = normwise_error(got, want)
    if scale is not None:
        error = float(np.abs(np.asarray(got, float) - np.asarray(want, float)).max() / scale) if scale else 0.0
    assert error <= tol, f"normwise error {error:.3g} > {tol:.1g}"
