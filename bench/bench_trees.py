"""Benchmark: two revisions of permaudit on the same inputs, in paired, interleaved rounds.

Both revisions are installed from wheels into their own venvs (``bench/_trees.py``:
byte-compiled, not editable, cached by commit). Each round runs every workload once with
each revision, the order alternating from round to round, in fresh processes; the
figures are each child's wall time and peak RSS (GNU time's ``%M`` where installed, else
``os.wait4`` rusage). The figure to
quote is the **paired ratio** after/before within a round, as its median and range over
the rounds: a slow spell of a shared machine weighs on both sides of a pair alike.
androguard's ``APK(path).get_permissions()`` runs in the same rounds on the big APK, for
issue 9's goal: ``scan --no-code`` of a 150 MB APK at most 1/4 of androguard's wall time
and under 40 MiB peak. Prints a Markdown table. Run by hand: ``make bench-trees``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _trees
from bench_scan import CORPUS, make_apk

REPO = _trees.REPO
MESSENGERS = [REPO / "fixtures" / "apk" / f"{name}.apk"
              for name in ("max-25.8.1", "whatsapp-2.24.24.78", "telegram-11.13.0")]


@dataclass(frozen=True, slots=True)
class Sample:
    """One child process: wall seconds, peak RSS in MiB, exit code."""

    wall: float
    rss: float
    code: int


def run_once(argv: list[str], *, cwd: str = "/") -> Sample:
    """Run ``argv`` once with stdout discarded; measure that child alone."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a full pipe blocks
        rss_file = Path(tempfile.gettempdir(), f"permaudit-rss-{os.getpid()}")
        start = time.perf_counter()
        proc = subprocess.Popen(_trees.timed(argv, rss_file), stdout=subprocess.DEVNULL,
                                stderr=errors, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip()[-300:]
            raise SystemExit(f"{argv[:3]} exited {code}: {tail}")
    return Sample(wall, _trees.peak_mib(rss_file, usage.ru_maxrss), code)


@dataclass(frozen=True, slots=True)
class Workload:
    """One row: a name and the argv for a tree (``has_no_code``: its scan knows --no-code)."""

    name: str
    argv: Callable[[_trees.Tree, bool], list[str]]


def has_no_code(tree: _trees.Tree) -> bool:
    """Whether this revision's ``scan`` has ``--no-code`` (before the DEX reader it had not,
    and its plain scan is the manifest-only workload)."""
    return _trees.has_option(tree, "scan", "--no-code")


def corpus_inputs(tree: _trees.Tree) -> list[str]:
    """The corpus APKs that ``tree`` scans together: an input it refuses is left out."""
    inputs = sorted(str(p) for p in (CORPUS / "apk").glob("*.apk"))
    for _ in range(len(inputs)):
        result = subprocess.run([tree.permaudit, "scan", "-f", "json", *inputs],
                                capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return inputs
        refused = [i for i in inputs if f"error: {i}:" in result.stderr]
        if not refused:
            raise SystemExit(f"corpus scan failed: {result.stderr[-300:]}")
        inputs = [i for i in inputs if i not in refused]
    raise SystemExit("no corpus input is scanned")


def workloads(big: Path, corpus: list[str]) -> list[Workload]:
    """The rows: big APK manifest-only and full, the messenger compare, a corpus batch."""

    def no_code(tree: _trees.Tree, flag: bool) -> list[str]:
        return ["--no-code"] if flag else []

    return [
        Workload("scan --no-code, 150 MB APK",
                 lambda t, f: [t.permaudit, "scan", "-f", "json", *no_code(t, f), str(big)]),
        Workload("scan (full), 150 MB APK",
                 lambda t, f: [t.permaudit, "scan", "-f", "json", str(big)]),
        Workload("compare of the 3 messenger fixtures",
                 lambda t, f: [t.permaudit, "compare", *map(str, MESSENGERS)]),
        Workload(f"scan --no-code of {len(corpus)} corpus APKs",
                 lambda t, f: [t.permaudit, "scan", "-f", "json", *no_code(t, f), *corpus]),
    ]


ANDROGUARD = ("import sys; from androguard.core.apk import APK; "
              "APK(sys.argv[1]).get_permissions()")


def ratio_cell(ratios: list[float]) -> str:
    """``median (min-max)`` of per-round ratios."""
    ratios = sorted(ratios)
    return f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"


def bench(before: _trees.Tree, after: _trees.Tree, rounds: int, only: str | None) -> str:
    """Run the rounds and return the Markdown report."""
    big = make_apk(150, 8000)
    corpus = corpus_inputs(before)
    flags = {before.commit: has_no_code(before), after.commit: has_no_code(after)}
    rows = [w for w in workloads(big, corpus) if only is None or re.search(only, w.name)]
    androguard = [sys.executable, "-c", ANDROGUARD, str(big)]
    samples: dict[tuple[str, str], list[Sample]] = {}
    guard: list[Sample] = []
    for index in range(rounds + 1):  # round 0 warms the caches and is dropped
        pair = (before, after) if index % 2 else (after, before)
        for work in rows:
            for tree in pair:
                sample = run_once(work.argv(tree, flags[tree.commit]))
                if index:
                    samples.setdefault((work.name, tree.commit), []).append(sample)
        sample = run_once(androguard)
        if index:
            guard.append(sample)
    lines = [
        f"before {before.label}, after {after.label}; {rounds} paired rounds (order "
        "alternating, one warm-up dropped); wall seconds and peak RSS MiB of each child; "
        "ratio = after / before within a round, median (range).",
        "",
        "| workload | before s | after s | after/before wall | before MiB | after MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for work in rows:
        old, new = samples[(work.name, before.commit)], samples[(work.name, after.commit)]
        lines.append(
            f"| {work.name} | {statistics.median(s.wall for s in old):.2f} | "
            f"{statistics.median(s.wall for s in new):.2f} | "
            f"{ratio_cell([n.wall / o.wall for o, n in zip(old, new, strict=True)])} | "
            f"{max(s.rss for s in old):.1f} | {max(s.rss for s in new):.1f} |"
        )
    big_rows = [w.name for w in rows if w.name.startswith("scan --no-code, 150")]
    if big_rows:
        mine = samples[(big_rows[0], after.commit)]
        theirs = samples[(big_rows[0], before.commit)]
        lines += [
            "",
            "Issue 9's goal, same rounds: androguard `APK(path).get_permissions()` on the "
            f"150 MB APK took {statistics.median(s.wall for s in guard):.2f} s median, "
            f"peak {max(s.rss for s in guard):.1f} MiB.",
            "",
            "| tree | scan --no-code / androguard wall | goal | peak MiB | goal |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for tree, own in ((before, theirs), (after, mine)):
            ratios = [m.wall / g.wall for m, g in zip(own, guard, strict=True)]
            lines.append(
                f"| {tree.label} | {ratio_cell(ratios)} | "
                f"{'met' if statistics.median(ratios) <= 0.25 else 'missed'} (<= 0.25) | "
                f"{max(s.rss for s in own):.1f} | "
                f"{'met' if max(s.rss for s in own) < 40 else 'missed'} (< 40) |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parse options, install both revisions, print the report (and write it with ``-o``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="9914075", help="git revision (default: the "
                        "tree before issue 9)")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="regular expression: run only matching workloads")
    parser.add_argument("-o", "--output", type=Path)
    args = parser.parse_args()
    before, after = _trees.install(args.before), _trees.install(args.after)
    load = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = bench(before, after, args.rounds, args.only)
    finished = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    report = (f"Run {started}; `uptime` before: {load.stdout.strip()}; after: "
              f"{finished.stdout.strip()}; {os.cpu_count()} cores.\n\n{report}")
    print(report, end="")
    if args.output:
        args.output.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
