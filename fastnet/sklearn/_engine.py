"""The compiled network behind an estimator.

fastnet ``Dense`` layers hold the estimator's coefficients (after a fit, ``coefs_[i]`` and
``intercepts_[i]`` *are* the layers' ``W`` and ``b``), and one engine ``Network`` trains and
runs them with scikit-learn's loss, L2 and optimiser codes (docs/design.md, "scikit-learn's
conventions") and the optimiser state the estimator owns. The public lists stay the source of
truth: arrays assigned to them are copied in before the next use. An engine is never pickled:
the estimator rebuilds it from its lists.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import fastnet
from fastnet import _predict, _train
from fastnet._network import Network
from fastnet._sparse import CSRRows
from fastnet.checks import c_array
from fastnet.optimizer_state import OptimizerState
from fastnet.optimizers import SklearnAdam, SklearnSGD

# scikit-learn's activation names as fastnet's
ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu", "softmax": "softmax",
               "exp": "exp"}
# the loss scikit-learn trains each output activation with
LOSS_OF_OUTPUT = {"identity": "sk_squared_error", "exp": "sk_poisson", "softmax": "sk_log_loss",
                  "logistic": "sk_binary_log_loss"}
PREDICT_CHUNK_ROWS = 8192


def engine_input(X: Any, dtype: np.dtype) -> np.ndarray | CSRRows:
    """X as the engine reads it: a C-contiguous, aligned array, or for scipy.sparse input its CSR rows
    (CSC converted once; never densified)."""
    if hasattr(X, "tocsr"):
        return CSRRows.of(X, dtype)
    return c_array(X, dtype)


def n_rows(X: np.ndarray | CSRRows) -> int:
    return X.n_rows if isinstance(X, CSRRows) else X.shape[0]


class _ModelView:
    """The attributes ``fastnet._network.Network`` reads from a model."""

    def __init__(self, layers: list[Any], loss: str, optimizer: Any) -> None:
        self.layers, self.loss, self.optimizer = tuple(layers), loss, optimizer
        self.dtype = self.layers[0].dtype
        self._dropout_key = 0  # the estimators have no dropout


class EngineNet:
    """The layers and network of one estimator in one dtype, training with the optimiser and state
    the estimator attaches."""

    def __init__(self, coefs: list[np.ndarray], intercepts: list[np.ndarray], activation: str, out_activation: str,
                 alpha: float, dtype: np.dtype) -> None:
        n = len(coefs)
        self.config = (activation, out_activation, float(alpha), np.dtype(dtype))
        self.layers = [
            fastnet.Dense(*coef.shape, ACTIVATIONS[out_activation if i == n - 1 else activation], l2=alpha,
                          dtype=dtype, seed=0)
            for i, coef in enumerate(coefs)
        ]
        self.loss = LOSS_OF_OUTPUT[out_activation]
        self.optimizer: SklearnSGD | SklearnAdam | None = None
        self.state: OptimizerState | None = None
        self._net: Network | None = None
        self.load(coefs, intercepts)

    def fits(self, coefs: list[Any], intercepts: list[Any], activation: str, out_activation: str, alpha: float,
             dtype: np.dtype) -> bool:
        """Whether these layers can hold ``coefs``/``intercepts`` with this configuration."""
        shapes = [layer.W.shape for layer in self.layers]
        return (self.config == (activation, out_activation, float(alpha), np.dtype(dtype))
                and len(coefs) == len(intercepts) == len(shapes)
                and all(np.shape(c) == s for c, s in zip(coefs, shapes))
                and all(np.shape(b) == (s[1],) for b, s in zip(intercepts, shapes)))

    def holds(self, coefs: list[Any], intercepts: list[Any]) -> bool:
        """Whether the public lists are this engine's own arrays (nothing was assigned since)."""
        return len(coefs) == len(self.layers) and all(
            c is layer.W and b is layer.b for c, b, layer in zip(coefs, intercepts, self.layers))

    def predict_common(self, X: Any) -> np.ndarray | None:
        """The output for the common call, checked in C (a C-contiguous array of the network's
        dtype and width, up to a thousand rows, finite), or None: take the full path."""
        return _predict.predict_common(self.network(), X, strict=False)

    def load(self, coefs: list[Any], intercepts: list[Any]) -> None:
        """Copy in every array that is not already a layer's own."""
        for layer, coef, intercept in zip(self.layers, coefs, intercepts):
            if coef is not layer.W:
                layer.W = coef
            if intercept is not layer.b:
                layer.b = intercept

    def publish(self, coefs: list[Any], intercepts: list[Any]) -> None:
        """Make the estimator's lists hold the layers' arrays (in place: the lists stay the same objects)."""
        coefs[:] = [layer.W for layer in self.layers]
        intercepts[:] = [layer.b for layer in self.layers]

    def pack(self) -> np.ndarray:
        """Every coefficient, then every intercept, in one vector (scikit-learn's L-BFGS packing)."""
        return np.concatenate([layer.W.ravel() for layer in self.layers] + [layer.b for layer in self.layers])

    def unpack(self, packed: np.ndarray) -> None:
        """Write ``pack``'s layout back into the layers."""
        start = 0
        for layer in self.layers:
            end = start + layer.W.size
            layer.W[...] = packed[start:end].reshape(layer.W.shape)
            start = end
        for layer in self.layers:
            end = start + layer.b.size
            layer.b[...] = packed[start:end]
            start = end

    # ---------------------------------------------------------------- optimiser
    def new_state(self, optimizer: SklearnSGD | SklearnAdam) -> OptimizerState:
        """Zero state for ``optimizer`` over these layers (scikit-learn starts one per fit)."""
        slots = [{name: np.zeros_like(p) for name in optimizer.slots} for layer in self.layers
                 for p in (layer.W, layer.b)]
        return OptimizerState(optimizer.kind, slots, 0)

    def attach(self, optimizer: SklearnSGD | SklearnAdam, state: OptimizerState) -> None:
        """Train with ``optimizer`` and its ``state`` (the estimator owns both)."""
        if optimizer is not self.optimizer or state is not self.state:
            self.optimizer, self.state, self._net = optimizer, state, None

    def network(self) -> Network:
        net = self._net
        if net is None:
            view = _ModelView(self.layers, self.loss, self.optimizer or SklearnSGD())
            net = self._net = Network(view, self.state)
        if self.optimizer is not None and net.settings_version != self.optimizer._version:
            net.read_settings(self.optimizer)
        return net

    # ---------------------------------------------------------------- work
    def epoch(self, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None, order: np.ndarray | None,
              batch_size: int) -> float:
        """One pass over the batches of ``order`` (None: in place), stepping on through non-finite
        losses as scikit-learn does; returns the epoch's loss, batch losses averaged by rows."""
        n = n_rows(X)
        stretch = _train.train(
            self.network(), X, Y, weights=weights, order=order, batch_size=batch_size, first=0,
            last=-(-n // batch_size), step=self.state.step, seconds=math.inf, keep_going=True,
        )
        self.state.step += stretch.steps
        return stretch.row_loss_sum / n

    def loss_and_gradient(self, X: np.ndarray, Y: np.ndarray, weights: np.ndarray | None) -> float:
        """The full batch's loss; the layers' dW and db hold its gradient."""
        return _train.gradient(self.network(), X, Y, weights=weights)

    def predict(self, X: np.ndarray | CSRRows) -> np.ndarray:
        """The output activations for ``engine_input`` X of this network's dtype."""
        net, n = self.network(), n_rows(X)
        out = np.empty((n, self.layers[-1].n_out), dtype=self.config[3])
        for start in range(0, n, PREDICT_CHUNK_ROWS):
            stop = min(start + PREDICT_CHUNK_ROWS, n)
            chunk = X.rows(start, stop) if isinstance(X, CSRRows) else X[start:stop]
            _predict.forward(net, chunk, out[start:stop])  # non-finite outputs are returned as they are
        return out
