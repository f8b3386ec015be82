"""NumPy ops: the golden oracle behind ``fastnet.reference``.

Every function here is the readable statement of one piece of math from
DESIGN.md. Arguments are C-contiguous arrays of one float dtype (the API layer
converts once); results are written into the output arrays passed in, so the
compiled ops in ``fastnet._ops`` can be swapped in with the same calls.
"""

from __future__ import annotations

import functools

import numpy as np

LEAKY_SLOPE = 0.01


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


def _activate(activation: str, Z: np.ndarray) -> np.ndarray:
    if activation == "identity":
        return Z
    if activation == "relu":
        return np.maximum(Z, 0)
    if activation == "leaky_relu":
        return np.where(Z > 0, Z, Z * Z.dtype.type(LEAKY_SLOPE))
    if activation == "tanh":
        return np.tanh(Z)
    if activation == "sigmoid":
        return _sigmoid(Z)
    if activation == "softmax":
        return _softmax(Z)
    raise ValueError(f"unknown activation {activation!r}")


@_reports_overflow
def dense_forward(X, W, b, activation, Z, A):
    """Z = X @ W + b; A = f(Z). Returns True when every Z is finite (so non-finite input is seen)."""
    Z[...] = X @ W + b
    A[...] = _activate(activation, Z)
    return bool(np.isfinite(Z).all())


@_reports_overflow
def activation_backward(activation, Z, A, dA, dZ):
    """dZ = dA ⊙ f'(Z); softmax uses its row-wise Jacobian product."""
    one = Z.dtype.type(1)
    if activation == "identity":
        dZ[...] = dA
    elif activation == "relu":
        dZ[...] = dA * (Z > 0)
    elif activation == "leaky_relu":
        dZ[...] = dA * np.where(Z > 0, one, Z.dtype.type(LEAKY_SLOPE))
    elif activation == "tanh":
        dZ[...] = dA * ((one - A) * (one + A))  # 1 − A², without its cancellation near |A| = 1
    elif activation == "sigmoid":
        dZ[...] = dA * A * (one - A)
    elif activation == "softmax":
        dZ[...] = A * (dA - (dA * A).sum(axis=1, keepdims=True))
    else:
        raise ValueError(f"unknown activation {activation!r}")


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
def loss_grad(loss, Z, A, Y, dOut):
    """Return the data loss; write dA (mse) or the fused dZ (cross-entropies) to dOut.

    ``Y`` is ``(m, k)`` in the model's dtype, or for ``cross_entropy`` may be
    class ids of shape ``(m,)`` (intp).
    """
    m, k = A.shape
    if loss == "mse":
        diff = A - Y
        dOut[...] = diff * Z.dtype.type(2.0 / (m * k))
        return float(np.mean(diff * diff))
    if loss == "cross_entropy":
        log_p = _log_softmax(Z)
        if Y.ndim == 1:
            rows = np.arange(m)
            value = -log_p[rows, Y].sum() / m
            dOut[...] = A
            dOut[rows, Y] -= 1
        else:
            value = -(Y * log_p).sum() / m
            dOut[...] = A - Y
        dOut /= m
        return float(value)
    if loss == "binary_cross_entropy":
        per_element = np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))
        dOut[...] = (A - Y) / Z.dtype.type(m * k)
        return float(per_element.mean())
    raise ValueError(f"unknown loss {loss!r}")


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
