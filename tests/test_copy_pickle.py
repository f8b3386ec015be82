"""Copies and pickles of models and layers: bit-exact, independent, and training continues identically."""

import copy
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from helpers import BACKEND_IDS, BACKENDS

OPTIMIZERS = {
    "sgd": lambda fn: fn.SGD(0.05),
    "nesterov": lambda fn: fn.SGD(0.05, 0.9, True),
    "adam": lambda fn: fn.Adam(),
}


def data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((37, 5)), rng.integers(0, 3, 37)


def trained(fn, optimizer="adam", dtype="float64", epochs=2):
    model = fn.Sequential(
        [fn.Dense(5, 7, "tanh", seed=0, dtype=dtype), fn.Dense(7, 3, "softmax", seed=1, dtype=dtype)],
        loss="cross_entropy", optimizer=OPTIMIZERS[optimizer](fn), seed=3,
    )
    X, y = data()
    model.fit(X, y, epochs=epochs, batch_size=8, verbose=0)
    return model


def assert_same_model(a, b):
    """Parameters, optimiser state, step count and shuffling stream equal bit for bit, nothing shared."""
    assert type(a) is type(b) and a.loss == b.loss and a.optimizer == b.optimizer
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes()
    assert a.steps == b.steps
    assert (a.optimizer_state is None) == (b.optimizer_state is None)
    if a.optimizer_state is not None:
        assert a.optimizer_state.kind == b.optimizer_state.kind
        for sa, sb in zip(a.optimizer_state.slots, b.optimizer_state.slots, strict=True):
            assert sa.keys() == sb.keys() and all(sa[k].tobytes() == sb[k].tobytes() for k in sa)
            assert all(sa[k] is not sb[k] for k in sa)
    assert a._rng.bit_generator.state == b._rng.bit_generator.state
    for la, lb in zip(a.layers, b.layers, strict=True):
        assert la is not lb and not np.shares_memory(la.W, lb.W) and not np.shares_memory(la.b, lb.b)


def continue_training(model):
    X, y = data(1)
    model.fit(X, y, epochs=2, batch_size=8, verbose=0)
    return model.get_weights()


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("make_copy", ["pickle", "deepcopy", "copy"])
@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_copies_are_exact_independent_and_train_identically(fn, make_copy, dtype, optimizer):
    model = trained(fn, optimizer, dtype)
    model.predict(data()[0])  # the compiled engine's cache exists and must not travel
    clone = {
        "pickle": lambda m: pickle.loads(pickle.dumps(m, protocol=2)),
        "deepcopy": copy.deepcopy,
        "copy": copy.copy,
    }[make_copy](model)
    assert_same_model(model, clone)
    before = model.get_weights()
    after_clone = continue_training(clone)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(model.get_weights(), before))  # the original is untouched
    after_original = continue_training(model)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(after_clone, after_original))


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_untrained_model_and_layers_copy(fn):
    model = fn.Sequential([fn.Dense(4, 2, "sigmoid", seed=0)], loss="binary_cross_entropy")
    assert_same_model(model, pickle.loads(pickle.dumps(model)))
    layer = fn.Dense(3, 2, seed=0)
    layer.forward(np.ones((2, 3)))  # the stored batch is not part of a copy
    for clone in (copy.copy(layer), copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert type(clone) is type(layer) and clone.W.tobytes() == layer.W.tobytes()
        assert not np.shares_memory(clone.W, layer.W)
        with pytest.raises(ValueError, match="backward needs a forward"):
            clone.backward(np.ones((2, 2)))


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_seed002_network_pickles(fn):
    np.random.seed(1)
    nn = fn.NN((5, 4, 3), (fn.ReLU, fn.Sigmoid), fn.MSE, fn.SGD(0.5))
    X, y = data()
    nn.fit(X, np.eye(3)[y], epochs=1, batch_size=8)
    clone = pickle.loads(pickle.dumps(nn))
    assert np.array_equal(clone.predict(X), nn.predict(X))


def test_pickled_compiled_model_continues_training_in_a_fresh_process(tmp_path):
    import fastnet

    model = trained(fastnet, "adam")
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(model))
    script = textwrap.dedent(f"""
        import pickle, sys
        import numpy as np
        sys.path.insert(0, {str(tmp_path)!r})
        model = pickle.loads(open({str(path)!r}, "rb").read())
        rng = np.random.default_rng(1)
        X, y = rng.standard_normal((37, 5)), rng.integers(0, 3, 37)
        model.fit(X, y, epochs=2, batch_size=8, verbose=0)
        np.savez({str(tmp_path / "after.npz")!r}, *model.get_weights())
    """)
    subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True)
    expected = continue_training(model)
    with np.load(tmp_path / "after.npz") as after:
        got = [after[f"arr_{i}"] for i in range(len(expected))]
    assert all(x.tobytes() == y.tobytes() for x, y in zip(got, expected))
