"""ONNX Runtime (inference only): the network as MatMul/Add/activation nodes, CPU provider, THREADS intra-op threads."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from workloads import THREADS, Workload, initial_params, one_sample

OPS = {"relu": "Relu", "sigmoid": "Sigmoid", "identity": None}


def model_bytes(w: Workload) -> bytes:
    """The workload's network (shared initial weights) as a serialised ONNX model, batch dimension free."""
    elem = TensorProto.DOUBLE if w.dtype == "float64" else TensorProto.FLOAT
    nodes, weights, x = [], [], "X"
    for i, ((W, b), act) in enumerate(zip(initial_params(w.name), w.activations)):
        weights += [numpy_helper.from_array(W, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes += [helper.make_node("MatMul", [x, f"W{i}"], [f"p{i}"]),
                  helper.make_node("Add", [f"p{i}", f"b{i}"], [f"z{i}"])]
        x = f"z{i}"
        if OPS[act]:
            nodes.append(helper.make_node(OPS[act], [x], [f"a{i}"]))
            x = f"a{i}"
    graph = helper.make_graph(
        nodes, w.name, [helper.make_tensor_value_info("X", elem, ["N", w.sizes[0]])],
        [helper.make_tensor_value_info(x, elem, ["N", w.sizes[-1]])], weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # old enough for any recent runtime
    return model.SerializeToString()


def predictor(w: Workload) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = THREADS, 1
    session = ort.InferenceSession(model_bytes(w), options, providers=["CPUExecutionProvider"])
    output, x = session.get_outputs()[0].name, one_sample(w.name)

    def predict() -> np.ndarray:
        return session.run([output], {"X": x})[0]

    return predict
