"""ONNX export: fastnet.onnx.to_onnx for Sequential models and the skl2onnx converters of
fastnet.sklearn's estimators, each graph run in ONNX Runtime against predict/predict_proba."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import fastnet
from fastnet.activations import ACTIVATIONS, LAST_LAYER_ONLY

from helpers import KERNEL_TOL, assert_close, require

onnx = require("onnx")
ort = require("onnxruntime")
require("sklearn")
skl2onnx = require("skl2onnx")
from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType  # noqa: E402

from fastnet.onnx import OPSET, to_onnx  # noqa: E402
from fastnet.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

DTYPES = [np.float64, np.float32]
HIDDEN = [a for a in ACTIVATIONS if a not in LAST_LAYER_ONLY]
LOSS_OF_LAST = {"softmax": "cross_entropy", "sigmoid": "binary_cross_entropy"}


def run(model_proto, X):
    session = ort.InferenceSession(model_proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})


def sequential(backend, hidden, last, dtype, sizes=(5, 7, 3), seed=0):
    pairs = enumerate(zip(sizes, sizes[1:-1]))
    layers = [backend.Dense(a, b, hidden, dtype=dtype, seed=seed + i) for i, (a, b) in pairs]
    layers.append(backend.Dense(sizes[-2], sizes[-1], last, dtype=dtype, seed=seed + 9))
    return backend.Sequential(layers, loss=LOSS_OF_LAST.get(last, "mse"))


def inputs(n_in, dtype, m=37, seed=1):
    return (np.random.default_rng(seed).normal(size=(m, n_in)) * 2).astype(dtype)


# ---------------------------------------------------------------------------- Sequential
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("last", ["identity", "softmax", "sigmoid", "exp", "tanh"])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_every_activation_matches_predict(hidden, last, dtype):
    model = sequential(fastnet, hidden, last, dtype)
    X = inputs(5, dtype) / (4 if "exp" in (hidden, last) else 1)  # exp of exp stays finite
    outputs = run(to_onnx(model), X)
    assert outputs[0].dtype == dtype
    assert_close(outputs[0], model.predict(X), KERNEL_TOL[dtype], what="output")


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_labels_follow_the_accuracy_rule(dtype):
    softmax = sequential(fastnet, "relu", "softmax", dtype)
    X = inputs(5, dtype, m=200)
    output, label = run(to_onnx(softmax), X)
    assert label.dtype == np.int64 and np.array_equal(label, softmax.predict(X).argmax(axis=1))
    sigmoid = sequential(fastnet, "tanh", "sigmoid", dtype)
    output, label = run(to_onnx(sigmoid), X)
    assert label.shape == (200, 3) and np.array_equal(label, (sigmoid.predict(X) > 0.5).astype(np.int64))
    assert len(run(to_onnx(sequential(fastnet, "relu", "identity", dtype)), X)) == 1  # regression: output only


@pytest.mark.parametrize("m", [1, 2, 1000])
def test_the_batch_dimension_is_dynamic(m):
    model = sequential(fastnet, "gelu", "softmax", np.float64, sizes=(64, 15, 10))
    proto = to_onnx(model)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    X = inputs(64, np.float64, m=m)
    assert_close(run(proto, X)[0], model.predict(X), 1e-12)


def test_a_trained_model_and_the_reference_backend_export_alike():
    X = inputs(5, np.float64, m=120)
    Y = np.eye(3)[np.random.default_rng(2).integers(0, 3, 120)]
    for backend in (fastnet, fastnet.reference):
        model = sequential(backend, "leaky_relu", "softmax", np.float64, sizes=(5, 9, 8, 3))
        model.fit(X, Y, epochs=3, batch_size=16, verbose=0)
        assert_close(run(to_onnx(model), X)[0], model.predict(X), 1e-12)


def test_export_in_another_dtype_and_metadata():
    model = sequential(fastnet, "relu", "identity", np.float64)
    proto = to_onnx(model, dtype="float32", input_name="features", name="net")
    assert proto.opset_import[0].version == OPSET and proto.graph.name == "net"
    X = inputs(5, np.float32)
    assert_close(run(proto, X)[0], model.predict(X.astype(np.float64)).astype(np.float32), 1e-5)


def test_dropout_is_left_out():
    model = fastnet.Sequential([fastnet.Dense(5, 8, "relu", dropout=0.5, seed=0), fastnet.Dense(8, 2, "identity")])
    X = inputs(5, np.float64)
    assert_close(run(to_onnx(model), X)[0], model.predict(X), 1e-12)


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="model must be a fastnet Sequential"):
        to_onnx(object())
    model = sequential(fastnet, "relu", "identity", np.float64)
    with pytest.raises(ValueError, match="dtype"):
        to_onnx(model, dtype="int32")
    with pytest.raises(ValueError, match="input_name"):
        to_onnx(model, input_name="output")


def test_importing_fastnet_imports_neither_onnx_nor_scikit_learn():
    code = ("import sys, fastnet, numpy as np; fastnet.Sequential([fastnet.Dense(2, 1)]).predict(np.ones((1, 2)));"
            "print(sorted(m for m in ('onnx', 'sklearn', 'skl2onnx') if m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "[]\n"


# ---------------------------------------------------------------------------- skl2onnx converters
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def fitted(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X, y)


def convert(estimator, X, **options):
    return skl2onnx.to_onnx(estimator, X[:1], options={type(estimator): options} if options else None)


LABELS = {
    "multiclass ints": lambda rng, m: rng.integers(0, 4, m) * 3,
    "binary strings": lambda rng, m: np.array(["no", "yes"])[rng.integers(0, 2, m)],
    "multiclass strings": lambda rng, m: np.array(["cat", "dog", "eel"])[rng.integers(0, 3, m)],
    "booleans": lambda rng, m: rng.integers(0, 2, m).astype(bool),
    "whole floats": lambda rng, m: rng.integers(0, 3, m).astype(float),
    "multilabel": lambda rng, m: rng.integers(0, 2, (m, 3)),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("labels", LABELS.values(), ids=LABELS.keys())
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_classifier_labels_and_probabilities(activation, labels, dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6)).astype(dtype)
    est = fitted(MLPClassifier((9, 5), activation=activation, max_iter=40, random_state=0), X, labels(rng, 80))
    label, probabilities = run(convert(est, X, zipmap=False), X)
    assert probabilities.dtype == dtype
    assert_close(probabilities, est.predict_proba(X), KERNEL_TOL[dtype], what="probabilities")
    want = est.predict(X)
    assert np.array_equal(label, want.astype(np.int64) if want.dtype.kind in "biuf" else want)


def test_classifier_on_digits_with_zipmap():
    X, y = digits()
    est = fitted(MLPClassifier((32,), max_iter=30, random_state=0), X, y)
    X32 = X.astype(np.float32)
    label, probabilities = run(convert(est, X32), X32)  # float32 input: ZipMap's dictionaries
    assert np.mean(label == est.predict(X)) > 0.999
    got = np.array([[row[c] for c in est.classes_] for row in probabilities])
    assert_close(got, est.predict_proba(X), 1e-5)
    label64, probabilities64 = run(convert(est, X, zipmap=False), X)
    assert np.array_equal(label64, est.predict(X))
    assert_close(probabilities64, est.predict_proba(X), 1e-12)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_regressor_outputs_poisson_included(n_outputs, loss, dtype):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(70, 4)).astype(dtype)
    y = np.abs(rng.normal(size=(70, n_outputs))).astype(dtype) + 0.1
    est = fitted(MLPRegressor(hidden_layer_sizes=(8,), loss=loss, activation="tanh", max_iter=60, random_state=0),
                 X, y.ravel() if n_outputs == 1 else y)
    (variable,) = run(convert(est, X), X)
    assert variable.shape == (70, n_outputs) and variable.dtype == dtype
    assert_close(variable, est.predict(X).reshape(70, n_outputs), KERNEL_TOL[dtype])


def test_converters_in_a_pipeline_and_named_input_types():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = digits()
    pipe = fitted(make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=20, random_state=0)), X, y)
    proto = skl2onnx.to_onnx(pipe, initial_types=[("pixels", DoubleTensorType([None, 64]))],
                             options={MLPClassifier: {"zipmap": False}})
    label, probabilities = run(proto, X)
    assert np.array_equal(label, pipe.predict(X))
    assert_close(probabilities, pipe.predict_proba(X), 1e-12)
    reg = fitted(MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0), X, y.astype(float))
    proto = skl2onnx.to_onnx(reg, initial_types=[("pixels", FloatTensorType([None, 64]))])
    assert_close(run(proto, X.astype(np.float32))[0].ravel(), reg.predict(X.astype(np.float32)).astype(np.float32),
                 1e-5)


@pytest.mark.parametrize("classes", [np.array(["no", "yes"]), np.array(["cat", "dog", "eel"]), np.array([3, 7, 9])],
                         ids=["binary", "strings", "ints"])
def test_nocl_gives_class_indices(classes):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    est = fitted(MLPClassifier((6,), max_iter=20, random_state=0), X, classes[rng.integers(0, len(classes), 60)])
    want = np.searchsorted(est.classes_, est.predict(X))
    label, _ = run(convert(est, X, nocl=True, zipmap=False), X)
    assert label.dtype == np.int64 and np.array_equal(label, want)
    label, probabilities = run(convert(est, X, nocl=True), X)  # ZipMap keyed by the indices
    assert np.array_equal(label, want) and sorted(probabilities[0]) == list(range(len(classes)))


def test_converter_errors_are_clear():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    est = fitted(MLPClassifier((4,), max_iter=5, random_state=0), X, rng.integers(0, 3, 40))
    with pytest.raises(ValueError, match="zipmap"):
        convert(est, X)  # float64 probabilities cannot go through ZipMap
    multilabel = fitted(MLPClassifier((4,), max_iter=5, random_state=0), X, rng.integers(0, 2, (40, 3)))
    with pytest.raises(ValueError, match="nocl"):
        convert(multilabel, X, nocl=True, zipmap=False)
