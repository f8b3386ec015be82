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


def test_many_threads_predict_one_model_at_once_with_serial_results():
    """8 threads × 500 calls on one model: every result equals the serial one, and predicts really
    ran at the same time (the network counts the most that were running at once)."""
    model, X, _ = model_and_data(4)
    batches = [X[i % 8 * 64 : i % 8 * 64 + 64] for i in range(8)] + [X[:1], X[:300]]
    serial = [model.predict(batch) for batch in batches]
    failures = []

    def worker(t):
        for call in range(500):
            i = (t + call) % len(batches)
            if not np.array_equal(model.predict(batches[i]), serial[i]):
                failures.append((t, call))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    net = model._engine()
    assert net.readers == 0 and net.most_readers >= 2, net.most_readers
    assert len(net.inference_rows) == net.most_readers  # one set of inference rows per concurrent call
    model.fit(X, _, epochs=1, verbose=0)  # and training works again afterwards


@pytest.mark.parametrize("backend", ["compiled", "reference"])
def test_a_layer_shared_by_two_models_is_trained_by_one_thread_at_a_time(backend):
    fn = fastnet if backend == "compiled" else fastnet.reference
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((512, 16)), rng.standard_normal((512, 4))
    shared = fn.Dense(16, 32, "relu", seed=0)
    first = fn.Sequential([shared, fn.Dense(32, 4, "identity", seed=1)], loss="mse")
    second = fn.Sequential([shared, fn.Dense(32, 4, "identity", seed=2)], loss="mse")
    errors, started = [], threading.Event()

    class Probe:
        def on_epoch_end(self, epoch, logs):
            if epoch == 0:
                started.set()
                for attempt in (lambda: second.train_step(X[:8], Y[:8]), lambda: second.fit(X, Y, verbose=0)):
                    thread = threading.Thread(target=lambda a=attempt: errors.append(refusal(a)))
                    thread.start()
                    thread.join()

    def refusal(attempt):
        try:
            attempt()
        except RuntimeError as exc:
            return str(exc)
        return "not refused"

    first.fit(X, Y, epochs=2, batch_size=64, verbose=0, callbacks=[Probe()])
    assert started.is_set() and len(errors) == 2
    assert all("being trained by another thread" in e for e in errors), errors
    second.train_step(X[:8], Y[:8])  # free again once the first fit is over
    first.train_step(X[:8], Y[:8])


def test_the_fitting_thread_keeps_the_model_when_a_callback_replaces_the_optimizer():
    model, X, Y = model_and_data(5)
    outcomes = []

    class Swap:
        def on_epoch_end(self, epoch, logs):
            if epoch == 0:
                model.optimizer = fastnet.SGD(0.01)  # a new network is built for the rest of the fit
            else:
                thread = threading.Thread(target=lambda: outcomes.append(attempt()))
                thread.start()
                thread.join()

    def attempt():
        try:
            model.predict(X[:2])
        except RuntimeError as exc:
            return str(exc)
        return "not refused"

    model.fit(X, Y, epochs=2, batch_size=64, verbose=0, callbacks=[Swap()])
    assert outcomes and "in use by another thread" in outcomes[0]
    threading.Thread(target=lambda: outcomes.append(attempt())).run()  # free again after the fit
    assert outcomes[-1] == "not refused"
