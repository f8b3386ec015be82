"""``to_onnx``: a ``Sequential`` as an ONNX model (onnx's helper API; no scikit-learn needed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from fastnet.checks import check_dtype
from fastnet.onnx._graph import IR_VERSION, OPSET, Layer, network

PROBABILITY_OUTPUTS = ("softmax", "sigmoid")


class GraphBuilder:
    """Nodes and initializers of one ONNX graph, each name made unique from its hint."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._used: set[str] = set()

    def name(self, hint: str) -> str:
        name, n = hint, 0
        while name in self._used:
            n += 1
            name = f"{hint}_{n}"
        self._used.add(name)
        return name

    def constant(self, hint: str, value: np.ndarray) -> str:
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(self, op: str, inputs: Sequence[str], hint: str, **attributes: Any) -> str:
        output = self.name(hint)
        self.nodes.append(helper.make_node(op, list(inputs), [output], name=self.name(f"{op}_{hint}"), **attributes))
        return output

    def rename(self, name: str, new_name: str) -> str:
        """Give the node output ``name`` its public name (no Identity node: one less op per run)."""
        self._used.add(new_name)
        for node in self.nodes:
            node.input[:] = [new_name if i == name else i for i in node.input]
            node.output[:] = [new_name if o == name else o for o in node.output]
        return new_name


def layers_of(model: Any) -> list[Layer]:
    """The (W, b, activation) of each Dense layer of a fastnet or fastnet.reference ``Sequential``."""
    try:
        layers = model.layers
        return [Layer(layer.W, layer.b, layer.activation) for layer in layers]
    except AttributeError:
        raise TypeError(
            f"model must be a fastnet Sequential (fastnet.Sequential or fastnet.reference.Sequential), got "
            f"{type(model).__name__}; export a fastnet.sklearn estimator with skl2onnx.to_onnx after importing "
            "fastnet.onnx"
        ) from None


def to_onnx(model: Any, *, dtype: Any = None, input_name: str = "X", name: str = "fastnet",
            doc_string: str = "") -> onnx.ModelProto:
    """The network of a ``Sequential`` as an ONNX model (opset ``fastnet.onnx.OPSET``).

    The graph takes one input, ``input_name``, of shape ``(N, n_in)`` with a dynamic batch
    dimension ``N``, and gives ``output``, equal to ``model.predict(X)`` (1e-5 in float32, 1e-12
    in float64 on ONNX Runtime). A softmax or sigmoid last layer's output is the class
    probabilities; such a model also gives ``label`` (int64): the argmax of each row for
    softmax, ``output > 0.5`` elementwise for sigmoid, the rule of fastnet's accuracy.

    ``dtype`` (default: the model's) is the graph's type: ``"float32"`` or ``"float64"``.
    Dropout does not appear: it acts only while training.
    """
    layers = layers_of(model)
    dtype = model.dtype if dtype is None else check_dtype(dtype)
    if not isinstance(input_name, str) or not input_name or input_name in ("output", "label"):
        raise ValueError(f"input_name must be a non-empty string other than 'output' and 'label', got {input_name!r}")
    elem = helper.np_dtype_to_tensor_dtype(dtype)
    g = GraphBuilder()
    g.name(input_name)
    last = layers[-1].activation
    outputs = [helper.make_tensor_value_info(g.rename(network(g, layers, input_name, dtype), "output"), elem,
                                             ["N", layers[-1].W.shape[1]])]
    if last == "softmax":
        g.node("ArgMax", ["output"], "label", axis=1, keepdims=0)
        outputs.append(helper.make_tensor_value_info("label", onnx.TensorProto.INT64, ["N"]))
    elif last == "sigmoid":
        half = g.constant("half", np.asarray(0.5, dtype=dtype))
        g.node("Cast", [g.node("Greater", ["output", half], "above_half")], "label", to=onnx.TensorProto.INT64)
        outputs.append(helper.make_tensor_value_info("label", onnx.TensorProto.INT64, ["N", layers[-1].W.shape[1]]))
    inputs = [helper.make_tensor_value_info(input_name, elem, ["N", layers[0].W.shape[0]])]
    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.initializers)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="fastnet",
                                   doc_string=doc_string, ir_version=IR_VERSION)
    onnx.checker.check_model(onnx_model)
    return onnx_model
