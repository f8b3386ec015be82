"""fastnet's vectorised exp on every CPU path: accuracy in ulps against a long double exp, and the edges."""

import numpy as np
import pytest

import fastnet._cpu as cpu

DTYPES = [np.float64, np.float32]


def ulp_error(got, x):
    """|got − exp(x)| in ulps of the correctly rounded result, against a long double exp."""
    exact = np.exp(x.astype(np.longdouble))
    spacing = np.spacing(np.abs(exact.astype(x.dtype))).astype(np.longdouble)
    return np.abs(got.astype(np.longdouble) - exact) / spacing


# Bounds measured over these points; csrc/fn_exp.h documents them (FMA paths stay below 0.9).
EXP_ULP = {np.float64: 1.2, np.float32: 1.2}
EXP_RANGE = {np.float64: (-745.0, 709.7), np.float32: (-103.0, 88.7)}


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_ulp(cpu_path, dtype):
    rng = np.random.default_rng(1)
    lo, hi = EXP_RANGE[dtype]
    x = np.concatenate([rng.uniform(lo, hi, 200_000), rng.uniform(-1, 1, 50_000),
                        rng.uniform(-1e-6, 1e-6, 10_000), np.linspace(lo, hi, 20_001)]).astype(dtype)
    got = cpu.exp(x)
    assert got.dtype == dtype
    assert ulp_error(got, x).max() <= EXP_ULP[dtype]
    with np.errstate(over="ignore"):
        want = np.exp(x)
    # numpy.exp itself is ~2.4 ulp off in float32 (its SIMD exp), 0.5 ulp in float64
    assert np.max(np.abs(got - want) / np.spacing(np.abs(want))) <= (2 if dtype == np.float64 else 4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_edges(cpu_path, dtype):
    info = np.finfo(dtype)
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e4, -1e4, 1e-30, -1e-30, np.log(info.max),
                  np.log(info.max) * 1.001, np.log(info.smallest_subnormal), np.log(info.tiny),
                  np.log(info.smallest_subnormal) - 1], dtype=dtype)
    with np.errstate(over="ignore", under="ignore"):
        want = np.exp(x)
    got = cpu.exp(x)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(np.isinf(got), np.isinf(want))
    assert np.array_equal(got == 0, want == 0)
    finite = np.isfinite(want) & (want != 0)
    assert np.all(np.abs(got[finite] - want[finite]) <= 4 * np.spacing(want[finite]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_of_any_length_and_shape(cpu_path, dtype):
    """Every length up to a few vectors (the tails of every width), any shape, a new array."""
    for n in range(0, 70):
        x = np.linspace(-5, 5, n).astype(dtype)
        got = cpu.exp(x)
        assert got is not x and got.shape == x.shape and got.dtype == dtype
        assert ulp_error(got, x).max(initial=0) <= EXP_ULP[dtype]
    x = np.linspace(-3, 3, 24).astype(dtype).reshape(2, 3, 4)[:, ::-1]  # not contiguous
    np.testing.assert_array_equal(cpu.exp(x), cpu.exp(np.ascontiguousarray(x)))
    with pytest.raises(TypeError, match="float32 or float64"):
        cpu.exp(np.arange(3))
