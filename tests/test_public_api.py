"""The public API: the names each backend exports, the signatures docs/design.md gives them, and the boundary
between the two backends (shared objects, per-backend classes, the reference loading nothing compiled)."""

from __future__ import annotations

import inspect
import math
import subprocess
import sys

import pytest

import fastnet
import fastnet.reference

SHARED = ["SGD", "Adam", "EarlyStopping", "Callback", "History", "gradcheck", "Identity", "ReLU", "LeakyReLU",
          "Tanh", "Sigmoid", "Softmax", "Exp", "GELU", "MSE", "CrossEntropy", "BinaryCrossEntropy"]
PER_BACKEND = ["Dense", "Sequential", "NN", "load"]


# ---------------------------------------------------------------------------- names
def test_public_names():
    assert set(fastnet.__all__) == set(fastnet.reference.__all__) - {"ops"} | {"ops", "__version__"}
    for name in SHARED + PER_BACKEND:
        assert name in fastnet.__all__ and name in fastnet.reference.__all__
    for name in fastnet.__all__:
        assert getattr(fastnet, name) is not None
    assert isinstance(fastnet.__version__, str) and fastnet.__version__[0].isdigit()
    assert set(PER_BACKEND) <= set(dir(fastnet))
    with pytest.raises(AttributeError, match="no attribute 'Conv2D'"):
        fastnet.Conv2D  # noqa: B018


@pytest.mark.parametrize("name", SHARED)
def test_shared_objects_are_identical_in_both_backends(name):
    assert getattr(fastnet, name) is getattr(fastnet.reference, name)


@pytest.mark.parametrize("name", PER_BACKEND)
def test_per_backend_objects_differ_but_look_alike(name):
    compiled, reference = getattr(fastnet, name), getattr(fastnet.reference, name)
    assert compiled is not reference
    assert compiled.__name__ == reference.__name__ == name
    assert compiled.__module__ == "fastnet" and reference.__module__ == "fastnet.reference"
    assert inspect.signature(compiled) == inspect.signature(reference)
    assert compiled.__doc__ and compiled.__doc__ == reference.__doc__


def test_ops_modules():
    assert fastnet.ops.__name__ == "fastnet._ops"
    assert fastnet.reference.ops.__name__ == "fastnet.reference.ops"
    assert fastnet.Dense._ops is fastnet.ops and fastnet.reference.Dense._ops is fastnet.reference.ops


# ---------------------------------------------------------------------------- signatures
def parameters(callable_):
    return [(p.name, p.default) for p in inspect.signature(callable_).parameters.values() if p.name != "self"]


E = inspect.Parameter.empty
DESIGN_SIGNATURES = {
    "Dense": [("n_in", E), ("n_out", E), ("activation", "relu"), ("init", "he"), ("l2", 0.0), ("dtype", "float64"),
              ("seed", None), ("dropout", 0.0)],
    "Sequential": [("layers", E), ("loss", "mse"), ("optimizer", None), ("seed", None)],
    "Sequential.fit": [("X", E), ("Y", E), ("epochs", 1), ("batch_size", 32), ("shuffle", True),
                       ("validation_data", None), ("verbose", 1), ("callbacks", None), ("sample_weight", None),
                       ("class_weight", None)],
    "Sequential.predict": [("X", E)],
    "Sequential.evaluate": [("X", E), ("Y", E), ("sample_weight", None), ("class_weight", None)],
    "Sequential.train_step": [("X", E), ("Y", E), ("sample_weight", None), ("class_weight", None)],
    "Sequential.save": [("path", E)],
    "Dense.forward": [("X", E), ("training", False)],
    "Dense.backward": [("dA", E)],
    "load": [("path", E)],
    "gradcheck": [("model", E), ("X", E), ("Y", E), ("eps", 1e-6)],
    "EarlyStopping": [("monitor", "val_loss"), ("patience", 5), ("min_delta", 0.0), ("restore_best_weights", True)],
    "SGD": [("learning_rate", 0.01), ("momentum", 0.0), ("nesterov", False)],
    "Adam": [("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("eps", 1e-8)],
    "NN": [("dimensions", E), ("activations", E), ("loss", E), ("optimizer", E)],
    "NN.fit": [("X", E), ("y", E), ("epochs", E), ("batch_size", E), ("print_every", math.inf)],
    "NN.predict": [("X", E)],
}


@pytest.mark.parametrize("path", list(DESIGN_SIGNATURES))
def test_signatures_match_design(fn, path):
    obj = fn
    for part in path.split("."):
        obj = getattr(obj, part)
    assert parameters(obj) == DESIGN_SIGNATURES[path]


# ---------------------------------------------------------------------------- the two backends
def test_importing_the_reference_loads_nothing_compiled(tmp_path):
    code = (
        "import sys, fastnet.reference as R\n"
        "m = R.Sequential([R.Dense(2, 1, activation='sigmoid', seed=0)], loss='binary_cross_entropy')\n"
        "m.fit([[1, 2], [3, 4]], [1, 0], epochs=2, verbose=0); m.predict([[0, 0]])\n"
        "print(' '.join(sorted(k for k in sys.modules if k.startswith('fastnet'))))\n"
        "import fastnet; fastnet.SGD; fastnet.reference.SGD\n"
        "print(' '.join(sorted(k for k in sys.modules if k.startswith('fastnet'))))\n"
        "fastnet.Dense\n"
        "print(' '.join(sorted(k for k in sys.modules if k.startswith('fastnet'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    after_reference, after_shared_names, after_dense = (set(line.split()) for line in out.stdout.splitlines())
    for loaded in (after_reference, after_shared_names):
        assert "fastnet.reference" in loaded
        compiled_modules = {"fastnet._ops", "fastnet._kernels", "fastnet._cpu", "fastnet._network", "fastnet._train",
                            "fastnet._predict", "fastnet._compiled", "fastnet.engine"}
        assert not loaded & compiled_modules, loaded
    assert "fastnet._ops" in after_dense  # the check above can fail: touching fastnet.Dense loads the core


def test_mixing_backends_is_a_value_error():
    with pytest.raises(ValueError, match=r"layers\[0\] is a fastnet.reference.Dense but this is fastnet.Sequential"):
        fastnet.Sequential([fastnet.reference.Dense(3, 2)])
    with pytest.raises(ValueError, match=r"layers\[1\] is a fastnet.Dense .*build every layer from one backend"):
        fastnet.reference.Sequential([fastnet.reference.Dense(3, 4), fastnet.Dense(4, 2)])
    with pytest.raises(ValueError, match=r"one backend"):
        fastnet.Sequential([fastnet.Dense(3, 4), fastnet.reference.Dense(4, 2)])


def test_base_classes_are_not_usable_directly():
    from fastnet.layers import Dense

    with pytest.raises(TypeError, match="use fastnet.Dense or fastnet.reference.Dense"):
        Dense(3, 2)
