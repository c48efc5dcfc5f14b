"""Benchmark: ``permaudit batch --jobs 1`` vs ``--jobs 2`` on the corpus APKs, paired.

Copies ``$PERMAUDIT_CORPUS/apk`` ``--copies`` times into a temporary directory (hard
links), then runs the two settings in fresh processes, taking turns within each round
(the order alternates from round to round), and reports the median wall time, the peak
RSS of the parent (``os.wait4`` rusage: the largest of the process and its waited-for
children, so with --jobs 2 it is the largest worker or the parent) and the figure to
quote: the per-round ratio jobs1/jobs2 (median and range). Short by default (3 rounds,
2 copies); run by hand: ``.venv/bin/python bench/bench_batch.py``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("PERMAUDIT_CORPUS", REPO.parent / "shared" / "corpus"))


def run_once(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run of ``argv``."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 2):
        raise SystemExit(f"{argv} failed with status {status}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=2)
    args = parser.parse_args()
    source = sorted((CORPUS / "apk").glob("*.apk"))
    if not source:
        raise SystemExit(f"no corpus APKs in {CORPUS / 'apk'}")
    with tempfile.TemporaryDirectory() as work:
        inputs = Path(work) / "in"
        inputs.mkdir()
        for copy in range(args.copies):
            for apk in source:
                os.link(apk, inputs / f"{copy}-{apk.name}")
        count = len(source) * args.copies
        exe = [sys.executable, "-m", "permaudit", "batch", str(inputs), "--no-progress"]
        settings = {"jobs1": ["--jobs", "1"], "jobs2": ["--jobs", "2"]}
        times: dict[str, list[float]] = {name: [] for name in settings}
        rss: dict[str, list[float]] = {name: [] for name in settings}
        for number in range(args.rounds):
            order = list(settings) if number % 2 == 0 else list(reversed(settings))
            for name in order:
                out = Path(work) / f"{name}.jsonl"
                wall, peak = run_once([*exe, *settings[name], "-o", str(out)])
                times[name].append(wall)
                rss[name].append(peak)
        ratios = [one / two for one, two in zip(times["jobs1"], times["jobs2"], strict=True)]
        print(f"{count} APKs, {args.rounds} rounds, {os.cpu_count()} CPUs")
        for name in settings:
            median = statistics.median(times[name])
            print(
                f"{name}: median {median:.2f} s ({count / median:.0f} APKs/s), "
                f"peak RSS {max(rss[name]):.1f} MiB"
            )
        print(
            f"speed-up jobs1/jobs2: median {statistics.median(ratios):.2f}x "
            f"(range {min(ratios):.2f}-{max(ratios):.2f})"
        )


if __name__ == "__main__":
    main()
