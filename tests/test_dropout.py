"""Dropout: the counter-based masks (the same bits in both backends and in a plain-integer statement
of the generator), their statistics, whole training runs compiled against reference, the model's
key and counter through copies, pickles and model files, gradcheck through a fixed mask, and the
layer API of hand-written loops."""

import copy
import json
import pickle

import numpy as np
import pytest

import fastnet
import fastnet.io
import fastnet.reference
from fastnet import _codes as codes
from fastnet.layers import draw_dropout_key

from helpers import BACKEND_IDS, BACKENDS, TRAINING_TOL, assert_close, assert_identical

compiled, reference = fastnet.ops, fastnet.reference.ops
DTYPES = [np.float64, np.float32]
U64 = 2**64 - 1


def masks(ops, A, p, key=12345, counter=7, layer=1):
    M, D = np.empty_like(A), np.empty_like(A)
    assert ops.dropout(A, p, key, counter, layer, M, D) is None
    return M, D


def splitmix_bits(key, counter, layer, n):
    """docs/design.md's generator with Python integers: an independent statement of the bits."""

    def mix(z):
        z = ((z ^ (z >> 30)) * codes.DROPOUT_MIX_1) & U64
        z = ((z ^ (z >> 27)) * codes.DROPOUT_MIX_2) & U64
        return z ^ (z >> 31)

    gamma = codes.DROPOUT_GAMMA
    stream = mix((mix((key + counter * gamma) & U64) + (layer + 1) * gamma) & U64)
    return [mix((stream + (e + 1) * gamma) & U64) for e in range(n)]


# ---------------------------------------------------------------------------- the op
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (33, 5), (256, 129)])
@pytest.mark.parametrize("p", [0.0, 1e-3, 0.5, 0.9])
def test_masks_are_the_same_bits_in_both_backends(dtype, shape, p):
    A = np.random.default_rng(0).normal(size=shape).astype(dtype)
    (M, D), (M_ref, D_ref) = masks(compiled, A, p), masks(reference, A, p)
    assert M.tobytes() == M_ref.tobytes() and D.tobytes() == D_ref.tobytes()
    scale = dtype(1.0 / (1.0 - p))
    assert set(np.unique(M)) <= {0, scale}
    assert np.array_equal(D, A * M)


def test_the_masks_follow_the_documented_generator():
    key, counter, layer, p = U64 - 2, 2**40 + 3, 4, 0.37
    A = np.ones((3, 7))
    M, _ = masks(compiled, A, p, key, counter, layer)
    bits = splitmix_bits(key, counter, layer, A.size)
    kept = [b >= codes.dropout_threshold(p) for b in bits]
    assert (M.reshape(-1) != 0).tolist() == kept


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_mask_statistics_match_p(p):
    """The dropped fraction is p (within 5 standard deviations), kept outputs are scaled so the
    mean is kept, and masks of neighbouring counters and layers are uncorrelated."""
    n_rows, n_cols = 400, 500
    A = np.ones((n_rows, n_cols))
    M, D = masks(compiled, A, p, counter=0)
    dropped = (M == 0).mean()
    sigma = np.sqrt(p * (1 - p) / A.size)
    assert abs(dropped - p) < 5 * sigma
    assert abs(D.mean() - 1.0) < 5 * sigma / (1 - p)
    # per column and per row the rate holds too (no structure along either axis)
    assert np.abs((M == 0).mean(axis=0) - p).max() < 5 * np.sqrt(p * (1 - p) / n_rows)
    assert np.abs((M == 0).mean(axis=1) - p).max() < 5 * np.sqrt(p * (1 - p) / n_cols)
    for other in (masks(compiled, A, p, counter=1)[0], masks(compiled, A, p, counter=0, layer=2)[0]):
        corr = np.corrcoef((M == 0).reshape(-1), (other == 0).reshape(-1))[0, 1]
        assert abs(corr) < 5 / np.sqrt(A.size)


# ---------------------------------------------------------------------------- whole runs
OPTIMIZERS = {"sgd": lambda fn: fn.SGD(0.1), "momentum": lambda fn: fn.SGD(0.05, momentum=0.9),
              "adam": lambda fn: fn.Adam(0.01)}


def dropout_model(fn, optimizer="adam", dtype="float64", seed=5, rates=(0.3, 0.5)):
    layers = [fn.Dense(6, 9, "relu", dtype=dtype, seed=1, dropout=rates[0]),
              fn.Dense(9, 7, "tanh", dtype=dtype, seed=2, dropout=rates[1]),
              fn.Dense(7, 3, "softmax", dtype=dtype, seed=3)]
    return fn.Sequential(layers, loss="cross_entropy", optimizer=OPTIMIZERS[optimizer](fn), seed=seed)


def data(m=50, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, 6)), rng.integers(0, 3, size=m)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_dropout_training_matches_reference(optimizer, dtype):
    X, Y = data()
    runs = []
    for fn in BACKENDS:
        model = dropout_model(fn, optimizer, dtype)
        first = model.fit(X, Y, epochs=3, batch_size=8, verbose=0, validation_data=(X[:9], Y[:9]))
        second = model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
        loss = model.train_step(X[:5], Y[:5])
        runs.append((model, first.history, second.history, loss))
    tol = TRAINING_TOL[np.dtype(dtype).type]
    (model, *logs), (ref, *ref_logs) = runs
    assert model._dropout_count == ref._dropout_count == 3 * 7 + 2 * 4 + 1
    for got, want in zip(model.get_weights(), ref.get_weights()):
        assert_close(got, want, tol)
    for got, want in zip(logs[:2], ref_logs[:2]):
        for key in want:
            assert_close(np.array(got[key]), np.array(want[key]), tol, what=key)
    assert logs[2] == pytest.approx(ref_logs[2], rel=tol)


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_inference_takes_no_dropout(fn):
    X, Y = data()
    model = dropout_model(fn)
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    plain = dropout_model(fn, rates=(0.0, 0.0))
    plain.set_weights(model.get_weights())
    assert np.array_equal(model.predict(X), plain.predict(X))
    assert model.evaluate(X, Y) == plain.evaluate(X, Y)


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_successive_fits_continue_the_masks(fn):
    """Two one-epoch fits draw the masks of one two-epoch fit (the counter persists), so no fit
    repeats the masks of an earlier one."""
    X, Y = data()
    once, twice = dropout_model(fn), dropout_model(fn)
    once.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    twice.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    twice.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(once.get_weights(), twice.get_weights()))
    # the same batch at the same weights draws other masks at a later count
    twice.set_weights(once.get_weights())
    before = twice.get_weights()
    a = twice.train_step(X[:8], Y[:8])
    twice.set_weights(before)
    b = twice.train_step(X[:8], Y[:8])
    assert a != b


def test_seeds_make_the_masks():
    X, Y = data()
    runs = {}
    for seed in (5, 5, 6):
        model = dropout_model(fastnet, seed=seed)
        model.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        runs.setdefault(seed, []).append(model.get_weights()[0])
    assert np.array_equal(*runs[5])
    assert not np.array_equal(runs[5][0], runs[6][0])
    assert dropout_model(fastnet, seed=None)._dropout_key != dropout_model(fastnet, seed=None)._dropout_key
    assert dropout_model(fastnet, seed=5)._dropout_key == draw_dropout_key(5)


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_a_rejected_step_draws_no_masks(fn):
    X, _ = data(8)
    layers = [fn.Dense(6, 9, "relu", seed=1, dropout=0.5), fn.Dense(9, 2, "identity", seed=2)]
    model = fn.Sequential(layers, loss="mse", seed=0)
    model.train_step(X, X[:, :2])
    model.layers[1].W[...] = 1e200  # the squared error overflows: the loss is inf
    with np.errstate(over="ignore"), pytest.raises(FloatingPointError, match="the model was left unchanged"):
        model.train_step(X, X[:, :2])
    assert model._dropout_count == 1


# ---------------------------------------------------------------------------- copies, pickles, files
def continue_training(model):
    X, Y = data(seed=1)
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    return model.get_weights()


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_copies_pickles_and_files_carry_key_and_counter(fn, tmp_path):
    X, Y = data()
    model = dropout_model(fn, seed=None)  # a key from fresh entropy: only the copy can know it
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "dropout.npz"
    model.save(path)
    copies = [copy.deepcopy(model), pickle.loads(pickle.dumps(model)), fn.load(path)]
    for other in copies:
        assert_identical(model, other)
    want = continue_training(model)
    for other in copies:
        assert all(np.array_equal(a, b) for a, b in zip(continue_training(other), want))


def test_version_1_files_still_load(tmp_path):
    """A file of format version 1 (before dropout): no dropout, the key its seed gives, count 0."""
    model = dropout_model(fastnet, rates=(0.0, 0.0), seed=9)
    model.fit(*data(), epochs=1, verbose=0)
    path = tmp_path / "v1.npz"
    model.save(path)
    with np.load(path) as archive:
        arrays = {name: archive[name] for name in archive.files}
    config = json.loads(arrays["config"].tobytes())
    config["version"] = 1
    del config["dropout_key"], config["dropout_count"]
    for layer in config["layers"]:
        del layer["dropout"]
    arrays["config"] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    arrays.pop("checksum")
    arrays["checksum"] = np.frombuffer(fastnet.io._checksum(arrays).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    for fn in BACKENDS:
        loaded = fn.load(path)
        assert [layer.dropout for layer in loaded.layers] == [0.0, 0.0, 0.0]
        assert loaded._dropout_key == draw_dropout_key(9) and loaded._dropout_count == 0
        assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights()))


# ---------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_gradcheck_through_a_fixed_mask(fn):
    X, Y = data(6)
    model = dropout_model(fn, rates=(0.5, 0.5))
    model.fit(X, Y, epochs=1, batch_size=3, verbose=0)
    assert fastnet.gradcheck(model, X, Y) < 1e-6


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_layer_forward_in_training_and_its_backward(fn):
    """A hand-written loop: forward(training=True) drops and scales, backward goes through the same
    mask (checked by central differences with that mask held), forward() alone is unchanged."""
    rng = np.random.default_rng(0)
    layer = fn.Dense(5, 400, "tanh", seed=1, dropout=0.25)
    X = rng.normal(size=(30, 5))
    plain = layer.forward(X)
    A = layer.forward(X, training=True)
    dropped = A == 0
    assert abs(dropped.mean() - 0.25) < 0.02
    assert np.allclose(A[~dropped], plain[~dropped] / 0.75)
    assert not np.array_equal(layer.forward(X, training=True) == 0, dropped)  # a new mask per call
    A = layer.forward(X, training=True)
    M = np.where(A == 0, 0.0, 1 / 0.75)
    G = rng.normal(size=A.shape)
    dX = layer.backward(G)
    eps, numeric = 1e-6, np.empty_like(X)
    for i in np.ndindex(X.shape):
        Xp, Xm = X.copy(), X.copy()
        Xp[i] += eps
        Xm[i] -= eps
        numeric[i] = np.sum(G * M * (np.tanh(Xp @ layer.W + layer.b) - np.tanh(Xm @ layer.W + layer.b))) / (2 * eps)
    assert_close(dX, numeric, 1e-7)
    assert np.array_equal(layer.forward(X), plain)


BAD_DROPOUT = [(-0.1, ValueError, r"dropout must be a finite number >= 0"),
               (1.0, ValueError, r"dropout must be in \[0, 1\)"),
               ("half", TypeError, r"dropout must be a real number"),
               (True, TypeError, r"dropout must be a real number")]


@pytest.mark.parametrize("value, exc, match", BAD_DROPOUT)
@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_bad_dropout_is_named(fn, value, exc, match):
    with pytest.raises(exc, match=match):
        fn.Dense(3, 4, dropout=value)


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_a_models_output_takes_no_dropout(fn):
    with pytest.raises(ValueError, match=r"the last layer \(layers\[1\]\) has dropout=0.5"):
        fn.Sequential([fn.Dense(3, 4), fn.Dense(4, 2, "softmax", dropout=0.5)], loss="cross_entropy")
    with pytest.raises(TypeError, match="training must be True or False"):
        fn.Dense(3, 4).forward(np.ones((1, 3)), training="yes")


@pytest.mark.parametrize("fn", BACKENDS, ids=BACKEND_IDS)
def test_summary_and_repr_show_dropout(fn, capsys):
    model = dropout_model(fn)
    model.summary()
    out = capsys.readouterr().out
    assert "dropout" in out.splitlines()[0] and "0.3" in out and "0.5" in out
    assert "dropout=0.3" in repr(model.layers[0]) and "dropout" not in repr(model.layers[2])
