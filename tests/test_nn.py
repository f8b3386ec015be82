"""NN: the seed-002 interface (dimensions, activation classes, the global NumPy random state, print_every)
over Sequential, and its bad arguments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import BACKENDS, batch_for, regression_data, same_weights


def test_nn_draws_from_the_global_random_state(fn):
    np.random.seed(1)
    net = fn.NN((4, 5, 2), (fn.ReLU, fn.Sigmoid), fn.MSE, fn.SGD(learning_rate=2.0))
    np.random.seed(1)
    W0 = np.random.randn(4, 5) / np.sqrt(4)
    W1 = np.random.randn(5, 2) / np.sqrt(5)
    assert net.layers[0].W.tobytes() == W0.tobytes() and net.layers[1].W.tobytes() == W1.tobytes()
    assert not net.layers[0].b.any() and not net.layers[1].b.any()
    assert [layer.activation for layer in net.layers] == ["relu", "sigmoid"]
    assert net.model.loss == "mse" and net.model.optimizer == fn.SGD(learning_rate=2.0)
    assert isinstance(net.model, fn.Sequential) and all(isinstance(layer, fn.Dense) for layer in net.layers)


def test_nn_is_reproducible_with_np_random_seed(fn):
    X, Y = regression_data()
    Y = 1 / (1 + np.exp(-Y))

    def run():
        np.random.seed(1)
        net = fn.NN([3, 8, 2], ["relu", fn.Sigmoid], "mse", fn.SGD(learning_rate=0.5))
        history = net.fit(X, Y, epochs=3, batch_size=7)
        return net, history

    (a, ha), (b, hb) = run(), run()
    assert ha.history == hb.history and same_weights(a.model.get_weights(), b.model.get_weights())
    assert a.model.steps == 3 * 5  # the last partial batch is used
    assert a.predict(X).shape == (30, 2)
    np.random.seed(2)
    c = fn.NN([3, 8, 2], ["relu", fn.Sigmoid], "mse", fn.SGD(learning_rate=0.5))
    c.fit(X, Y, epochs=3, batch_size=7)
    assert not same_weights(a.model.get_weights(), c.model.get_weights())


def test_nn_weights_agree_across_backends():
    nets = []
    for fn in BACKENDS:
        np.random.seed(3)
        nets.append(fn.NN([3, 4, 2], [fn.Tanh, fn.Identity], fn.MSE, fn.Adam()))
    assert same_weights(nets[0].model.get_weights(), nets[1].model.get_weights())


def test_nn_print_every(fn, capsys):
    np.random.seed(0)
    net = fn.NN([3, 4, 2], [fn.LeakyReLU, fn.Identity], fn.MSE, fn.SGD(0.01))
    X, Y = regression_data()
    net.fit(X, Y, epochs=4, batch_size=10, print_every=2)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == ["[2]", "[4]"] and err == ""
    assert math.isclose(float(lines[-1].split(": ")[1]), net.model.evaluate(X, Y)["loss"], rel_tol=1e-9)
    net.fit(X, Y, epochs=2, batch_size=10)
    assert capsys.readouterr() == ("", "")


def test_bad_nn_arguments(fn):
    with pytest.raises(ValueError, match=r"dimensions must list at least 2 widths"):
        fn.NN([64], [], "mse", fn.SGD())
    with pytest.raises(ValueError, match=r"dimensions\[1\] must be an integer >= 1, got 0"):
        fn.NN([64, 0, 10], [fn.ReLU, fn.Sigmoid], fn.MSE, fn.SGD())
    with pytest.raises(ValueError, match=r"activations must have one entry per layer, len\(dimensions\) - 1 = 2, got"):
        fn.NN([4, 5, 2], [fn.ReLU], fn.MSE, fn.SGD())
    with pytest.raises(ValueError, match=r"activation must be one of"):
        fn.NN([4, 5, 2], [fn.ReLU, "swish"], fn.MSE, fn.SGD())
    with pytest.raises(ValueError, match=r"loss must be one of"):
        fn.NN([4, 2], [fn.Sigmoid], "hinge", fn.SGD())
    net = fn.NN([3, 4, 2], [fn.ReLU, fn.Identity], fn.MSE, fn.SGD())
    X, Y = batch_for()
    weights = net.model.get_weights()
    for kwargs, exc, match in [
        ({"epochs": -1}, ValueError, r"epochs must be an integer >= 0"),
        ({"batch_size": 0}, ValueError, r"batch_size must be an integer >= 1"),
        ({"print_every": 0}, ValueError, r"print_every must be an integer >= 1"),
        ({"print_every": 2.5}, TypeError, r"print_every must be an integer"),
    ]:
        with pytest.raises(exc, match=match):
            net.fit(X, Y, **{"epochs": 1, "batch_size": 4, **kwargs})
    with pytest.raises(ValueError, match=r"y must be finite"):
        net.fit(X, np.full_like(Y, np.nan), epochs=1, batch_size=4)
    with pytest.raises(ValueError, match=r"X must have 3 columns"):
        net.predict(np.ones((2, 5)))
    for a, b in zip(weights, net.model.get_weights()):
        assert a.tobytes() == b.tobytes()
