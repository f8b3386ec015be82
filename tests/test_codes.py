"""The Python, Cython and C views of fastnet/_codes.py agree: the table, the header the build generated
from it, the codes the compiled core was built with, and what the compiled kernels do with each name."""

import re
from pathlib import Path

import numpy as np
import pytest

import fastnet
import fastnet._codes as codes
import fastnet.activations
import fastnet.losses
import fastnet.optimizers
import fastnet.reference

from helpers import KERNEL_TOL, assert_close

TABLES = {"ACT": codes.ACTIVATIONS, "LOSS": codes.LOSSES, "METRIC": codes.METRICS, "OPT": codes.OPTIMIZERS}
CONSTANTS = {"LEAKY_SLOPE": codes.LEAKY_SLOPE, "GELU_SQRT_2_OVER_PI": codes.GELU_SQRT_2_OVER_PI,
             "GELU_CUBIC": codes.GELU_CUBIC, "GELU_SATURATION": codes.GELU_SATURATION,
             "DROPOUT_GAMMA": codes.DROPOUT_GAMMA, "DROPOUT_MIX_1": codes.DROPOUT_MIX_1,
             "DROPOUT_MIX_2": codes.DROPOUT_MIX_2}


def macro_value(text):
    """A macro's number: unsigned 64-bit hexadecimal integers end in ULL."""
    return int(text[:-3], 16) if text.endswith("ULL") else float(text)


def table_codes():
    """Every code the tables define: FN_<TABLE>_<NAME> = its position, FN_N<TABLE> = the table's length."""
    want = {}
    for prefix, names in TABLES.items():
        want.update({f"FN_{prefix}_{name.upper()}": code for code, name in enumerate(names)})
        want[f"FN_N{prefix}"] = len(names)
    return want


def enumerations(header):
    return {name: int(value) for name, value in re.findall(r"\b(FN_\w+) = (\d+)", header)}


def test_the_header_enumerates_the_tables():
    header = codes.c_header()
    assert enumerations(header) == table_codes()
    macros = dict(re.findall(r"#define FN_(\w+) (\S+)", header))
    assert {name: macro_value(value) for name, value in macros.items()} == CONSTANTS


def test_the_built_header_is_the_generated_one():
    header = Path(fastnet.__file__).resolve().parent.parent / "csrc" / "fn_codes.h"
    if header.is_file():
        assert header.read_text() == codes.c_header()
    else:  # installed without the source tree: the core's enumerations are what the header said
        generated = enumerations(codes.c_header())
        assert {name: generated[name] for name in fastnet.ops.COMPILED_CODES} == fastnet.ops.COMPILED_CODES


def test_the_compiled_codes_are_the_tables():
    want = table_codes()
    counts = {f"FN_N{prefix}": want[f"FN_N{prefix}"] for prefix in TABLES}
    indexed = {name: code for name, code in want.items() if not name.startswith(("FN_ACT_", "FN_N"))}
    assert fastnet.ops.COMPILED_CODES == counts | indexed
    assert fastnet.ops.ACTIVATION_CODES == {name: code for code, name in enumerate(codes.ACTIVATIONS)}
    assert fastnet.ops.LOSS_CODES == {name: code for code, name in enumerate(codes.LOSSES)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", codes.ACTIVATIONS)
def test_every_activation_runs_in_the_compiled_core(activation, dtype):
    Z = np.linspace(-4, 4, 3 * 11, dtype=dtype).reshape(3, 11)
    dA = np.cos(Z * 7).astype(dtype)
    eye, zero = np.eye(11, dtype=dtype), np.zeros(11, dtype)
    results = []
    for ops in (fastnet.ops, fastnet.reference.ops):
        A, dZ = np.empty_like(Z), np.empty_like(Z)
        assert ops.dense_forward(Z, eye, zero, activation, np.empty_like(Z), A) is True
        ops.activation_backward(activation, Z, A, dA, dZ)
        results.append((A, dZ))
    for got, want in zip(*results):
        assert_close(got, want, KERNEL_TOL[dtype])


def test_the_constants_reach_the_compiled_core():
    z = np.array([[-1.0, 0.0, codes.GELU_SATURATION + 0.5, -codes.GELU_SATURATION - 0.5]])
    eye, zero, ones = np.eye(4), np.zeros(4), np.ones_like(z)
    A, dZ = np.empty_like(z), np.empty_like(z)
    fastnet.ops.dense_forward(z, eye, zero, "leaky_relu", np.empty_like(z), A)
    fastnet.ops.activation_backward("leaky_relu", z, A, ones, dZ)
    assert A[0, 0] == -codes.LEAKY_SLOPE and dZ[0, 0] == codes.LEAKY_SLOPE and dZ[0, 1] == codes.LEAKY_SLOPE
    fastnet.ops.dense_forward(z, eye, zero, "gelu", np.empty_like(z), A)
    fastnet.ops.activation_backward("gelu", z, A, ones, dZ)
    assert A[0, 1] == 0 and dZ[0, 1] == 0.5 and A[0, 2] == z[0, 2] and A[0, 3] == 0
    assert dZ[0, 2] == 1 and dZ[0, 3] == 0  # beyond the saturation: gelu' is exactly 1 or 0


@pytest.mark.parametrize("ops", [fastnet.ops, fastnet.reference.ops], ids=["compiled", "reference"])
def test_unknown_names_are_value_errors(ops):
    Z = np.ones((2, 3))
    with pytest.raises(ValueError, match="unknown activation 'nope'"):
        ops.dense_forward(Z, np.eye(3), np.zeros(3), "nope", np.empty_like(Z), np.empty_like(Z))
    with pytest.raises(ValueError, match="unknown activation 'nope'"):
        ops.activation_backward("nope", Z, Z, Z, np.empty_like(Z))
    with pytest.raises(ValueError, match="unknown loss 'nope'"):
        ops.loss_grad("nope", Z, Z, Z, np.empty_like(Z))


def test_the_package_tables_come_from_codes():
    assert fastnet.activations.ACTIVATIONS is codes.ACTIVATIONS
    assert fastnet.activations.LAST_LAYER_ONLY is codes.LAST_LAYER_ONLY
    assert fastnet.losses.LOSSES is codes.MODEL_LOSSES and fastnet.losses.FUSED is codes.FUSED
    assert tuple(fastnet.optimizers.OPTIMIZERS) == codes.OPTIMIZERS
    for kind, optimizer in fastnet.optimizers.OPTIMIZERS.items():
        assert optimizer.kind == kind and optimizer.slots is codes.OPTIMIZER_SLOTS[kind]
    assert fastnet.SGD.slots == ("velocity",) and fastnet.Adam.slots == ("m", "v")
    classes = [fastnet.Identity, fastnet.ReLU, fastnet.LeakyReLU, fastnet.Tanh, fastnet.Sigmoid, fastnet.Softmax,
               fastnet.Exp, fastnet.GELU]
    assert sorted(cls.name for cls in classes) == sorted(codes.ACTIVATIONS)  # a class for every activation
    assert sorted(cls.name for cls in (fastnet.MSE, fastnet.CrossEntropy, fastnet.BinaryCrossEntropy)) == sorted(
        codes.MODEL_LOSSES)
