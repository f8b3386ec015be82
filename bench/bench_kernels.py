"""Kernel benchmarks: the compiled ops against the NumPy ops, and the GEMM threshold sweep.

Under pytest (``pytest bench -k kernel``) each op × size is a pytest-benchmark group
``kernel-<op>-<size>`` with the two backends side by side. As a script it prints, from one
run with the two sides interleaved (the machine is shared and noisy, so ratios, not times):

    python bench/bench_kernels.py            # speedups per op and size, then the sweep
    python bench/bench_kernels.py --sweep    # only the micro-kernel/BLAS sweep (threshold)
    python bench/bench_kernels.py --threads 1   # with every BLAS pool capped at one thread
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fastnet
import fastnet._cpu as cpu
from fastnet.reference import ops as ref

# (m, n_in, n_out): the digits net's first layer at batch 16, a 128-sample MLP layer, a big one
SIZES = {"small": (16, 64, 15), "medium": (128, 256, 128), "large": (512, 1024, 512)}
OPS = ["dense_forward", "activation_backward", "dense_backward", "loss_grad", "sgd_update", "adam_update"]


def make_call(ops: Any, op: str, size: tuple[int, int, int], dtype: Any = np.float64) -> Callable[[], Any]:
    """A zero-argument call of `op` from `ops` on fresh data of `size` (outputs preallocated)."""
    m, n_in, n_out = size
    rng = np.random.default_rng(0)
    X = rng.standard_normal((m, n_in)).astype(dtype)
    W = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(dtype)
    b = np.zeros(n_out, dtype)
    Z, A = np.empty((m, n_out), dtype), np.empty((m, n_out), dtype)
    ref.dense_forward(X, W, b, "sigmoid", Z, A)
    dA, db, dX = np.ones_like(A), np.empty_like(b), np.empty_like(X)
    dZ, dW = rng.standard_normal(Z.shape).astype(dtype), rng.standard_normal(W.shape).astype(dtype)
    Y = rng.random((m, n_out)).astype(dtype)
    v, mom = np.zeros_like(W), np.zeros_like(W)
    calls = {
        "dense_forward": lambda: ops.dense_forward(X, W, b, "sigmoid", Z, A),
        "activation_backward": lambda: ops.activation_backward("sigmoid", Z, A, dA, dZ),
        "dense_backward": lambda: ops.dense_backward(X, W, dZ, 0.0, dW, db, dX),
        "loss_grad": lambda: ops.loss_grad("binary_cross_entropy", Z, A, Y, dZ),
        "sgd_update": lambda: ops.sgd_update(W, dW, v, 1e-9, 0.9, False),
        "adam_update": lambda: ops.adam_update(W, dW, mom, v, 3, 1e-9, 0.9, 0.999, 1e-8),
    }
    return calls[op]


def seconds_per_call(fn: Callable[[], Any], budget: float = 0.004) -> float:
    """Best of several timed batches, each batch sized to take about `budget` seconds."""
    fn()
    n, t = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - start
        if t > budget / 4:
            break
        n *= 4
    n = max(1, int(n * budget / t))
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def ratio(slow: Callable[[], Any], fast: Callable[[], Any], rounds: int = 3) -> float:
    """Median over interleaved rounds of time(slow) / time(fast)."""
    return float(np.median([seconds_per_call(slow) / seconds_per_call(fast) for _ in range(rounds)]))


def speedups() -> None:
    print(f"speed-up of fastnet.ops over fastnet.reference.ops (CPU path {cpu.active_path()}, float64 / float32)")
    print(f"{'op':22s}" + "".join(f"{name + ' ' + 'x'.join(map(str, s)):>28s}" for name, s in SIZES.items()))
    for op in OPS:
        cells = []
        for size in SIZES.values():
            r64 = ratio(make_call(ref, op, size), make_call(fastnet.ops, op, size))
            r32 = ratio(make_call(ref, op, size, np.float32), make_call(fastnet.ops, op, size, np.float32))
            cells.append(f"{r64:12.1f} / {r32:<12.1f}")
        print(f"{op:22s}" + "".join(f"{c:>28s}" for c in cells))


# The three products of a dense layer: (trans_a, trans_b, shapes of A and B for C m×n, inner k)
PRODUCTS = {
    "Z=X@W": (False, False, lambda m, n, k: ((m, k), (k, n))),
    "dW=XT@dZ": (True, False, lambda m, n, k: ((k, m), (k, n))),
    "dX=dZ@WT": (False, True, lambda m, n, k: ((m, k), (n, k))),
}
SWEEP = [(s, s, s) for s in (8, 16, 24, 32, 48, 64, 80, 96, 128)] + [
    (16, 64, 15), (32, 784, 128), (128, 128, 64), (64, 256, 64), (256, 512, 129)]


def sweep() -> None:
    """time(BLAS) / time(micro-kernel) per product, shape and dtype: > 1 means the micro-kernel wins."""
    print(f"\nGEMM sweep, time(BLAS)/time(micro) on CPU path {cpu.active_path()} (> 1: micro-kernel faster)")
    heads = [f"{p} {d}" for d in ("f64", "f32") for p in PRODUCTS]
    print(f"{'m x n x k':>16s} {'flops':>10s}" + "".join(f"{h:>16s}" for h in heads))
    rng = np.random.default_rng(0)
    for m, n, k in SWEEP:
        cells = []
        for dtype in (np.float64, np.float32):
            for trans_a, trans_b, shapes in PRODUCTS.values():
                sa, sb = shapes(m, n, k)
                A, B = rng.standard_normal(sa).astype(dtype), rng.standard_normal(sb).astype(dtype)
                C = np.zeros((m, n), dtype)
                reps = max(1, 2_000_000 // (m * n * k))  # about a millisecond per timing
                r = float(np.median([
                    min(cpu.gemm_seconds(A, B, C, trans_a, trans_b, "blas", reps) for _ in range(3))
                    / min(cpu.gemm_seconds(A, B, C, trans_a, trans_b, "micro", reps) for _ in range(3))
                    for _ in range(3)]))
                cells.append(f"{r:16.2f}")
        print(f"{f'{m}x{n}x{k}':>16s} {m * n * k:>10d}" + "".join(cells))


@pytest.mark.parametrize("backend", ["fastnet", "reference"])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("op", OPS)
def test_kernel(benchmark: Any, op: str, size: str, backend: str) -> None:
    call = make_call(fastnet.ops if backend == "fastnet" else ref, op, SIZES[size])
    benchmark.group = f"kernel-{op}-{size}"
    benchmark.extra_info.update(contender=backend, workload=f"{op} {'x'.join(map(str, SIZES[size]))} float64")
    benchmark(call)


if __name__ == "__main__":
    from threadpoolctl import threadpool_limits

    # --threads N caps every BLAS pool (NumPy's and SciPy's OpenBLAS), as the bench suite does
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else None
    with threadpool_limits(limits=threads):
        if "--sweep" not in sys.argv:
            speedups()
        sweep()
