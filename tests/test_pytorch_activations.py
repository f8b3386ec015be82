"""gelu and exp of both backends' ops against PyTorch (``torch.nn.functional.gelu(z, approximate="tanh")``
and ``torch.exp``): forward and backward, both dtypes, every CPU path, z over [-30, 30], 0, and values
past saturation and overflow."""

import numpy as np
import pytest

import fastnet
import fastnet._cpu as cpu
import fastnet.reference
from fastnet._codes import GELU_SATURATION

from helpers import KERNEL_TOL, assert_close, require

WIDTH = 37  # columns of the batch: whole vectors and a tail on every path
OPS = [(fastnet.ops, path) for path in cpu.supported_paths()] + [(fastnet.reference.ops, None)]


@pytest.fixture(scope="module")
def torch():
    return require("torch")


def z_values(dtype):
    """[-30, 30], ±0, around gelu's saturation, and values whose exp overflows or underflows."""
    s = GELU_SATURATION
    special = [0.0, -0.0, s, -s, s + 0.5, -s - 0.5, 25.0, -25.0, 88.0, 90.0, -100.0, 700.0, 710.0, -750.0, 1e4, -1e4]
    z = np.concatenate([np.linspace(-30, 30, 2000), special])
    z = np.concatenate([z, np.linspace(-1, 1, -len(z) % WIDTH)])
    return z.astype(dtype).reshape(-1, WIDTH)


def pytorch(torch, activation, z, dA):
    t = torch.from_numpy(z.copy()).requires_grad_(True)
    a = torch.nn.functional.gelu(t, approximate="tanh") if activation == "gelu" else torch.exp(t)
    (grad,) = torch.autograd.grad(a, t, grad_outputs=torch.from_numpy(dA))
    return a.detach().numpy(), grad.numpy()


def assert_matches(got, want, tol, scale, what):
    """No NaN; equal where PyTorch's result overflowed; within tol · scale elsewhere."""
    assert not np.isnan(got).any(), what
    special = ~np.isfinite(want)
    np.testing.assert_array_equal(got[special], want[special], err_msg=what)
    assert_close(got[~special], want[~special], tol, np.broadcast_to(scale, want.shape)[~special], what)


@pytest.mark.parametrize("activation", ["gelu", "exp"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("ops, path", OPS, ids=[f"compiled-{p}" if p else "reference" for _, p in OPS])
def test_forward_and_backward_match_pytorch(torch, ops, path, dtype, activation):
    z = z_values(dtype)
    rng = np.random.default_rng(0)
    dA = (rng.uniform(0.5, 2.0, z.shape) * rng.choice([-1, 1], z.shape)).astype(dtype)
    want_A, want_dZ = pytorch(torch, activation, z, dA)
    A, dZ = np.empty_like(z), np.empty_like(z)
    with cpu.using_path(path or cpu.active_path()):
        finite = ops.dense_forward(z, np.eye(WIDTH, dtype=dtype), np.zeros(WIDTH, dtype), activation, z.copy(), A)
        ops.activation_backward(activation, z, A, dA, dZ)
    assert finite == bool(np.isfinite(want_A).all())
    tol, tiny = KERNEL_TOL[dtype], np.finfo(dtype).tiny
    if activation == "gelu":
        # gelu(z) = ½z(1 + tanh(·)) cancels for negative z: rounding relative to |z| (and 1);
        # gelu' is at most 1.13 and cancels near its zeros: rounding relative to |dA|
        assert_matches(A, want_A, tol, np.maximum(np.abs(z), 1), "gelu")
        assert_matches(dZ, want_dZ, tol, np.abs(dA), "gelu'")
    else:  # exp is relative everywhere, down to the subnormals
        assert_matches(A, want_A, tol, np.maximum(np.abs(want_A), tiny), "exp")
        assert_matches(dZ, want_dZ, tol, np.maximum(np.abs(want_dZ), tiny), "exp'")
