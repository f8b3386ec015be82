"""Benchmark session set-up: one thread count for every contender, and the machine in the JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from workloads import THREADS


@pytest.fixture(scope="session", autouse=True)
def _blas_threads() -> Iterator[None]:
    """Every BLAS/OpenMP pool (NumPy's, SciPy's, fastnet's) gets THREADS threads, as torch, XLA and ORT do."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=THREADS):
        yield


def pytest_benchmark_update_machine_info(config: Any, machine_info: dict[str, Any]) -> None:
    import machine

    machine_info["fastnet_bench"] = machine.info()
