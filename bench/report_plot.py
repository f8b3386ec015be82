"""PNG plots for the report (matplotlib): per-workload speed-ups, and the kernels' size sweep when there is one."""

from __future__ import annotations

import math
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

from report_format import FASTNET, GEMM, TRAIN_GROUPS, by_group, median, ratios


def _is_workload(group: str) -> bool:
    return group in TRAIN_GROUPS or group.startswith("infer-")


def speedups(data: dict[str, Any], path: Path, workloads: bool = True) -> bool:
    """Bars of (contender time ÷ fastnet time) per group, log scale; a second panel: fastnet ÷ GEMMs alone.

    ``workloads``: the training and inference workloads; otherwise every other group with fastnet (kernels).
    """
    import matplotlib.pyplot as plt

    groups = {g: ratios(e) for g, e in by_group(data).items() if FASTNET in e and _is_workload(g) == workloads}
    if not groups:
        return False
    peers = [n for n in dict.fromkeys(n for r in groups.values() for n in r) if n not in (FASTNET, GEMM)]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [3, 1]})
    width = 0.8 / max(len(peers), 1)
    names = sorted(groups, key=lambda g: (g.startswith("infer-"), list(groups).index(g)))  # training first
    colors = plt.get_cmap("tab10")
    for i, peer in enumerate(peers):
        xs = [j + (i - (len(peers) - 1) / 2) * width for j, g in enumerate(names) if peer in groups[g]]
        ys = [groups[g][peer] for g in names if peer in groups[g]]
        ax.bar(xs, ys, width, label=peer, color=colors(i % 10))
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(names)), names, rotation=0 if workloads else 60, ha="center" if workloads else "right")
    ax.set_ylabel("time ÷ fastnet's time (> 1: fastnet faster)")
    ax.set_title("fastnet's speed-up over each contender")
    ax.legend(fontsize=8)
    limited = [g for g in names if GEMM in groups[g]]
    ax2.bar(limited, [1 / groups[g][GEMM] for g in limited], color="tab:gray")
    ax2.axhline(1.0, color="black", linewidth=0.8)
    ax2.set_yscale("log")
    ax2.tick_params(axis="x", labelrotation=45)
    ax2.set_ylabel("fastnet time ÷ GEMMs-alone time")
    ax2.set_title("distance to the GEMM limit")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def sweep(data: dict[str, Any], path: Path) -> bool:
    """Benchmarks whose ``extra_info`` has numeric ``width`` and ``batch``: time (or GFLOP/s with ``flops``)
    against width, one panel per batch size, one line per ``impl`` (or contender)."""
    import matplotlib.pyplot as plt

    points: dict[int, dict[str, list[tuple[float, float, Any]]]] = defaultdict(lambda: defaultdict(list))
    use_flops = True
    for bench in data.get("benchmarks", []):
        extra = bench.get("extra_info") or {}
        if not bench.get("stats") or not all(isinstance(extra.get(k), (int, float)) for k in ("width", "batch")):
            continue
        use_flops &= isinstance(extra.get("flops"), (int, float))
        label = str(extra.get("impl") or extra.get("contender") or bench.get("group") or bench["name"])
        points[int(extra["batch"])][label].append((float(extra["width"]), median(bench), extra.get("flops")))
    if not points:
        return False
    batches = sorted(points)
    cols = min(3, len(batches))
    rows = math.ceil(len(batches) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, batch in zip(axes.flat, batches):
        for label, pts in sorted(points[batch].items()):
            pts.sort()
            ys = [f / t / 1e9 for _, t, f in pts] if use_flops else [t for _, t, _ in pts]
            ax.plot([p[0] for p in pts], ys, marker="o", label=label)
        ax.set_xscale("log", base=2)
        ax.set_yscale("linear" if use_flops else "log")
        ax.set_title(f"batch {batch}")
        ax.set_xlabel("width")
        ax.set_ylabel("GFLOP/s" if use_flops else "median time (s)")
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(batches):]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def plots(data: dict[str, Any], out: Path) -> list[str]:
    """Write the PNGs that have data; return their file names (none without matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        return []
    made = []
    kernels = partial(speedups, workloads=False)
    for name, draw in (("speedups.png", speedups), ("kernels.png", kernels), ("sweep.png", sweep)):
        if draw(data, out / name):
            made.append(name)
    return made
