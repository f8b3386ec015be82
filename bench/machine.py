"""What the numbers were measured on: CPU, cores, BLAS libraries and thread counts, package versions."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from workloads import SMOKE, THREADS

PACKAGES = ("fastnet", "numpy", "scipy", "torch", "jax", "jaxlib", "scikit-learn", "onnxruntime", "pytest-benchmark")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas() -> list[dict[str, Any]]:
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries (empty when it is not installed)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("user_api", "internal_api", "version", "num_threads", "architecture")
    return [{k: lib.get(k) for k in keys} | {"file": Path(lib["filepath"]).name} for lib in threadpool_info()]


def thread_counts() -> dict[str, Any]:
    """Thread settings of every contender that is loaded in this process."""
    counts: dict[str, Any] = {"bench threads (FASTNET_BENCH_THREADS or cores)": THREADS}
    if "torch" in sys.modules:
        counts["torch.get_num_threads()"] = sys.modules["torch"].get_num_threads()
    if "jax" in sys.modules:
        counts["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "(unset: XLA uses every core)")
    if "onnxruntime" in sys.modules:
        counts["onnxruntime intra_op_num_threads"] = THREADS
    return counts


def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def git_commit() -> str:
    """The checkout's commit, marked when the tree has uncommitted changes."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (plus uncommitted changes)" if _git("status", "--porcelain", "--untracked-files=no") else "")


def fastnet_path() -> str:
    """Where the measured fastnet was imported from (a build in place or an installed copy)."""
    module = sys.modules.get("fastnet")
    return str(Path(module.__file__).parent) if module and module.__file__ else "not imported"


def versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def info() -> dict[str, Any]:
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores available": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git commit": git_commit(),
        "fastnet imported from": fastnet_path(),
        "smoke": SMOKE,
        "threads": thread_counts(),
        "blas": blas(),
        "versions": versions(),
    }
