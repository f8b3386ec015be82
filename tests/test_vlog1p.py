"""fastnet's vectorised log1p on every CPU path: accuracy in ulps against a long double log1p, and the edges."""

import numpy as np
import pytest

import fastnet._cpu as cpu

DTYPES = [np.float64, np.float32]
# The bar (csrc/fn_log1p.h documents the measured error, about 0.85 ulp on every path).
LOG1P_ULP = 1.5


def ulp_error(got, x):
    """|got − log1p(x)| in ulps of the correctly rounded result, against a long double log1p."""
    exact = np.log1p(x.astype(np.longdouble))
    spacing = np.spacing(np.abs(exact.astype(x.dtype))).astype(np.longdouble)
    return np.abs(got.astype(np.longdouble) - exact) / spacing


def log_uniform(rng, lo, hi, n):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


@pytest.mark.parametrize("dtype", DTYPES)
def test_log1p_ulp_on_the_loss_domain(cpu_path, dtype):
    """[0, 1]: binary cross-entropy takes log1p of exp(−|z|), so every z maps here."""
    rng = np.random.default_rng(2)
    z = rng.uniform(-120, 120, 50_000).astype(dtype)
    x = np.concatenate([rng.uniform(0, 1, 300_000), np.linspace(0, 1, 20_001),
                        log_uniform(rng, 1e-45, 1, 100_000)]).astype(dtype)
    x = np.concatenate([x, cpu.exp(-np.abs(z))])
    assert ulp_error(cpu.log1p(x), x).max() <= LOG1P_ULP


@pytest.mark.parametrize("dtype", DTYPES)
def test_log1p_ulp_on_its_whole_domain(cpu_path, dtype):
    """(−1, largest finite]: near −1, around 0 of both signs, subnormals, up to the largest values."""
    info = np.finfo(dtype)
    rng = np.random.default_rng(3)
    sub = float(info.smallest_subnormal)
    x = np.concatenate([rng.uniform(-1, 0, 200_000), -1 + log_uniform(rng, float(info.eps) / 2, 1, 100_000),
                        log_uniform(rng, 1, float(info.max), 200_000), -log_uniform(rng, sub, 1, 100_000),
                        log_uniform(rng, sub, 1, 100_000), rng.uniform(-1e-6, 1e-6, 50_000),
                        sub * np.arange(1, 1000), -sub * np.arange(1, 1000)]).astype(dtype)
    x = np.concatenate([x, [np.nextafter(dtype(-1), dtype(0)), info.max, info.tiny, -info.tiny]]).astype(dtype)
    got = cpu.log1p(x)
    assert got.dtype == dtype
    assert ulp_error(got, x).max() <= LOG1P_ULP


@pytest.mark.parametrize("dtype", DTYPES)
def test_log1p_edges(cpu_path, dtype):
    """NaN, ±inf, ±0, −1 and below, subnormals: numpy.log1p's results, signs of zeros included."""
    info = np.finfo(dtype)
    x = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0, -1.5, -2.0, -1e30, info.min, info.max,
                  info.smallest_subnormal, -info.smallest_subnormal, info.tiny, -info.tiny, 1e-30, -1e-30,
                  np.nextafter(dtype(-1), dtype(-2))], dtype=dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.log1p(x)
    got = cpu.log1p(x)
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(got[~np.isnan(want)], want[~np.isnan(want)])  # exact: ±inf, ±0 or x itself
    assert np.array_equal(np.signbit(got[~np.isnan(want)]), np.signbit(want[~np.isnan(want)]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_log1p_of_any_length_and_shape(cpu_path, dtype):
    """Every length up to a few vectors (the tails of every width), any shape, a new array."""
    for n in range(0, 70):
        x = np.geomspace(1e-3, 1e3, n).astype(dtype) - dtype(0.999)
        got = cpu.log1p(x)
        assert got is not x and got.shape == x.shape and got.dtype == dtype
        assert ulp_error(got, x).max(initial=0) <= LOG1P_ULP
        x[n // 2:] = -2  # each lane of a tail meets an edge too
        assert np.isnan(cpu.log1p(x)[n // 2:]).all()
    x = np.linspace(-0.5, 3, 24).astype(dtype).reshape(2, 3, 4)[:, ::-1]  # not contiguous
    np.testing.assert_array_equal(cpu.log1p(x), cpu.log1p(np.ascontiguousarray(x)))
    with pytest.raises(TypeError, match="float32 or float64"):
        cpu.log1p(np.arange(3))
