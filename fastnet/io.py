"""Model files: ``.npz`` (never pickle) with a JSON config, the parameters, the
optimiser state and a SHA-256 checksum, written atomically and fsynced."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

from fastnet.optimizer_state import OptimizerState
from fastnet.optimizers import from_config, to_config

FORMAT = "fastnet-model"
VERSION = 2  # 2 added dropout (per layer) and the model's dropout key and counter
READABLE_VERSIONS = (1, 2)  # a version-1 file loads as a model without dropout, its key drawn from its seed


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = arrays[name]
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _encode(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def model_arrays(model: Any) -> dict[str, np.ndarray]:
    """Everything a model file holds, as named arrays (config included)."""
    arrays: dict[str, np.ndarray] = {}
    for i, (param, _) in enumerate(model._parameters()):
        arrays[f"param_{i}"] = param
    # state of another optimiser kind (the optimizer was replaced since) restarts on the next fit
    state = model.current_optimizer_state()
    for i, slots in enumerate(state.slots if state is not None else []):
        for slot, array in slots.items():
            arrays[f"state_{i}_{slot}"] = array
    config = {
        "format": FORMAT,
        "version": VERSION,
        "loss": model.loss,
        "layers": [layer.config() for layer in model.layers],
        "optimizer": to_config(model.optimizer),
        "optimizer_state": state.kind if state is not None else None,
        "step": state.step if state is not None else 0,
        "seed": model.seed,
        "rng": model._rng.bit_generator.state,
        "dropout_key": model._dropout_key,
        "dropout_count": model._dropout_count,
    }
    arrays["config"] = _encode(json.dumps(config, sort_keys=True))
    arrays["checksum"] = _encode(_checksum(arrays))
    return arrays


def save(model: Any, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path``: temporary file in the same folder, fsync, atomic rename, fsync folder."""
    path = os.fspath(path)
    arrays = model_arrays(model)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save the model to {path!r}: the folder {folder!r} does not exist")
    handle = tempfile.NamedTemporaryFile(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp", delete=False)
    try:
        with handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        if os.path.exists(handle.name):
            os.unlink(handle.name)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open folders; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_arrays(path: str) -> dict[str, np.ndarray]:
    try:
        data = np.load(path, allow_pickle=False)
        if not hasattr(data, "files"):
            raise ValueError("it holds a single array, not a model archive")
        with data:
            # save never compresses: a compressed member is not ours and could inflate without bound
            if any(info.compress_type != zipfile.ZIP_STORED for info in data.zip.infolist()):
                raise ValueError("it has compressed members (fastnet writes uncompressed .npz files)")
            arrays = {name: data[name] for name in data.files}
        for name, array in arrays.items():
            if not isinstance(array, np.ndarray):  # NpzFile returns non-.npy members as raw bytes
                raise ValueError(f"member {name!r} is not a NumPy array")
        return arrays
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:  # zipfile, pickle refusal, truncated data, bad headers...
        raise ValueError(f"{path!r} is not a readable fastnet model file: {exc}") from None


def load(path: str | os.PathLike[str], sequential_type: type) -> Any:
    """Read a model file into a new ``sequential_type``; ValueError on anything wrong."""
    path = os.fspath(path)
    arrays = _read_arrays(path)

    def fail(why: str) -> ValueError:
        return ValueError(f"{path!r} is not a valid fastnet model file: {why}")

    for key in ("config", "checksum"):
        if key not in arrays or arrays[key].dtype != np.uint8 or arrays[key].ndim != 1:
            raise fail(f"missing or malformed {key!r}")
    stored = arrays.pop("checksum").tobytes().decode("ascii", errors="replace")
    if stored != _checksum(arrays):
        raise fail("checksum mismatch (the file is corrupted or was edited)")
    try:
        config = json.loads(arrays["config"].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise fail(f"config is not JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise fail("config does not describe a fastnet model")
    version = config.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise fail(f"format version {version!r} is not supported (this fastnet reads versions 1 to {VERSION})")
    try:
        return _build(config, arrays, sequential_type)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError, RecursionError) as exc:
        raise fail(f"{type(exc).__name__}: {exc}") from None


def _build(config: dict[str, Any], arrays: dict[str, np.ndarray], sequential_type: type) -> Any:
    layer_type = sequential_type._layer_type
    for i, layer_config in enumerate(config["layers"]):  # sizes come from the stored arrays, not the config alone
        weights, shape = arrays.get(f"param_{2 * i}"), (layer_config["n_in"], layer_config["n_out"])
        if weights is None or weights.shape != shape:
            found = None if weights is None else weights.shape
            raise ValueError(f"param_{2 * i} has shape {found}, expected {shape} from layer {i}'s config")
    layers = [layer_type(**layer_config, seed=0) for layer_config in config["layers"]]
    model = sequential_type(
        layers, loss=config["loss"], optimizer=from_config(config["optimizer"]), seed=config["seed"]
    )
    params = model._parameters()
    expected = {f"param_{i}" for i in range(len(params))}
    kind = config["optimizer_state"]
    if kind is not None:
        if kind != model.optimizer.kind:
            raise ValueError(f"optimizer state of kind {kind!r} does not match optimizer {model.optimizer!r}")
        expected |= {f"state_{i}_{slot}" for i in range(len(params)) for slot in model.optimizer.slots}
    found = set(arrays) - {"config"}
    if found != expected:
        raise ValueError(f"arrays {sorted(found ^ expected)} are missing or unexpected")

    def exact(name: str, like: np.ndarray) -> np.ndarray:
        array = arrays[name]
        if array.shape != like.shape or array.dtype != like.dtype:
            raise ValueError(
                f"{name} has shape {array.shape} and dtype {array.dtype}, expected {like.shape} {like.dtype}"
            )
        if not np.isfinite(array).all():
            raise ValueError(f"{name} holds NaN or infinity")
        return array

    for i, (param, _) in enumerate(params):
        param[...] = exact(f"param_{i}", param)
    step = _counter(config, "step", 2**62)
    if config["version"] >= 2:
        model._dropout_key = _counter(config, "dropout_key", 2**64)
        model._dropout_count = _counter(config, "dropout_count", 2**62)
    if kind is not None:
        slots = [
            {slot: exact(f"state_{i}_{slot}", param).copy() for slot in model.optimizer.slots}
            for i, (param, _) in enumerate(params)
        ]
        model.set_optimizer_state(OptimizerState(kind, slots, step))
    model._rng.bit_generator.state = config["rng"]
    return model


def _counter(config: dict[str, Any], name: str, limit: int) -> int:
    value = config[name]
    if type(value) is not int or not 0 <= value < limit:
        raise ValueError(f"{name} must be a non-negative integer below 2**{limit.bit_length() - 1}, got {value!r}")
    return value
