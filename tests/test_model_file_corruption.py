"""Model files that are corrupt, truncated, hand-edited or not model files at all: load refuses each with
a ValueError (or the OS error), never unpickles, and never returns a model that differs from the saved one."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import fastnet
import fastnet.io
import fastnet.reference

from helpers import assert_identical, file_model, fit_file_model


@pytest.fixture
def saved(fn, tmp_path):
    """(path, model) of a trained Adam model file."""
    model = file_model(fn, "cross_entropy", "adam")
    fit_file_model(model, "cross_entropy", epochs=1)
    path = tmp_path / "good.npz"
    model.save(path)
    return path, model


def read_arrays(path):
    with np.load(path) as archive:
        return {name: archive[name] for name in archive.files}


def rewrite(path, arrays, recompute_checksum=True):
    """Write ``arrays`` back as an .npz, optionally with a checksum that matches (a careful hand edit)."""
    arrays = dict(arrays)
    if recompute_checksum:
        arrays.pop("checksum", None)
        arrays["checksum"] = np.frombuffer(fastnet.io._checksum(arrays).encode(), dtype=np.uint8)
    np.savez(path, **arrays)


def edit_config(path, change, recompute_checksum=True):
    arrays = read_arrays(path)
    config = json.loads(arrays["config"].tobytes())
    change(config)
    arrays["config"] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    rewrite(path, arrays, recompute_checksum)


def test_the_helpers_reproduce_a_valid_file(fn, saved):
    path, model = saved
    rewrite(path, read_arrays(path))
    edit_config(path, lambda config: None)
    assert_identical(model, fn.load(path))  # so every rejection below is due to the edit alone


def test_missing_file(fn, tmp_path):
    with pytest.raises(FileNotFoundError):
        fn.load(tmp_path / "absent.npz")


@pytest.mark.parametrize("keep", [0, 1, 30, 0.5, -22, -1])
def test_truncated_file(fn, saved, keep):
    path, _ = saved
    data = path.read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path.write_bytes(data[:cut])
    with pytest.raises(ValueError, match="not a (readable|valid) fastnet model file"):
        fn.load(path)


def test_flipped_bytes_in_parameters_and_config(fn, saved):
    path, model = saved
    data = path.read_bytes()
    targets = {
        "parameter": model.layers[1].W.tobytes()[8:16],
        "optimizer state": model.optimizer_state.slots[0]["v"].tobytes()[:8],
        "config": b'"loss"',
    }
    for what, needle in targets.items():
        offset = data.find(needle)
        assert offset > 0, what
        corrupt = bytearray(data)
        corrupt[offset + 3] ^= 0x10
        path.write_bytes(bytes(corrupt))
        with pytest.raises(ValueError, match="fastnet model file"):
            fn.load(path)


def test_any_flipped_byte_is_rejected_or_harmless(tmp_path):
    # Every 7th byte of a small file (headers, data, central directory), flipped: load either raises
    # ValueError or returns the same model (zip metadata such as timestamps is not checked, and need not be).
    fn = fastnet.reference
    model = fn.Sequential([fn.Dense(2, 2, activation="sigmoid", seed=0)], loss="binary_cross_entropy",
                          optimizer=fn.SGD(0.1, momentum=0.5), seed=1)
    model.train_step([[0.5, -1.0]], [[1.0, 0.0]])
    path = tmp_path / "small.npz"
    model.save(path)
    data = path.read_bytes()
    rejected = 0
    for i in range(0, len(data), 7):
        corrupt = bytearray(data)
        corrupt[i] ^= 0xFF
        path.write_bytes(bytes(corrupt))
        try:
            loaded = fn.load(path)
        except ValueError:
            rejected += 1
            continue
        assert_identical(model, loaded)
    assert rejected > len(data) // 14


def test_edited_config_without_checksum_update(fn, saved):
    path, _ = saved
    edit_config(path, lambda config: config["layers"][0].update(l2=0.5), recompute_checksum=False)
    with pytest.raises(ValueError, match="checksum mismatch"):
        fn.load(path)


def test_edited_parameter_without_checksum_update(fn, saved):
    path, _ = saved
    arrays = read_arrays(path)
    arrays["param_0"] = arrays["param_0"] + 1e-12
    rewrite(path, arrays, recompute_checksum=False)
    with pytest.raises(ValueError, match="checksum mismatch"):
        fn.load(path)


CONFIG_EDITS = [
    ("version 3", lambda c: c.update(version=3), r"format version 3 is not supported"),
    ("version 0", lambda c: c.update(version=0), r"format version 0 is not supported"),
    ("version true", lambda c: c.update(version=True), r"format version True is not supported"),
    ("version missing", lambda c: c.pop("version"), r"format version None is not supported"),
    ("version '1'", lambda c: c.update(version="1"), r"format version '1' is not supported"),
    ("format", lambda c: c.update(format="keras"), r"config does not describe a fastnet model"),
    ("n_in", lambda c: c["layers"][0].update(n_in=5), r"param_0 has shape \(4, 5\)"),
    ("n_out chain", lambda c: c["layers"][0].update(n_out=6), r"param_0 has shape \(4, 5\), expected \(4, 6\)"),
    ("dtype", lambda c: [layer.update(dtype="float32") for layer in c["layers"]], r"dtype float64, expected"),
    ("activation", lambda c: c["layers"][1].update(activation="swish"), r"activation must be one of"),
    ("pairing", lambda c: c["layers"][2].update(activation="tanh"), r"needs a softmax last layer"),
    ("loss", lambda c: c.update(loss="hinge"), r"loss must be one of"),
    ("l2", lambda c: c["layers"][0].update(l2=-1.0), r"l2 must be a finite number"),
    ("layers gone", lambda c: c.pop("layers"), r"KeyError"),
    ("extra layer key", lambda c: c["layers"][0].update(bias=True), r"unexpected keyword argument 'bias'"),
    ("optimizer name", lambda c: c["optimizer"].update(name="RMSprop"), r"unknown optimizer"),
    ("optimizer lr", lambda c: c["optimizer"].update(learning_rate=-1.0), r"learning_rate must be finite"),
    ("optimizer key", lambda c: c["optimizer"].update(momentum=0.9), r"bad optimizer config"),
    ("state kind", lambda c: c.update(optimizer_state="SGD"), r"optimizer state of kind 'SGD' does not match"),
    ("step -1", lambda c: c.update(step=-1), r"step must be a non-negative integer"),
    ("step float", lambda c: c.update(step=2.5), r"step must be a non-negative integer"),
    ("dropout key", lambda c: c.update(dropout_key=2**64), r"dropout_key must be a non-negative integer below 2\*\*64"),
    ("dropout key gone", lambda c: c.pop("dropout_key"), r"KeyError"),
    ("dropout count", lambda c: c.update(dropout_count=-1), r"dropout_count must be a non-negative integer"),
    ("dropout", lambda c: c["layers"][0].update(dropout=1.0), r"dropout must be in \[0, 1\)"),
    ("dropout last", lambda c: c["layers"][2].update(dropout=0.5), r"the last layer \(layers\[2\]\) has dropout"),
    ("seed", lambda c: c.update(seed=-4), r"seed must be an integer >= 0"),
    ("rng", lambda c: c.update(rng={"bit_generator": "MT19937"}), r"fastnet model file"),
    ("rng junk", lambda c: c.update(rng=3), r"fastnet model file"),
    ("not a dict", lambda c: c.clear() or c.update(format="fastnet-model", version=1), r"KeyError"),
]


@pytest.mark.parametrize("edit, match", [c[1:] for c in CONFIG_EDITS], ids=[c[0] for c in CONFIG_EDITS])
def test_hand_edited_config_with_matching_checksum(fn, saved, edit, match):
    path, _ = saved
    edit_config(path, edit)
    with pytest.raises(ValueError, match=match):
        fn.load(path)


def test_config_that_is_not_json(fn, saved):
    path, _ = saved
    arrays = read_arrays(path)
    arrays["config"] = np.frombuffer(b"{not json", dtype=np.uint8)
    rewrite(path, arrays)
    with pytest.raises(ValueError, match="config is not JSON"):
        fn.load(path)


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda a: a.pop("param_3"), r"\['param_3'\] are missing or unexpected"),
        (lambda a: a.pop("state_2_m"), r"\['state_2_m'\] are missing or unexpected"),
        (lambda a: a.update(param_9=np.zeros(2)), r"\['param_9'\] are missing or unexpected"),
        (lambda a: a.update(param_1=a["param_1"][:-1]), r"param_1 has shape \(4,\)"),
        (lambda a: a.update(param_0=a["param_0"].astype(np.float32)), r"param_0 has shape .* dtype float32"),
        (lambda a: a.update(state_0_v=a["state_0_v"].astype(np.int64)), r"state_0_v has shape .* dtype int64"),
        (lambda a: a["param_2"].__setitem__((0, 0), np.nan), r"param_2 holds NaN or infinity"),
        (lambda a: a["state_1_m"].__setitem__(0, np.inf), r"state_1_m holds NaN or infinity"),
    ],
    ids=["param missing", "state missing", "extra array", "shape", "param dtype", "state dtype", "nan", "inf"],
)
def test_bad_arrays_with_matching_checksum(fn, saved, edit, match):
    path, _ = saved
    arrays = {name: array.copy() for name, array in read_arrays(path).items()}
    edit(arrays)
    rewrite(path, arrays)
    with pytest.raises(ValueError, match=match):
        fn.load(path)


@pytest.mark.parametrize("key", ["config", "checksum"])
def test_missing_config_or_checksum(fn, saved, key):
    path, _ = saved
    arrays = read_arrays(path)
    arrays.pop(key)
    rewrite(path, arrays, recompute_checksum=False)
    with pytest.raises(ValueError, match=f"missing or malformed '{key}'"):
        fn.load(path)


def test_checksum_of_the_wrong_type(fn, saved):
    path, _ = saved
    arrays = read_arrays(path)
    arrays["checksum"] = arrays["checksum"].astype(np.int64)
    rewrite(path, arrays, recompute_checksum=False)
    with pytest.raises(ValueError, match="missing or malformed 'checksum'"):
        fn.load(path)


def test_compressed_members_are_refused(fn, saved, tmp_path):
    path, _ = saved
    with zipfile.ZipFile(path) as plain, zipfile.ZipFile(tmp_path / "z.npz", "w",
                                                         compression=zipfile.ZIP_DEFLATED) as packed:
        for name in plain.namelist():
            packed.writestr(name, plain.read(name))
    with pytest.raises(ValueError, match="compressed members"):
        fn.load(tmp_path / "z.npz")


def test_pickled_object_arrays_are_refused_without_unpickling(fn, saved, monkeypatch):
    path, _ = saved
    arrays = read_arrays(path)
    arrays["param_0"] = np.array([{"evil": 1}, None], dtype=object)
    np.savez(path, **arrays)
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("load unpickled something"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("load unpickled something"))
    with pytest.raises(ValueError, match="not a readable fastnet model file"):
        fn.load(path)


def test_a_plain_pickle_is_refused(fn, tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(pickle.dumps({"param_0": np.zeros(3)}))
    with pytest.raises(ValueError, match="not a readable fastnet model file"):
        fn.load(path)


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, not a model\n", b"PK\x03\x04" + b"\x00" * 40, b"\x93NUMPY garbage"],
    ids=["empty", "text", "zip header only", "npy magic"],
)
def test_files_that_are_not_archives(fn, tmp_path, content):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable fastnet model file"):
        fn.load(path)


def test_a_single_npy_array(fn, tmp_path):
    path = tmp_path / "m.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ValueError, match="single array"):
        fn.load(path)


def test_a_zip_that_is_not_an_npz(fn, tmp_path):
    path = tmp_path / "m.npz"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.npy", b"not an array")
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="not a readable fastnet model file"):
        fn.load(path)


def test_an_empty_npz(fn, tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path)
    with pytest.raises(ValueError, match="missing or malformed 'config'"):
        fn.load(path)
