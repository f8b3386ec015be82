"""One command for the whole comparison: run every benchmark in bench/ in this process, then write
``bench/results/report.md`` (machine, summary ratios, targets, one table per group) and the PNG plots.

    python bench/report.py              # full run, several minutes; the numbers to publish
    python bench/report.py --smoke      # tiny data, one round each: checks the pipeline (numbers meaningless)
    python bench/report.py -k digits    # any other argument goes to pytest
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
FULL_OPTIONS = ["--benchmark-min-rounds=7", "--benchmark-max-time=2.0"]
SMOKE_OPTIONS = ["--benchmark-min-rounds=1", "--benchmark-max-time=0", "--benchmark-warmup=off"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/report.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny data and one round per benchmark")
    parser.add_argument("--out", type=Path, default=BENCH / "results", help="output folder (bench/results)")
    args, pytest_args = parser.parse_known_args(argv)
    if args.smoke:
        os.environ["FASTNET_BENCH_SMOKE"] = "1"  # read when the workloads module is first imported
    args.out.mkdir(parents=True, exist_ok=True)
    json_path = args.out / "benchmarks.json"
    json_path.unlink(missing_ok=True)

    import pytest

    code = pytest.main([
        str(BENCH), f"--benchmark-json={json_path}", "-p", "no:cacheprovider",
        "--benchmark-columns=median,iqr,min,rounds", "--benchmark-sort=fullname",
        *(SMOKE_OPTIONS if args.smoke else FULL_OPTIONS), *pytest_args,
    ])
    if not json_path.exists():
        print(f"bench/report.py: pytest wrote no results (exit code {int(code)})", file=sys.stderr)
        return int(code) or 1

    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    from report_format import markdown
    from report_plot import plots

    data = json.loads(json_path.read_text())
    images = plots(data, args.out)
    (args.out / "report.md").write_text(markdown(data, images))
    print(f"wrote {args.out / 'report.md'}" + "".join(f", {args.out / name}" for name in images))
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
