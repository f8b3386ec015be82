"""Per-step times: the training benchmarks time whole epochs, the tables show one step."""

from __future__ import annotations

from typing import Any


def per_step(benchmark: Any, steps: int) -> None:
    """Divide the per-epoch times just measured by ``steps`` (pytest-benchmark's table and JSON then show steps)."""
    benchmark.extra_info["steps_per_round"] = steps
    metadata = getattr(benchmark, "stats", None)
    if metadata is None:  # --benchmark-disable: nothing was timed
        return
    stats = metadata.stats
    stats.data[:] = [t / steps for t in stats.data]
    for name in [k for k in vars(stats) if k != "data"]:  # drop statistics cached from the old data
        delattr(stats, name)
