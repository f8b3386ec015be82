"""The benchmark suite's own logic (no timing): the workloads' sizes, per-step conversion, the report's
tables and ratios, and bench/seed002.py being the post's code. Running every benchmark once is the CI
smoke command: FASTNET_BENCH_SMOKE=1 python -m pytest bench --benchmark-disable."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load(name: str) -> ModuleType:
    """A bench/ module under a private name (bench's modules are not a package)."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_workloads_have_their_specified_sizes(monkeypatch):
    monkeypatch.delenv("FASTNET_BENCH_SMOKE", raising=False)
    w = load("workloads")
    digits, mlp, wide = w.WORKLOADS["digits"], w.WORKLOADS["mlp784"], w.WORKLOADS["wide"]
    assert (digits.sizes, digits.activations, digits.batch, digits.dtype) == (
        (64, 15, 10), ("relu", "sigmoid"), 16, "float64")
    assert (mlp.sizes, mlp.activations, mlp.batch, mlp.dtype, mlp.n_samples) == (
        (784, 256, 256, 10), ("relu", "relu", "sigmoid"), 64, "float32", 4096)
    assert (wide.sizes, wide.activations, wide.batch, wide.dtype, wide.n_samples) == (
        (1024,) * 5, ("relu", "relu", "relu", "identity"), 256, "float32", 2048)
    assert digits.batch_sizes() == [16] * 78 + [9] and digits.n_steps == 79
    for name, work in w.WORKLOADS.items():
        X, Y = w.data(name)
        assert X.shape == (work.n_samples, work.sizes[0]) and Y.shape == (work.n_samples, work.sizes[-1])
        assert X.dtype == Y.dtype == work.dtype and X.flags.c_contiguous
        params = w.initial_params(name)
        assert [W.shape for W, _ in params] == list(zip(work.sizes, work.sizes[1:]))
    X, Y = w.data("mlp784")
    assert np.array_equal(Y.sum(axis=1), np.ones(4096))  # one-hot


def test_per_step_divides_the_epoch_times():
    from pytest_benchmark.stats import Stats

    timing = load("timing")
    stats = Stats()
    for t in (1.0, 2.0, 3.0):
        stats.update(t)
    assert stats.median == 2.0  # cached before the conversion
    bench = SimpleNamespace(extra_info={}, stats=SimpleNamespace(stats=stats))
    timing.per_step(bench, 4)
    assert stats.data == [0.25, 0.5, 0.75] and stats.median == 0.5
    assert bench.extra_info["steps_per_round"] == 4
    timing.per_step(SimpleNamespace(extra_info={}, stats=None), 4)  # --benchmark-disable: no stats


def _bench(group: str, contender: str, seconds: float) -> dict:
    stats = {"median": seconds, "iqr": 0.0, "min": seconds, "rounds": 5}
    return {"group": group, "name": f"test[{contender}]", "stats": stats,
            "extra_info": {"contender": contender, "workload": "a net", "steps_per_round": 3}}


def test_report_tables_and_targets():
    fmt = load("report_format")
    data = {
        "machine_info": {"fastnet_bench": {"cpu": "test CPU", "cores": 2, "blas": [], "threads": {"bench": 2}}},
        "benchmarks": [
            _bench("digits", "fastnet", 2e-6), _bench("digits", "seed-002 NumPy NN", 50e-6),
            _bench("digits", "PyTorch", 100e-6), _bench("digits", "GEMMs alone", 1e-6),
            _bench("wide", "fastnet", 0.0102), _bench("wide", "GEMMs alone", 0.01),
            _bench("kernels-relu", "numpy", 4e-6), _bench("kernels-relu", "compiled", 1e-6),
            _bench("scaleout-search", "fastnet", 1.0), _bench("scaleout-search", "fastnet serial", 1.6),
            _bench("scaleout-search", "fastnet loky", 0.8), _bench("scaleout-search", "scikit-learn loky", 2.4),
            {"group": "digits", "name": "test[disabled]", "stats": None},
        ],
    }
    md = fmt.markdown(data, ["speedups.png"])
    assert "| cpu | test CPU |" in md
    assert "| digits | 2 µs | 25.00× | 50.00× | 2.00 |" in md  # seed and torch over fastnet; fastnet over GEMMs
    assert "| digits | ≥ 15× faster than seed-002 NumPy NN | 25.00× | yes |" in md
    assert "| digits | ≥ 100× faster than PyTorch | 50.00× | no |" in md
    assert "| wide | ≤ 1.03 × GEMMs alone | 1.02 | yes |" in md
    assert "| mlp784 | ≤ 1.10 × GEMMs alone | not measured | – |" in md
    assert "| scaleout-search | ≥ 1.7× faster than fastnet serial | 1.60× | no |" in md
    # over fastnet's fastest contender (loky here), not over the one named "fastnet"
    assert "| scaleout-search | fastnet at its best ≥ 2.5× faster than scikit-learn loky | 3.00× | yes |" in md
    assert "| hand-loop | ≥ 2.5× faster than lean NumPy loop | not measured | – |" in md
    assert "| numpy | 4 µs | 0 ns | 4 µs | 5 | 4.00 |" in md  # a group without fastnet: over its fastest
    assert "![speedups.png](speedups.png)" in md


def test_the_command_line_hands_every_bench_argument_to_the_suite(monkeypatch):
    import fastnet.__main__ as cli
    import fastnet.bench

    seen = []
    monkeypatch.setattr(fastnet.bench, "main", lambda argv: seen.append(argv) or 0)
    assert cli.main(["bench", "--out", "/tmp/x", "--smoke", "-k", "digits"]) == 0
    assert cli.main(["bench"]) == 0
    assert seen == [["--out", "/tmp/x", "--smoke", "-k", "digits"], []]
