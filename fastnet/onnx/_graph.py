"""A dense network as ONNX nodes, written once for both exporters (``fastnet.onnx.to_onnx`` and
the skl2onnx converters): each builds the graph through a ``Builder`` of its own.

Every activation is spelled with operators that ONNX Runtime runs in float32 and float64 at full
precision: GELU (its tanh form, fastnet's) is composed from Mul/Add/Tanh, as ONNX's ``Gelu`` op
is newer than the pinned opset and its float64 kernel is only accurate to about 1e-9.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import numpy as np

from fastnet._codes import GELU_CUBIC, GELU_SQRT_2_OVER_PI, LEAKY_SLOPE

# The ONNX opset the graphs are written for (the default domain): Softmax's row-wise form is 13+,
# and 17 is run by every ONNX Runtime release of the last years.
OPSET = 17
IR_VERSION = 8  # the IR version of opset 17's ONNX release (older runtimes refuse newer ones)


class Layer(NamedTuple):
    """One affine layer and its activation (fastnet's name for it)."""

    W: np.ndarray
    b: np.ndarray
    activation: str


class Builder(Protocol):
    """What the network needs from an exporter: constants and nodes, each named afresh from a hint."""

    def constant(self, hint: str, value: np.ndarray) -> str:
        """Add an initializer holding ``value``; return its name."""

    def node(self, op: str, inputs: Sequence[str], hint: str, **attributes: Any) -> str:
        """Add a node with one output; return the output's name."""


def _gelu(g: Builder, z: str, dtype: np.dtype) -> str:
    """½·z·(1 + tanh(√(2/π)·(z + 0.044715·z³))), in the order fastnet computes it."""
    def c(hint: str, value: float) -> str:
        return g.constant(hint, np.asarray(value, dtype=dtype))

    cubic = g.node("Mul", [g.node("Mul", [g.node("Mul", [c("gelu_cubic", GELU_CUBIC), z], "cz"), z], "czz"), z], "czzz")
    inner = g.node("Add", [z, cubic], "inner")
    t = g.node("Tanh", [g.node("Mul", [c("gelu_scale", GELU_SQRT_2_OVER_PI), inner], "scaled")], "t")
    half_z = g.node("Mul", [c("half", 0.5), z], "half_z")
    return g.node("Mul", [half_z, g.node("Add", [c("one", 1.0), t], "one_plus_t")], "gelu")


def _leaky_relu(g: Builder, z: str, dtype: np.dtype) -> str:
    """z where z > 0, else slope·z (built from Where: ONNX Runtime's LeakyRelu has no float64 kernel)."""
    positive = g.node("Greater", [z, g.constant("zero", np.asarray(0, dtype=dtype))], "positive")
    scaled = g.node("Mul", [z, g.constant("leaky_slope", np.asarray(LEAKY_SLOPE, dtype=dtype))], "leaky")
    return g.node("Where", [positive, z, scaled], "leaky_relu")


_SINGLE_OPS = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid", "exp": "Exp"}


def activation(g: Builder, name: str, z: str, dtype: np.dtype) -> str:
    """The nodes of activation ``name`` applied to ``z``; the name of the result."""
    if name == "identity":
        return z
    if name == "softmax":
        return g.node("Softmax", [z], "softmax", axis=-1)
    if name == "gelu":
        return _gelu(g, z, dtype)
    if name == "leaky_relu":
        return _leaky_relu(g, z, dtype)
    if name in _SINGLE_OPS:
        return g.node(_SINGLE_OPS[name], [z], name)
    raise ValueError(f"activation {name!r} has no ONNX form")


def network(g: Builder, layers: Sequence[Layer], x: str, dtype: np.dtype) -> str:
    """``A = f(X @ W + b)`` layer by layer from the input ``x``; returns the last layer's output.
    The parameters are stored in ``dtype`` (the graph computes in it)."""
    a = x
    for i, layer in enumerate(layers):
        W = g.constant(f"W{i}", np.asarray(layer.W, dtype=dtype))
        b = g.constant(f"b{i}", np.asarray(layer.b, dtype=dtype))
        z = g.node("Add", [g.node("MatMul", [a, W], f"XW{i}"), b], f"Z{i}")
        a = activation(g, layer.activation, z, dtype)
    return a
