"""Seed 002's ``NN`` constructor over fastnet's layers, with true gradients.

``NN(dimensions=(64, 15, 10), activations=(ReLU, Sigmoid), loss=MSE,
optimizer=SGD(learning_rate=2.0))`` builds the blog post's network. Weights are
drawn as the post draws them, ``np.random.randn(n_in, n_out) / sqrt(n_in)``
from NumPy's global random state, and ``fit`` shuffles from it too, so
``np.random.seed(1)`` makes a run reproducible. Unlike the post, gradients are
the true ones and the last partial batch is used (see docs/design.md, "Seed 002's recipe").
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from fastnet.checks import check_int
from fastnet.model import Sequential


class _PrintEvery:
    """Prints ``[epoch] train loss: ...`` every ``every`` epochs, as the post's ``print_every``."""

    def __init__(self, every: float, model: Sequential, X: np.ndarray, Y: np.ndarray) -> None:
        self.every, self.model, self.X, self.Y = every, model, X, Y

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        if math.isfinite(self.every) and (epoch + 1) % self.every == 0:
            print(f"[{epoch + 1}] train loss: {self.model._evaluate(self.X, self.Y)['loss']}")


class NN:
    """Seed 002's network: ``dimensions`` are layer widths, one activation per weight layer."""

    _sequential: ClassVar[type[Sequential]] = Sequential  # the backend's Sequential, set by bind

    def __init__(self, dimensions: Any, activations: Any, loss: Any, optimizer: Any) -> None:
        dims = [check_int(f"dimensions[{i}]", d) for i, d in enumerate(dimensions)]
        activations = list(activations)
        if len(dims) < 2:
            raise ValueError(f"dimensions must list at least 2 widths (input and output), got {dims}")
        if len(activations) != len(dims) - 1:
            raise ValueError(
                f"activations must have one entry per layer, len(dimensions) - 1 = {len(dims) - 1}, "
                f"got {len(activations)}"
            )
        layer_type = self._sequential._layer_type
        layers = []
        for n_in, n_out, activation in zip(dims, dims[1:], activations):
            layer = layer_type(n_in, n_out, activation=activation, init="lecun", seed=0)
            layer.W = np.random.randn(n_in, n_out) / np.sqrt(n_in)
            layers.append(layer)
        self.n_layers = len(dims)
        self.model = self._sequential(layers, loss=loss, optimizer=optimizer)

    @property
    def layers(self) -> list[Any]:
        """The underlying Dense layers."""
        return self.model.layers

    def fit(self, X: Any, y: Any, epochs: int, batch_size: int, print_every: float = math.inf) -> Any:
        """Train ``epochs`` epochs in shuffled minibatches; prints the training loss every ``print_every``."""
        X, Y = self.model._check_XY(X, y, names=("X", "y"))
        epochs = check_int("epochs", epochs, minimum=0)
        batch_size = check_int("batch_size", batch_size)
        if not math.isinf(print_every):
            print_every = check_int("print_every", print_every)
        printer = _PrintEvery(print_every, self.model, X, Y)
        return self.model._fit(X, Y, None, epochs, batch_size, True, None, 0, [printer], np.random)

    def predict(self, X: Any) -> np.ndarray:
        """The network's outputs for ``X``."""
        return self.model.predict(X)
