"""skl2onnx converters for ``fastnet.sklearn.MLPClassifier`` and ``MLPRegressor``.

The network comes from the same builder as ``to_onnx``; the outputs follow skl2onnx's
conventions for scikit-learn's MLP (a classifier gives ``label`` and ``probabilities``, which
skl2onnx's parser wraps in a ZipMap unless ``options={"zipmap": False}``; a regressor gives
``variable``), and go beyond its own MLP converter: the Poisson regressor's ``exp`` output,
multi-output regression as ``(N, n_outputs)``, and labels taken from ``classes_`` exactly
(integers as int64, strings as strings). The graph computes in the input's type: float64 for a
``DoubleTensorType`` input, float32 otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType, Int64TensorType, StringTensorType
from skl2onnx.common.utils import check_input_and_output_numbers

from fastnet.onnx._graph import Layer, network
from fastnet.sklearn import MLPClassifier, MLPRegressor
from fastnet.sklearn._engine import ACTIVATIONS


class ContainerBuilder:
    """The graph builder over skl2onnx's scope (unique names) and container (nodes, initializers)."""

    def __init__(self, scope: Any, container: Any) -> None:
        self.scope, self.container = scope, container

    def constant(self, hint: str, value: np.ndarray) -> str:
        name = self.scope.get_unique_variable_name(hint)
        value = np.asarray(value)
        if value.dtype == object:  # strings: the container copies only numbers' raw bytes
            self.container.add_initializer(name, TensorProto.STRING, list(value.shape),
                                           [str(v).encode("utf-8") for v in value.ravel()])
        else:
            tensor = numpy_helper.from_array(value, name)
            self.container.add_initializer(name, tensor.data_type, list(value.shape), tensor)
        return name

    def node(self, op: str, inputs: Sequence[str], hint: str, output: str | None = None, **attributes: Any) -> str:
        output = output or self.scope.get_unique_variable_name(hint)
        self.container.add_node(op, list(inputs), [output], name=self.scope.get_unique_operator_name(op), **attributes)
        return output


def _compute_dtype(operator: Any) -> np.dtype:
    return np.dtype(np.float64 if isinstance(operator.inputs[0].type, DoubleTensorType) else np.float32)


def _output_type(operator: Any) -> type:
    return DoubleTensorType if _compute_dtype(operator) == np.float64 else FloatTensorType


def _network_output(g: ContainerBuilder, operator: Any) -> str:
    """The estimator's output activations for the operator's input, cast to the compute type first."""
    est, dtype = operator.raw_operator, _compute_dtype(operator)
    hidden = ACTIVATIONS[est.activation]
    layers = [Layer(W, b, hidden) for W, b in zip(est.coefs_, est.intercepts_)]
    layers[-1] = layers[-1]._replace(activation=ACTIVATIONS[est.out_activation_])
    x = g.node("Cast", [operator.inputs[0].full_name], "cast_input", to=helper.np_dtype_to_tensor_dtype(dtype))
    return network(g, layers, x, dtype)


def _is_multilabel(est: Any) -> bool:
    return est._label_binarizer.y_type_ == "multilabel-indicator"


def _class_labels(est: Any) -> np.ndarray:
    """``classes_`` as ONNX holds them: int64 for numbers (booleans as 0/1; float labels are whole
    numbers, as scikit-learn's classifiers accept no others), strings otherwise."""
    classes = np.asarray(est.classes_)
    if classes.dtype.kind in "iubf":
        return classes.astype(np.int64)
    return np.array([str(c) for c in classes], dtype=object)


def _class_indices(options_of: Any, est: Any) -> bool:
    """skl2onnx's option ``nocl``: labels as class indices 0 .. n_classes − 1 instead of ``classes_``."""
    return bool(options_of(est, {"nocl": False})["nocl"])


def classifier_shapes(operator: Any) -> None:
    """label: (N,) of classes_'s type (int64 indices with ``nocl``; (N, n_classes) int64 for
    multilabel); probabilities: (N, n_classes)."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=2)
    est = operator.raw_operator
    n = operator.inputs[0].get_first_dimension()
    n_classes = len(est.classes_)
    indices = _class_indices(operator.scope_inst.get_options, est)
    if _is_multilabel(est) and indices:
        raise ValueError("options={'nocl': True} has no meaning for multilabel targets (their labels are 0/1 rows)")
    if _is_multilabel(est):
        operator.outputs[0].type = Int64TensorType([n, n_classes])
    elif _class_labels(est).dtype == object and not indices:
        operator.outputs[0].type = StringTensorType([n])
    else:
        operator.outputs[0].type = Int64TensorType([n])
    operator.outputs[1].type = _output_type(operator)([n, n_classes])


def convert_classifier(scope: Any, operator: Any, container: Any) -> None:
    """predict_proba as ``probabilities`` (binary: [1 − p, p]) and predict as ``label``."""
    g, est = ContainerBuilder(scope, container), operator.raw_operator
    if _compute_dtype(operator) == np.float64 and container.get_options(est, {"zipmap": True})["zipmap"]:
        raise ValueError("a float64 (DoubleTensorType) input needs options={'zipmap': False}: ONNX's ZipMap "
                         "takes float32 probabilities only")
    label, probabilities = (v.full_name for v in operator.outputs)
    p, dtype = _network_output(g, operator), _compute_dtype(operator)

    def above_half(hint: str, output: str | None = None) -> str:  # LabelBinarizer's threshold, (1 + 0) / 2
        above = g.node("Greater", [p, g.constant("half", np.asarray(0.5, dtype=dtype))], "above_half")
        return g.node("Cast", [above], hint, output=output, to=TensorProto.INT64)

    if _is_multilabel(est):
        g.node("Identity", [p], "probabilities", output=probabilities)
        above_half("label", output=label)
        return
    if est.n_outputs_ == 1:  # binary: p is the positive class's probability, (N, 1)
        one = g.constant("one", np.asarray(1.0, dtype=dtype))
        g.node("Concat", [g.node("Sub", [one, p], "negative"), p], "probabilities", output=probabilities, axis=1)
        positive = above_half("positive")
        index = g.node("Reshape", [positive, g.constant("flat", np.array([-1], dtype=np.int64))], "index")
    else:
        g.node("Identity", [p], "probabilities", output=probabilities)
        index = g.node("ArgMax", [p], "index", axis=1, keepdims=0)
    if _class_indices(container.get_options, est):
        g.node("Identity", [index], "label", output=label)
    else:
        g.node("Gather", [g.constant("classes", _class_labels(est)), index], "label", output=label, axis=0)


def regressor_shapes(operator: Any) -> None:
    """variable: (N, n_outputs)."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = _output_type(operator)([n, operator.raw_operator.n_outputs_])


def convert_regressor(scope: Any, operator: Any, container: Any) -> None:
    """predict as ``variable``, one column per output (the Poisson loss's ``exp`` output included)."""
    g = ContainerBuilder(scope, container)
    g.node("Identity", [_network_output(g, operator)], "variable", output=operator.outputs[0].full_name)


def register() -> None:
    """Teach skl2onnx both estimators (safe to call again)."""
    update_registered_converter(MLPClassifier, "FastnetMLPClassifier", classifier_shapes, convert_classifier,
                                options={"zipmap": [True, False, "columns"], "nocl": [False, True]})
    update_registered_converter(MLPRegressor, "FastnetMLPRegressor", regressor_shapes, convert_regressor)
