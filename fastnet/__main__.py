"""Command line: ``python -m fastnet demo`` (and ``python -m fastnet --help``)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastnet", description="fastnet: dense networks on the CPU.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="train on the handwritten digits and report accuracy and time")
    demo.add_argument(
        "--backend",
        choices=("fastnet", "reference"),
        default="fastnet",
        help="compiled fastnet (default) or the NumPy reference",
    )
    demo.add_argument("--epochs", type=int, default=60, help="epochs of fastnet's recipe (default 60)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    bench = commands.add_parser(
        "bench", help="run bench/ against NumPy, PyTorch, JAX, scikit-learn and write bench/results/report.md"
    )
    bench.add_argument("args", nargs=argparse.REMAINDER, help="--smoke, --out DIR, or pytest options")
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"] and "-h" not in argv[1:2] and "--help" not in argv[1:2]:
        # everything after "bench" is the suite's (argparse would take a leading --option as its own)
        from fastnet.bench import main as bench_main

        return bench_main(argv[1:])
    args = parser.parse_args(argv)
    if args.command == "demo":
        from fastnet.demo import run

        run(args.backend, epochs=args.epochs, verbose=0 if args.quiet else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
