"""The Markdown report from a pytest-benchmark JSON file: machine, summary ratios, targets, one table per group."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

FASTNET, GEMM = "fastnet", "GEMMs alone"
TRAIN_GROUPS = ("digits", "mlp784", "wide")
# The project's speed targets: (group, other contender, kind, bound). "faster": other/fastnet >= bound;
# "limit": fastnet/GEMMs-alone <= bound; "best": other/(the fastest contender named "fastnet…") >= bound.
TARGETS = (
    ("digits", "seed-002 NumPy NN", "faster", 15.0),
    ("digits", "PyTorch", "faster", 100.0),
    ("digits", "JAX lax.scan epoch", "faster", 5.0),
    ("infer-digits", "seed-002 NumPy NN", "faster", 8.0),
    ("mlp784", GEMM, "limit", 1.10),
    ("wide", GEMM, "limit", 1.03),
    # the scikit-learn drop-in (bench/bench_sklearn.py): never slower than scikit-learn, within 1.2× of
    # the fit's products and updates alone; predict of one sample at least 20× faster
    *((f"sklearn-{case}", target, kind, bound)
      for case in ("digits-adam", "digits-sgd", "20k-10class", "20k-regression", "digits-lbfgs", "sparse-10k-20k")
      for target, kind, bound in (("scikit-learn", "faster", 1.0), ("products and updates alone", "limit", 1.2))),
    ("sklearn-predict-one", "scikit-learn", "faster", 20.0),
    # scale-out (bench/bench_scaleout.py; "fastnet" is 2 threads): threads at least 1.7× faster than one
    # thread, and fastnet's best backend at least 2.5× faster than scikit-learn's MLP in loky's processes
    ("scaleout-search", "fastnet serial", "faster", 1.7),
    ("scaleout-8-fits", "fastnet serial", "faster", 1.7),
    ("scaleout-search", "scikit-learn loky", "best", 2.5),
    # hand-written loops over the layers (bench/bench_layers.py): the step, and each layer call, against
    # the same math in plain NumPy
    ("hand-loop", "lean NumPy loop", "faster", 2.5),
    ("dense-forward", "NumPy expression", "faster", 2.0),
    ("dense-backward", "NumPy expression", "faster", 2.0),
)


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def contender(bench: dict[str, Any]) -> str:
    """The contender's display name: ``extra_info["contender"]``, else the test's parameters."""
    extra = bench.get("extra_info") or {}
    if "contender" in extra:
        return str(extra["contender"])
    name = bench.get("name", "?")
    return name[name.find("[") + 1 : -1] if "[" in name else name


def by_group(data: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{group: {contender: benchmark}}`` in the JSON's order (benchmarks without stats are left out)."""
    groups: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for bench in data.get("benchmarks", []):
        if bench.get("stats"):
            groups[bench.get("group") or "(no group)"][contender(bench)] = bench
    return groups


def median(bench: dict[str, Any]) -> float:
    return float(bench["stats"]["median"])


def ratios(entries: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each contender's median over fastnet's (> 1: fastnet is faster); empty without fastnet."""
    if FASTNET not in entries:
        return {}
    base = median(entries[FASTNET])
    return {name: median(b) / base for name, b in entries.items()}


def machine_section(info: dict[str, Any]) -> list[str]:
    lines = ["## Machine", "", "| | |", "|---|---|"]
    for key in ("date", "cpu", "cores", "cores available", "python", "platform", "git commit",
                "fastnet imported from", "smoke"):
        lines.append(f"| {key} | {info.get(key, '?')} |")
    for key, value in (info.get("threads") or {}).items():
        lines.append(f"| {key} | {value} |")
    lines.append("| versions | " + ", ".join(f"{k} {v}" for k, v in (info.get("versions") or {}).items()) + " |")
    lines.append("")
    if info.get("blas"):
        lines += ["BLAS and thread pools (threadpoolctl, during the run):", "",
                  "| library | API | version | architecture | threads |", "|---|---|---|---|---|"]
        for lib in info["blas"]:
            lines.append(f"| {lib.get('file')} | {lib.get('internal_api')} | {lib.get('version')} | "
                         f"{lib.get('architecture')} | {lib.get('num_threads')} |")
        lines.append("")
    return lines


PREFERRED_ORDER = ("fastnet train_step loop", "fastnet.reference", "seed-002 NumPy NN", "PyTorch", "JAX jit step",
                   "JAX lax.scan epoch", "JAX jit", "scikit-learn MLP", "ONNX Runtime")


def summary_table(title: str, rows: list[tuple[str, dict[str, dict[str, Any]]]]) -> list[str]:
    """One row per group: fastnet's time, every other contender's time over it, fastnet over GEMMs alone."""
    names = dict.fromkeys(n for _, e in rows for n in e)
    others = [n for n in names if n not in (*PREFERRED_ORDER, FASTNET, GEMM)]
    peers = [n for n in PREFERRED_ORDER if n in names] + others
    head = ["workload", "fastnet", *[f"{p} ÷ fastnet" for p in peers], "fastnet ÷ GEMMs alone"]
    lines = [f"### {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group, entries in rows:
        r = ratios(entries)
        cells = [group, fmt_time(median(entries[FASTNET]))]
        cells += [f"{r[p]:.2f}×" if p in r else "–" for p in peers]
        cells.append(f"{1 / r[GEMM]:.2f}" if GEMM in r else "–")
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def summary_section(groups: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    rows = [(g, e) for g, e in groups.items() if FASTNET in e]
    if not rows:
        return []
    lines = ["## Summary", "",
             "Medians. `X ÷ fastnet` > 1 means fastnet is that many times faster than X; `fastnet ÷ GEMMs alone` "
             "is fastnet's time over that of the step's matrix products alone (1.00 = at the limit).", ""]
    parts = (
        ("Training, time per step", [(g, e) for g, e in rows if g in TRAIN_GROUPS]),
        ("Inference, time per 1-sample predict", [(g, e) for g, e in rows if g.startswith("infer-")]),
        ("Other groups", [(g, e) for g, e in rows if g not in TRAIN_GROUPS and not g.startswith("infer-")]),
    )
    for title, part in parts:
        if part:
            lines += summary_table(title, part)
    return lines


def best_ratios(entries: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Each contender's median over that of the fastest contender named "fastnet…"; empty without one."""
    ours = [median(b) for name, b in entries.items() if name.startswith(FASTNET)]
    return {name: median(b) / min(ours) for name, b in entries.items()} if ours else {}


def targets_section(groups: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    lines = ["## Speed targets", "", "| workload | target | measured | met |", "|---|---|---|---|"]
    for group, other, kind, bound in TARGETS:
        r = (best_ratios if kind == "best" else ratios)(groups.get(group, {}))
        if other not in r:
            lines.append(f"| {group} | {_target_text(other, kind, bound)} | not measured | – |")
            continue
        value = 1 / r[other] if kind == "limit" else r[other]
        met = value <= bound if kind == "limit" else value >= bound
        shown = f"{value:.2f}" if kind == "limit" else f"{value:.2f}×"
        lines.append(f"| {group} | {_target_text(other, kind, bound)} | {shown} | {'yes' if met else 'no'} |")
    return [*lines, ""]


def _target_text(other: str, kind: str, bound: float) -> str:
    if kind == "limit":
        return f"≤ {bound:.2f} × {other}"
    return f"{'fastnet at its best ' if kind == 'best' else ''}≥ {bound:g}× faster than {other}"


def group_section(group: str, entries: dict[str, dict[str, Any]]) -> list[str]:
    """Every contender of one group, fastest first, with its time over fastnet's (or over the fastest's)."""
    order = sorted(entries, key=lambda n: median(entries[n]))
    r = ratios(entries)
    base_name = "fastnet" if r else order[0]
    if not r:
        base = median(entries[order[0]])
        r = {n: median(b) / base for n, b in entries.items()}
    first = entries[order[0]]
    extra = first.get("extra_info") or {}
    unit = "per step" if "steps_per_round" in extra else "per call"
    lines = [f"### {group}", ""]
    if "workload" in extra:
        lines += [f"{extra['workload']}; times {unit}.", ""]
    lines += [f"| contender | median | IQR | min | rounds | ÷ {base_name} |", "|---|---|---|---|---|---|"]
    for name in order:
        s = entries[name]["stats"]
        lines.append(f"| {name} | {fmt_time(s['median'])} | {fmt_time(s['iqr'])} | {fmt_time(s['min'])} | "
                     f"{s['rounds']} | {r[name]:.2f} |")
    return [*lines, ""]


def markdown(data: dict[str, Any], plots: list[str] | None = None) -> str:
    info = (data.get("machine_info") or {}).get("fastnet_bench", {})
    groups = by_group(data)
    lines = ["# fastnet benchmarks", ""]
    if info.get("smoke"):
        lines += ["**Smoke run** (tiny data, one round each): the numbers below mean nothing.", ""]
    lines += ["Same data, dtype, initial weights and thread count for every contender; warm-up excluded; "
              "training times are whole epochs divided by their steps. Produced by `python bench/report.py`.", ""]
    lines += machine_section(info) + summary_section(groups) + targets_section(groups)
    lines += ["## All groups", ""]
    for group, entries in groups.items():
        lines += group_section(group, entries)
    for path in plots or []:
        lines += [f"![{path}]({path})", ""]
    return "\n".join(lines)
