"""Model files: bit-exact round trips, loading in the other backend, and atomic writes that no failure or
killed process can leave half-written."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import fastnet
import fastnet.reference

from helpers import (
    FILE_HEADS,
    FILE_OPTIMIZERS,
    TRAINING_TOL,
    assert_close,
    assert_identical,
    file_data,
    file_model,
    fit_file_model,
)


# ---------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", list(FILE_OPTIMIZERS))
@pytest.mark.parametrize("loss", list(FILE_HEADS))
def test_round_trip_is_bit_exact_and_training_continues_identically(fn, tmp_path, loss, optimizer, dtype):
    saved = file_model(fn, loss, optimizer, dtype)
    fit_file_model(saved, loss)
    path = tmp_path / "model.npz"
    saved.save(path)
    loaded = fn.load(path)
    assert type(loaded) is fn.Sequential
    assert_identical(saved, loaded)
    assert saved.steps == 2 * 5  # 37 rows in batches of 8, two epochs
    X, _ = file_data(loss)
    assert saved.predict(X).tobytes() == loaded.predict(X).tobytes()

    # fit after load == fit without save/load: weights, optimiser state, step and shuffle order.
    h1, h2 = fit_file_model(saved, loss), fit_file_model(loaded, loss)
    assert h1.history == h2.history
    assert_identical(saved, loaded)

    # and equal to one uninterrupted run of the same length
    straight = file_model(fn, loss, optimizer, dtype)
    fit_file_model(straight, loss, epochs=4)
    assert_identical(saved, straight)


def test_untrained_model_round_trip(fn, tmp_path):
    model = file_model(fn)
    model.save(tmp_path / "m.npz")
    loaded = fn.load(tmp_path / "m.npz")
    assert loaded.optimizer_state is None and loaded.steps == 0
    assert_identical(model, loaded)
    fit_file_model(model, "mse")
    fit_file_model(loaded, "mse")
    assert_identical(model, loaded)


def test_seedless_model_keeps_its_shuffle_stream(fn, tmp_path):
    model = file_model(fn, seed=None)
    fit_file_model(model, "mse", epochs=1)
    model.save(tmp_path / "m.npz")
    loaded = fn.load(str(tmp_path / "m.npz"))
    fit_file_model(model, "mse")
    fit_file_model(loaded, "mse")
    assert_identical(model, loaded)


def test_train_step_state_round_trip(fn, tmp_path):
    model = file_model(fn, "cross_entropy", "adam")
    X, y = file_data("cross_entropy")
    for _ in range(3):
        model.train_step(X, y)
    model.save(tmp_path / "m.npz")
    loaded = fn.load(tmp_path / "m.npz")
    assert loaded.steps == 3
    assert model.train_step(X, y) == loaded.train_step(X, y)
    assert_identical(model, loaded)


def test_save_does_not_change_the_model(fn, tmp_path):
    model = file_model(fn)
    fit_file_model(model, "mse", epochs=1)
    twin = file_model(fn)
    fit_file_model(twin, "mse", epochs=1)
    model.save(tmp_path / "m.npz")
    assert_identical(model, twin)


def test_save_overwrites_and_accepts_str_and_pathlike(fn, tmp_path):
    model = file_model(fn)
    path = tmp_path / "m.npz"
    model.save(str(path))
    fit_file_model(model, "mse", epochs=1)
    model.save(pathlib.PurePath(path))
    assert_identical(model, fn.load(path))
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_a_state_of_a_replaced_optimizer_is_not_saved(fn, tmp_path):
    model = file_model(fn, "cross_entropy", "momentum")
    fit_file_model(model, "cross_entropy", epochs=1)
    model.optimizer = fn.Adam()
    model.save(tmp_path / "m.npz")
    loaded = fn.load(tmp_path / "m.npz")
    assert loaded.optimizer == fn.Adam() and loaded.optimizer_state is None and loaded.steps == 0
    assert [w.tobytes() for w in loaded.get_weights()] == [w.tobytes() for w in model.get_weights()]


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("saver, loader", [(fastnet, fastnet.reference), (fastnet.reference, fastnet)],
                         ids=["compiled->reference", "reference->compiled"])
def test_file_from_one_backend_loads_in_the_other(tmp_path, saver, loader, optimizer, dtype):
    model = file_model(saver, "cross_entropy", optimizer, dtype)
    fit_file_model(model, "cross_entropy")
    model.save(tmp_path / "m.npz")
    other = loader.load(tmp_path / "m.npz")
    assert type(other) is loader.Sequential
    assert all(type(layer) is loader.Dense for layer in other.layers)
    assert_identical(model, other)  # parameters, state, step and rng carried over bit-exactly

    tol = TRAINING_TOL[np.dtype(dtype).type]
    X, y = file_data("cross_entropy")
    assert_close(other.predict(X), model.predict(X), tol)
    fit_file_model(model, "cross_entropy")
    fit_file_model(other, "cross_entropy")
    for a, b in zip(other.get_weights(), model.get_weights()):
        assert_close(a, b, tol)


# ---------------------------------------------------------------------------- atomic writes
def test_save_fsyncs_and_leaves_no_temporary_file(fn, tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd))[1])
    file_model(fn).save(tmp_path / "m.npz")
    assert len(synced) >= 2  # the file, then its folder
    assert os.listdir(tmp_path) == ["m.npz"]


def test_failed_save_keeps_the_previous_file(fn, tmp_path, monkeypatch):
    model = file_model(fn)
    fit_file_model(model, "mse", epochs=1)
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()
    fit_file_model(model, "mse", epochs=1)  # the model moves on; the next save will fail half-way

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert os.listdir(tmp_path) == ["m.npz"]  # no temporary file left behind
    assert path.read_bytes() == before
    fn.load(path)

    monkeypatch.undo()  # a failed first save leaves nothing at all
    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        model.save(tmp_path / "new.npz")
    assert os.listdir(tmp_path) == ["m.npz"]


def test_failed_rename_keeps_the_previous_file(fn, tmp_path, monkeypatch):
    model = file_model(fn)
    path = tmp_path / "m.npz"
    model.save(path)
    before = path.read_bytes()
    fit_file_model(model, "mse", epochs=1)

    def broken_replace(src, dst):
        raise PermissionError("read-only folder")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(PermissionError):
        model.save(path)
    assert os.listdir(tmp_path) == ["m.npz"]
    assert path.read_bytes() == before


def test_save_into_a_missing_folder(fn, tmp_path):
    with pytest.raises(FileNotFoundError):
        file_model(fn).save(tmp_path / "nowhere" / "m.npz")


SAVER = textwrap.dedent(
    """
    import sys, numpy as np, fastnet
    layer = fastnet.Dense(2000, 2000, "identity", seed=1)
    model = fastnet.Sequential([layer])
    print("ready", flush=True)
    while True:  # keep rewriting the file until killed
        layer.W[0, 0] += 1.0
        model.save(sys.argv[1])
    """
)


@pytest.mark.filterwarnings("error")
def test_a_process_killed_while_saving_never_damages_the_saved_file(tmp_path):
    path = tmp_path / "model.npz"
    original = fastnet.Sequential([fastnet.Dense(2000, 2000, "identity", seed=1)])
    original.save(path)
    for delay in (0.05, 0.2, 0.5):
        with subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE) as child:
            assert child.stdout.readline().strip() == b"ready"
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
        loaded = fastnet.load(path)  # whichever complete version was last renamed into place
        W = loaded.layers[0].W
        assert np.array_equal(W[1:], original.layers[0].W[1:]) and W[0, 0] >= original.layers[0].W[0, 0]
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert all(p.startswith(".model.npz.") for p in leftovers)  # a killed save can leave only its own temp
