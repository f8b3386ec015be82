"""NumPy statements of scikit-learn's MLP conventions, the oracle for fastnet/_sklearn_kernels.pyx.

Internal to ``fastnet.sklearn`` (docs/design.md, "scikit-learn's conventions"): its four
losses (``SKLEARN_LOSSES`` of fastnet/_codes.py), whose fused gradient with respect to Z is
(A − Y)·wᵢ/Σw, and its SGD and Adam. Written as scikit-learn's
``neural_network/_base.py`` and ``_stochastic_optimizers.py`` compute them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def _xlogy(x: NDArray, y: NDArray) -> NDArray:
    """x·log(y), 0 where x is 0 (scipy.special.xlogy, without SciPy)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, x.dtype.type(0), x * np.log(y))


def row_losses(loss: str, A: NDArray, Y: NDArray) -> NDArray:
    """Each row's loss (float64) under one of scikit-learn's losses; probabilities are clipped to
    [eps, 1 − eps] of their dtype as scikit-learn clips them."""
    if loss == "sk_squared_error":  # half the mean over the outputs
        return 0.5 * ((Y - A) ** 2).mean(axis=1, dtype=np.float64)
    if loss == "sk_poisson":  # half the Poisson deviance, its constant term kept
        with np.errstate(divide="ignore", invalid="ignore"):
            return (_xlogy(Y, Y / A) - Y + A).sum(axis=1, dtype=np.float64)
    eps = np.finfo(A.dtype).eps
    P = np.clip(A, eps, 1 - eps)
    if loss == "sk_log_loss":
        return -_xlogy(Y, P).sum(axis=1, dtype=np.float64)
    if loss == "sk_binary_log_loss":
        return -(_xlogy(Y, P) + _xlogy(1 - Y, 1 - P)).sum(axis=1, dtype=np.float64)
    raise ValueError(f"unknown loss {loss!r}")


def sklearn_sgd_update(w, g, v, lr, momentum, nesterov):
    """scikit-learn's SGD: v ← μ·v − lr·g; w += v, or with Nesterov w += μ·v − lr·g (updated v)."""
    dt = w.dtype.type
    v[...] = dt(momentum) * v - dt(lr) * g
    w += dt(momentum) * v - dt(lr) * g if nesterov else v


def sklearn_adam_update(w, g, m, v, t, lr, beta1, beta2, eps):
    """scikit-learn's Adam at step t (from 1): the rate carries the bias correction,
    lr·√(1 − β2ᵗ)/(1 − β1ᵗ), and eps is added to √v uncorrected."""
    dt = w.dtype.type
    m[...] = dt(beta1) * m + dt(1.0 - beta1) * g
    v[...] = dt(beta2) * v + dt(1.0 - beta2) * (g * g)
    rate = dt(lr * np.sqrt(1.0 - beta2**t) / (1.0 - beta1**t))
    w += -rate * m / (np.sqrt(v) + dt(eps))
