"""Regressions for defects a code review found: each once crashed or silently misbehaved."""

import threading
import zipfile

import numpy as np
import pytest

import fastnet
import fastnet.reference

from helpers import BACKEND_IDS, BACKENDS


def ce_model(fn, n_out=3):
    return fn.Sequential([fn.Dense(4, n_out, "softmax", seed=0)], loss="cross_entropy", optimizer=fn.SGD(0.1))


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_layers_and_gradients_cannot_be_replaced(fn):
    model = ce_model(fn)
    with pytest.raises(TypeError):
        model.layers[0] = fn.Dense(4, 50, "softmax")  # engines cache the sizes
    with pytest.raises(AttributeError):
        model.layers = [fn.Dense(4, 50, "softmax")]
    with pytest.raises(AttributeError):
        model.layers[0].dW = np.zeros((1, 1))  # kernels write into dW/db without bounds checks


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_class_ids_changed_by_a_callback_during_fit_are_not_seen(fn):
    X = np.random.default_rng(0).standard_normal((20, 4))
    y = np.arange(20) % 3

    class Vandal:
        def on_epoch_end(self, epoch, logs):
            y[:] = 10**9  # out of range: must not reach the kernels

    model = ce_model(fn)
    model.fit(X, y, epochs=3, batch_size=4, verbose=0, callbacks=[Vandal()])
    assert all(np.isfinite(w).all() for w in model.get_weights())


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_big_endian_input_predicts_the_same(fn):
    model = ce_model(fn)
    X = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_array_equal(model.predict(X.astype(">f8")), model.predict(X))


def test_small_batch_predict_respects_the_workspace_bound():
    import fastnet.engine

    model = fastnet.Sequential([fastnet.Dense(10, 3000, "relu", seed=0), fastnet.Dense(3000, 3000, "relu", seed=1)])
    model.predict(np.ones((1000, 10)))
    engine = model._engine()
    assert engine.capacity * engine.row_bytes <= 2 * fastnet._predict.PREDICT_WORKSPACE_BYTES


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_huge_batch_size_means_one_batch(fn):
    X, y = np.random.default_rng(0).standard_normal((10, 4)), np.arange(10) % 3
    history = ce_model(fn).fit(X, y, epochs=1, batch_size=2**63, verbose=0)
    assert len(history.epoch) == 1


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_save_after_an_optimizer_change_loads(fn, tmp_path):
    X, y = np.random.default_rng(0).standard_normal((10, 4)), np.arange(10) % 3
    model = ce_model(fn)
    model.fit(X, y, epochs=1, verbose=0)
    model.optimizer = fn.Adam()
    model.save(tmp_path / "m.npz")
    loaded = fn.load(tmp_path / "m.npz")
    assert loaded.optimizer_state is None and loaded.steps == 0
    with pytest.raises(TypeError, match="optimizer must be"):
        model.optimizer = "adam"


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_compressed_or_oversized_files_are_refused_before_allocation(fn, tmp_path):
    model = ce_model(fn)
    model.save(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as plain, zipfile.ZipFile(
        tmp_path / "z.npz", "w", compression=zipfile.ZIP_DEFLATED
    ) as packed:
        for name in plain.namelist():
            packed.writestr(name, plain.read(name))
    with pytest.raises(ValueError, match="compressed members"):
        fn.load(tmp_path / "z.npz")


def test_evaluate_from_another_thread_during_fit_is_refused():
    X, y = np.random.default_rng(0).standard_normal((64, 4)), np.arange(64) % 3
    model = ce_model(fastnet)
    outcome = []

    class Probe:
        def on_epoch_end(self, epoch, logs):
            def other():
                try:
                    model.evaluate(X, y)
                    outcome.append("allowed")
                except RuntimeError as exc:
                    outcome.append(str(exc))

            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
            return True

    model.fit(X, y, epochs=2, verbose=0, callbacks=[Probe()])
    assert outcome and "another thread" in outcome[0]
    assert set(model.evaluate(X, y)) == {"loss", "accuracy"}  # fine again after fit
