"""NumPy ops: the golden oracle behind ``fastnet.reference``.

Every function here is the readable statement of one piece of math of the ops
interface (docs/design.md). Arguments are C-contiguous arrays of one float dtype
(the API layer converts once); results are written into the output arrays passed
in, so the compiled ops in ``fastnet._ops`` can be swapped in with the same calls.
"""

from __future__ import annotations

import functools

import numpy as np

from fastnet._codes import (
    DROPOUT_GAMMA,
    DROPOUT_MIX_1,
    DROPOUT_MIX_2,
    GELU_CUBIC,
    GELU_SATURATION,
    GELU_SQRT_2_OVER_PI,
    LEAKY_SLOPE,
    LOSSES,
    SKLEARN_LOSSES,
    dropout_threshold,
)
from fastnet.reference.sklearn_ops import row_losses, sklearn_adam_update, sklearn_sgd_update

__all__ = ["dense_forward", "activation_backward", "dense_backward", "dense_backward_sgd", "loss_grad", "dropout",
           "sgd_update", "adam_update", "sklearn_sgd_update", "sklearn_adam_update"]


def _reports_overflow(op):
    """Run ``op`` without NumPy's overflow/invalid warnings: a non-finite result is reported by
    the model instead (predict's finiteness flag, fit's FloatingPointError), never warned about."""

    @functools.wraps(op)
    def quiet(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return op(*args, **kwargs)

    return quiet


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """Overflow-free logistic: exp only ever sees non-positive arguments."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(z.dtype, copy=False)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _gelu_tanh(z: np.ndarray) -> np.ndarray:
    """GELU's inner tanh(√(2/π)(z + 0.044715 z³))."""
    dt = z.dtype.type
    return np.tanh(dt(GELU_SQRT_2_OVER_PI) * (z + dt(GELU_CUBIC) * z * z * z))


def _gelu_slope(Z: np.ndarray) -> np.ndarray:
    """gelu'(z) = ½(1 + t) + ½z(1 − t)(1 + t)·√(2/π)(1 + 3·0.044715 z²), z clamped where t is ±1."""
    dt, half, one = Z.dtype.type, Z.dtype.type(0.5), Z.dtype.type(1)
    z = np.clip(Z, dt(-GELU_SATURATION), dt(GELU_SATURATION))  # no inf·0 from z³ or z² overflowing
    t = _gelu_tanh(z)
    slope = dt(GELU_SQRT_2_OVER_PI) * (one + dt(3 * GELU_CUBIC) * z * z)
    return half * (one + t) + half * z * ((one - t) * (one + t)) * slope


# Each activation: (A from Z, dZ from (Z, A, dA)). Codes and constants: fastnet/_codes.py.
_ACTIVATIONS = {
    "identity": (lambda Z: Z, lambda Z, A, dA: dA),
    "relu": (lambda Z: np.maximum(Z, 0), lambda Z, A, dA: dA * (Z > 0)),
    "leaky_relu": (
        lambda Z: np.where(Z > 0, Z, Z * Z.dtype.type(LEAKY_SLOPE)),
        lambda Z, A, dA: dA * np.where(Z > 0, Z.dtype.type(1), Z.dtype.type(LEAKY_SLOPE)),
    ),
    # tanh' = (1 − A)(1 + A): 1 − A² without its cancellation near |A| = 1
    "tanh": (np.tanh, lambda Z, A, dA: dA * ((Z.dtype.type(1) - A) * (Z.dtype.type(1) + A))),
    "sigmoid": (_sigmoid, lambda Z, A, dA: dA * A * (Z.dtype.type(1) - A)),
    "softmax": (_softmax, lambda Z, A, dA: A * (dA - (dA * A).sum(axis=1, keepdims=True))),
    "exp": (np.exp, lambda Z, A, dA: dA * A),
    "gelu": (lambda Z: Z.dtype.type(0.5) * Z * (Z.dtype.type(1) + _gelu_tanh(Z)), lambda Z, A, dA: dA * _gelu_slope(Z)),
}


def _activation(activation: str) -> tuple:
    try:
        return _ACTIVATIONS[activation]
    except KeyError:
        raise ValueError(f"unknown activation {activation!r}") from None


@_reports_overflow
def dense_forward(X, W, b, activation, Z, A):
    """Z = X @ W + b; A = f(Z). Returns True when every Z and A is finite (so non-finite input is seen)."""
    Z[...] = X @ W + b
    A[...] = _activation(activation)[0](Z)
    return bool(np.isfinite(Z).all() and np.isfinite(A).all())


@_reports_overflow
def activation_backward(activation, Z, A, dA, dZ):
    """dZ = dA ⊙ f'(Z); softmax uses its row-wise Jacobian product."""
    dZ[...] = _activation(activation)[1](Z, A, dA)


@_reports_overflow
def dense_backward(X, W, dZ, l2, dW, db, dX=None):
    """dW = Xᵀ @ dZ + l2·W, db = column sums of dZ, dX = dZ @ Wᵀ (if asked)."""
    dW[...] = X.T @ dZ
    if l2:
        dW += W.dtype.type(l2) * W
    db[...] = dZ.sum(axis=0)
    if dX is not None:
        dX[...] = dZ @ W.T


@_reports_overflow
def dense_backward_sgd(X, W, b, dZ, l2, lr, db, dX=None):
    """dense_backward, then a plain SGD step in place: W −= lr·(Xᵀ @ dZ + l2·W), b −= lr·db.

    db and dX (if asked) are filled as by dense_backward, dX from the weights before the step.
    """
    dW = np.empty_like(W)
    dense_backward(X, W, dZ, l2, dW, db, dX)
    sgd_update(W, dW, None, lr, 0.0, False)
    sgd_update(b, db, None, lr, 0.0, False)


@_reports_overflow
def loss_grad(loss, Z, A, Y, dOut, weights=None):
    """Return the data loss Σ wᵢ·lossᵢ / Σ wᵢ; write its gradient, dA (mse) or the fused dZ
    (cross-entropies and scikit-learn's losses), to dOut.

    lossᵢ is row i's loss: for mse and binary_cross_entropy the mean over its k outputs, for
    scikit-learn's losses as ``sklearn_ops.row_losses`` states them. Without
    ``weights`` every row weighs 1 (the mean over rows); weights summing to 0 give 0 and a zero
    gradient. ``Y`` is ``(m, k)`` in the model's dtype, or for ``cross_entropy`` may be class ids
    of shape ``(m,)`` (intp); ``weights`` is ``(m,)`` in the model's dtype.
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}")
    if Y.ndim == 1 and loss != "cross_entropy":
        raise ValueError(f"class ids as Y are for loss 'cross_entropy' only, got loss {loss!r}")
    m, k = A.shape
    dt = Z.dtype.type
    w = np.ones(m) if weights is None else weights.astype(np.float64)
    total = w.sum()
    if m == 0 or k == 0 or total == 0:
        dOut[...] = 0
        return 0.0
    share = (w / total)[:, None]  # each row's share of the batch loss and its gradient
    if loss == "mse":
        diff = A - Y
        per_row = (diff * diff).mean(axis=1, dtype=np.float64)
        dOut[...] = diff * (share * (2.0 / k)).astype(dt)
    elif loss in SKLEARN_LOSSES:  # fused: (A − Y)·wᵢ/Σw, no 1/k
        per_row = row_losses(loss, A, Y)
        dOut[...] = (A - Y) * share.astype(dt)
    elif loss == "cross_entropy":
        log_p = _log_softmax(Z)
        target = Y
        if Y.ndim == 1:
            target = np.zeros_like(A)
            target[np.arange(m), Y] = 1
        per_row = -(target * log_p).sum(axis=1, dtype=np.float64)
        dOut[...] = (A - target) * share.astype(dt)
    else:  # binary cross-entropy from logits
        per_element = np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))
        per_row = per_element.mean(axis=1, dtype=np.float64)
        dOut[...] = (A - Y) * (share / k).astype(dt)
    return float(w @ per_row / total)


def _mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on uint64 arrays (NumPy's array arithmetic wraps modulo 2**64)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(DROPOUT_MIX_1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(DROPOUT_MIX_2)
    return z ^ (z >> np.uint64(31))


def dropout(A, p, key, counter, layer, M, D):
    """Inverted dropout of A with probability p: M = 1/(1 − p) where the generator of (key, counter,
    layer) keeps an element, else 0; D = A ⊙ M.

    The generator (docs/design.md): stream = mix(mix(key + counter·γ) + (layer + 1)·γ); element e
    (row-major) draws bits = mix(stream + (e + 1)·γ) and is kept when bits >= floor(p·2**64).
    """
    gamma = np.array([DROPOUT_GAMMA], dtype=np.uint64)
    inner = _mix64(np.array([key], dtype=np.uint64) + np.array([counter], dtype=np.uint64) * gamma)
    stream = _mix64(inner + np.array([layer + 1], dtype=np.uint64) * gamma)
    bits = _mix64(stream + np.arange(1, A.size + 1, dtype=np.uint64) * gamma)
    keep = (bits >= np.uint64(dropout_threshold(p))).reshape(A.shape)
    M[...] = np.where(keep, A.dtype.type(1.0 / (1.0 - p)), A.dtype.type(0))
    D[...] = A * M


@_reports_overflow
def sgd_update(w, g, v, lr, momentum, nesterov):
    """v ← μ·v + g; w −= lr·v (or lr·(g + μ·v) with Nesterov). PyTorch's SGD."""
    if momentum == 0.0:
        w -= w.dtype.type(lr) * g
        return
    v *= v.dtype.type(momentum)
    v += g
    step = g + v.dtype.type(momentum) * v if nesterov else v
    w -= w.dtype.type(lr) * step


@_reports_overflow
def adam_update(w, g, m, v, t, lr, beta1, beta2, eps):
    """Adam with bias correction at step t (from 1). PyTorch's Adam."""
    dt = w.dtype.type
    m *= dt(beta1)
    m += dt(1.0 - beta1) * g
    v *= dt(beta2)
    v += dt(1.0 - beta2) * (g * g)
    m_hat = m / dt(1.0 - beta1**t)
    v_hat = v / dt(1.0 - beta2**t)
    w -= dt(lr) * m_hat / (np.sqrt(v_hat) + dt(eps))
