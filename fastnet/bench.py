"""``python -m fastnet bench``: run the benchmark suite of a source checkout and write its report.

The suite lives in the repository's ``bench/`` folder (not in the installed package): this finds it
next to the ``fastnet`` package that is running, i.e. in an editable install or a build in place,
and runs ``bench/report.py`` in this process. Arguments go to it (``--smoke``, ``--out DIR``, and
any pytest option such as ``-k digits``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def bench_dir() -> Path | None:
    """The checkout's ``bench/`` folder, or None when fastnet runs from an installed copy."""
    folder = Path(__file__).resolve().parent.parent / "bench"
    return folder if (folder / "report.py").is_file() else None


def main(argv: list[str] | None = None) -> int:
    folder = bench_dir()
    if folder is None:
        print("fastnet bench: the benchmark suite ships with the source, not the package; from a clone run\n"
              '  pip install -e ".[bench]" && python -m fastnet bench', file=sys.stderr)
        return 2
    spec = importlib.util.spec_from_file_location("fastnet_bench_report", folder / "report.py")
    assert spec is not None and spec.loader is not None
    report = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(report)
    return int(report.main(argv))


if __name__ == "__main__":
    sys.exit(main())
