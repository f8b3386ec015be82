"""Building layers and models: defaults, names and classes for activations and losses, the model's
dtype end to end, the layer/loss pairing rules, and every bad constructor argument."""

from __future__ import annotations

import numpy as np
import pytest

import fastnet
import fastnet.reference
from fastnet.activations import ACTIVATIONS

from helpers import mse_model, regression_data


# ---------------------------------------------------------------------------- defaults and names
def test_defaults(fn):
    layer = fn.Dense(3, 2)
    assert layer.activation == "relu" and layer.init == "he" and layer.l2 == 0.0 and layer.dtype == np.float64
    model = fn.Sequential([layer])
    assert model.loss == "mse" and model.optimizer == fn.SGD() and model.seed is None
    assert fn.Sequential([fn.Dense(3, 2)], optimizer=fn.Adam).optimizer == fn.Adam()
    assert fn.Sequential(fn.Dense(3, 2)).layers[0].n_in == 3  # a single layer is accepted
    assert isinstance(model.layers, tuple)  # fixed at construction: engines cache the layer sizes
    repr(model), repr(layer), repr(fn.History())


def test_same_seed_same_initial_weights_in_both_backends():
    for init in ("he", "xavier", "glorot", "lecun"):
        a = fastnet.Dense(5, 4, init=init, seed=9)
        b = fastnet.reference.Dense(5, 4, init=init, seed=9)
        assert a.W.tobytes() == b.W.tobytes() and not b.b.any()
    assert fastnet.Dense(5, 4, seed=1).W.tobytes() != fastnet.Dense(5, 4, seed=2).W.tobytes()


@pytest.mark.parametrize(
    "spelling, name",
    [("ReLU", "relu"), ("Sigmoid", "sigmoid"), ("Identity", "identity"), ("Tanh", "tanh"),
     ("LeakyReLU", "leaky_relu"), ("Softmax", "softmax"), ("Exp", "exp"), ("GELU", "gelu")],
)
def test_activation_classes_and_strings(fn, spelling, name):
    assert fn.Dense(3, 2, activation=getattr(fn, spelling)).activation == name
    assert fn.Dense(3, 2, activation=name.upper()).activation == name


def test_loss_classes_and_strings(fn):
    assert fn.Sequential([fn.Dense(3, 2)], loss=fn.MSE).loss == "mse"
    assert fn.Sequential([fn.Dense(3, 2, activation="softmax")], loss=fn.CrossEntropy).loss == "cross_entropy"
    assert fn.Sequential([fn.Dense(3, 2, activation="sigmoid")], loss=fn.BinaryCrossEntropy).loss == (
        "binary_cross_entropy")


# ---------------------------------------------------------------------------- dtype
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_model_dtype_is_kept_end_to_end(fn, dtype):
    model = mse_model(fn, fn.Adam(0.01), dtype=dtype)
    X, Y = regression_data()
    assert model.dtype == np.dtype(dtype)
    model.fit(X.astype(np.float16), Y, epochs=1, verbose=0)
    assert all(w.dtype == np.dtype(dtype) and w.flags.c_contiguous for w in model.get_weights())
    assert all(state.dtype == np.dtype(dtype) for slots in model.optimizer_state.slots for state in slots.values())
    assert model.predict(X).dtype == np.dtype(dtype)
    assert model.layers[0].forward(X).dtype == np.dtype(dtype)
    assert model.layers[0].backward(np.ones((30, 6))).dtype == np.dtype(dtype)
    assert model.layers[0].dW.dtype == np.dtype(dtype)
    assert isinstance(model.train_step(X, Y), float)
    assert all(isinstance(v, float) for v in model.evaluate(X, Y).values())


@pytest.mark.filterwarnings("error")
def test_float32_is_never_upcast(fn, monkeypatch):
    """Every array the ops receive from a float32 model is float32 (ids excepted)."""
    seen = []
    ops = fn.Dense._ops

    class Spy:
        def __getattr__(self, name):
            real = getattr(ops, name)

            def spy(*args):
                seen.extend(a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f")
                return real(*args)

            return spy

    monkeypatch.setattr(fn.Dense, "_ops", Spy())
    layers = [fn.Dense(4, 5, "tanh", dtype="float32", seed=0), fn.Dense(5, 3, "softmax", dtype="float32", seed=1)]
    model = fn.Sequential(layers, loss="cross_entropy", optimizer=fn.Adam(1e-3))
    X = np.random.default_rng(0).standard_normal((10, 4))  # float64 in: converted once
    model.evaluate(X, np.arange(10) % 3)
    model.layers[0].forward(X)
    model.layers[0].backward(np.ones((10, 5)))
    assert seen and set(seen) == {np.dtype(np.float32)}
    model.fit(X, np.arange(10) % 3, epochs=2, batch_size=4, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.predict(X).dtype == np.float32


@pytest.mark.parametrize("dtype", ["float32", np.float32, np.dtype("float64"), "f8"])
def test_dense_dtype_spellings(fn, dtype):
    assert fn.Dense(3, 2, dtype=dtype).W.dtype == np.dtype(dtype)


# ---------------------------------------------------------------------------- bad arguments
BAD_DENSE = [
    ({"n_in": 0}, ValueError, r"n_in must be an integer >= 1, got 0"),
    ({"n_in": 2.5}, TypeError, r"n_in must be an integer >= 1, got float 2.5"),
    ({"n_out": -1}, ValueError, r"n_out must be an integer >= 1, got -1"),
    ({"n_out": True}, TypeError, r"n_out must be an integer"),
    ({"activation": "bogus"}, ValueError, r"activation must be one of identity, relu, .*got 'bogus'"),
    ({"activation": 3}, TypeError, r"activation must be one of"),
    ({"activation": None}, TypeError, r"activation must be one of"),
    ({"init": "bogus"}, ValueError, r"init must be one of he, xavier, glorot, lecun, got 'bogus'"),
    ({"init": None}, ValueError, r"init must be one of"),
    ({"l2": -0.1}, ValueError, r"l2 must be a finite number >= 0.0, got -0.1"),
    ({"l2": float("nan")}, ValueError, r"l2 must be a finite number"),
    ({"l2": float("inf")}, ValueError, r"l2 must be a finite number"),
    ({"l2": "0.1"}, TypeError, r"l2 must be a real number"),
    ({"dtype": "float16"}, ValueError, r"dtype must be 'float32' or 'float64', got 'float16'"),
    ({"dtype": "int32"}, ValueError, r"dtype must be 'float32' or 'float64', got 'int32'"),
    ({"dtype": np.complex128}, ValueError, r"dtype must be 'float32' or 'float64'"),
    ({"dtype": "nonsense"}, TypeError, r"dtype must be 'float32' or 'float64', got 'nonsense'"),
    ({"seed": -1}, ValueError, r"seed must be an integer >= 0, got -1"),
    ({"seed": 1.5}, TypeError, r"seed must be an integer"),
]


@pytest.mark.parametrize("kwargs, exc, match", BAD_DENSE, ids=[str(c[0]) for c in BAD_DENSE])
def test_bad_dense_arguments(fn, kwargs, exc, match):
    args = {"n_in": 3, "n_out": 2, **kwargs}
    with pytest.raises(exc, match=match):
        fn.Dense(**args)


def test_bad_sequential_arguments(fn):
    D = fn.Dense
    with pytest.raises(ValueError, match=r"loss must be one of mse, cross_entropy, binary_cross_entropy, got 'bogus'"):
        fn.Sequential([D(3, 2)], loss="bogus")
    with pytest.raises(TypeError, match=r"loss must be one of"):
        fn.Sequential([D(3, 2)], loss=None)
    with pytest.raises(TypeError, match=r"optimizer must be fastnet.SGD\(...\) or fastnet.Adam\(...\), got 'sgd'"):
        fn.Sequential([D(3, 2)], optimizer="sgd")
    with pytest.raises(ValueError, match=r"seed must be an integer >= 0, got -3"):
        fn.Sequential([D(3, 2)], seed=-3)
    with pytest.raises(ValueError, match=r"layers must hold at least one Dense layer"):
        fn.Sequential([])
    with pytest.raises(TypeError, match=r"layers must be a list of Dense layers, got int"):
        fn.Sequential(3)
    with pytest.raises(TypeError, match=r"layers\[1\] must be a Dense layer, got str"):
        fn.Sequential([D(3, 2), "relu"])
    with pytest.raises(ValueError, match=r"layers\[0\] has n_out=4 but layers\[1\] has n_in=5"):
        fn.Sequential([D(3, 4), D(5, 2)])
    with pytest.raises(ValueError, match=r"layers\[1\] has n_out=2 but layers\[2\] has n_in=3"):
        fn.Sequential([D(3, 4), D(4, 2), D(3, 2)])
    with pytest.raises(ValueError, match=r"one dtype: layers\[0\] is float64, layers\[1\] is float32"):
        fn.Sequential([D(3, 4), D(4, 2, dtype="float32")])
    with pytest.raises(ValueError, match=r"softmax is allowed only in the last layer, found in layers\[0\]"):
        fn.Sequential([D(3, 4, activation="softmax"), D(4, 2)])
    layer = D(3, 3)
    with pytest.raises(ValueError, match=r"layers must be distinct"):
        fn.Sequential([layer, layer])


# ---------------------------------------------------------------------------- loss and last layer
PAIRINGS = [
    ("cross_entropy", "sigmoid", 3, r"loss='cross_entropy' needs a softmax last layer, got activation='sigmoid'"),
    ("cross_entropy", "identity", 3, r"loss='cross_entropy' needs a softmax last layer"),
    ("cross_entropy", "softmax", 1, r"loss='cross_entropy' needs at least 2 output units, got 1"),
    ("binary_cross_entropy", "softmax", 2, r"loss='binary_cross_entropy' needs a sigmoid last layer, got .*'softmax'"),
    ("binary_cross_entropy", "relu", 1, r"loss='binary_cross_entropy' needs a sigmoid last layer"),
]


@pytest.mark.parametrize("loss, last, units, match", PAIRINGS)
def test_loss_paired_with_wrong_last_layer(fn, loss, last, units, match):
    with pytest.raises(ValueError, match=match):
        fn.Sequential([fn.Dense(3, 4), fn.Dense(4, units, activation=last)], loss=loss)


@pytest.mark.parametrize("last", ACTIVATIONS)
def test_mse_takes_any_last_activation(fn, last):
    fn.Sequential([fn.Dense(3, 2, activation=last)], loss="mse")
