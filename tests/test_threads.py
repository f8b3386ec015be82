"""Threads: the GIL is released in the kernels, so models train in parallel threads; one model refuses
a second thread while it is being fit."""

import threading

import numpy as np
import pytest

import fastnet


def model_and_data(seed):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((512, 64)), rng.standard_normal((512, 8))
    layers = [fastnet.Dense(64, 128, "relu", seed=seed), fastnet.Dense(128, 8, "identity", seed=seed + 1)]
    return fastnet.Sequential(layers, loss="mse", optimizer=fastnet.Adam(1e-3), seed=seed), X, Y


def train(seed, epochs=3):
    model, X, Y = model_and_data(seed)
    model.fit(X, Y, epochs=epochs, batch_size=32, verbose=0)
    return model.get_weights()


def test_two_models_in_two_threads_equal_training_alone():
    alone = [train(1), train(2)]
    results = {}
    threads = [threading.Thread(target=lambda s=s: results.__setitem__(s, train(s))) for s in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seed, weights in zip((1, 2), alone):
        assert all(np.array_equal(a, b) for a, b in zip(results[seed], weights))


USES = {
    "predict": lambda model, X, Y, path: model.predict(X[:2]),
    "evaluate": lambda model, X, Y, path: model.evaluate(X, Y),
    "train_step": lambda model, X, Y, path: model.train_step(X[:8], Y[:8]),
    "fit": lambda model, X, Y, path: model.fit(X, Y, epochs=1, verbose=0),
    "set_weights": lambda model, X, Y, path: model.set_weights(model.get_weights()),
    "save": lambda model, X, Y, path: model.save(path / "m.npz"),
}


@pytest.mark.parametrize("use", list(USES))
def test_one_model_used_from_a_second_thread_is_refused_during_fit(use, tmp_path):
    model, X, Y = model_and_data(3)
    errors, started = [], threading.Event()

    class Probe:
        def on_epoch_end(self, epoch, logs):
            if epoch == 0:
                started.set()
                thread = threading.Thread(target=lambda: errors.append(attempt()))
                thread.start()
                thread.join()
            model.predict(X[:2])  # the fitting thread itself may still predict from a callback

    def attempt():
        try:
            USES[use](model, X, Y, tmp_path)
        except RuntimeError as exc:
            return str(exc)
        return "not refused"

    model.fit(X, Y, epochs=2, batch_size=64, verbose=0, callbacks=[Probe()])
    assert started.is_set() and errors and "in use by another thread" in errors[0]
    USES[use](model, X, Y, tmp_path)  # usable again after fit
    assert model.predict(X[:2]).shape == (2, 8)
