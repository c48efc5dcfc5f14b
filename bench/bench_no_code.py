"""Time ``permaudit scan`` of each messenger fixture with and without ``--no-code``, paired.

Each round runs both commands on the same fixture as separate processes, alternating which
goes first, with the installed ``permaudit`` (``--permaudit PATH``, default the one on PATH),
and prints per-fixture medians and the median of the paired differences. Keep runs short
(2 cores shared). Usage: ``python bench/bench_no_code.py [--rounds N] [--permaudit PATH]``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = sorted((REPO / "fixtures" / "apk").glob("*.apk"))


def timed(command: list[str]) -> float:
    """Wall seconds of one run; the run must succeed."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Run the paired rounds and print a table; returns an exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--permaudit", default=shutil.which("permaudit") or "permaudit")
    args = parser.parse_args(argv)
    print(f"{'fixture':<26} {'code ms':>8} {'no-code ms':>10} {'paired diff ms':>15}")
    for apk in FIXTURES:
        code, plain = [], []
        for index in range(args.rounds):
            with_code = [args.permaudit, "scan", str(apk)]
            without = [args.permaudit, "scan", "--no-code", str(apk)]
            if index % 2:
                plain.append(timed(without))
                code.append(timed(with_code))
            else:
                code.append(timed(with_code))
                plain.append(timed(without))
        diffs = [1000 * (c - p) for c, p in zip(code, plain, strict=True)]
        print(
            f"{apk.stem:<26} {1000 * statistics.median(code):>8.0f} "
            f"{1000 * statistics.median(plain):>10.0f} {statistics.median(diffs):>+15.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
