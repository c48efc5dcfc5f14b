"""Benchmark permaudit's full scan against exodus-core's tracker detection, paired (issue 11).

Two sides, each one fresh child process per round, in interleaved rounds (the order
alternating; round 0 warms the page cache and is not counted):

* ``permaudit``: ``permaudit scan --format json`` (manifest, resources and code) of a
  revision installed from its wheel into its own venv (``bench/_trees.py``, default
  ``HEAD``: commit first), the code matched against the whole tracker table;
* ``exodus-core``: ``tools/exodus_trackers.py`` run by ``--exodus-python`` (a venv of its own
  with exodus-core): ``StaticAnalysis.detect_trackers()`` fed the local snapshot, which
  extracts every ``classes*.dex``, runs dexdump over it, collects class names with a regex
  over dexdump's text and searches each of the 432 signatures as a regex in them. androguard's
  parse of the APK (``StaticAnalysis(apk_path)``) is left out: detection does not need it.

Workloads: the big APK of ``bench_code_scan.py`` (~150 MB, 11 real DEX, 76 MB of DEX; built
once in ``bench/out``), and with ``--corpus`` every file of the corpus's ``apk/`` directory in
one child each (permaudit scans the directory with ``--keep-going``).

Per round: wall time, CPU time (user + system, dexdump children included) and peak RSS of
the largest process of the child's tree (``os.wait4``), and the ratio exodus/permaudit of the
wall times; then the median ratio and its range, and the same for CPU time (steadier than
wall time on a shared machine). exodus-core's own detection time (after
its imports) is shown too. Last, the trackers both found on each input, and any difference:
permaudit's supplement trackers (``source`` ``permaudit-supplement``) are Exodus's unknowns
and are listed apart. Usage::

    python bench/bench_exodus.py --exodus-python ../exodus-venv/bin/python [--rounds N]
        [--rev REV] [--snapshot TRACKERS_JSON] [--corpus]

Report the machine load (``uptime``) with the figures (``make bench-exodus``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _trees
from bench_code_scan import CORPUS, big_apk

REPO = _trees.REPO
TOOL = REPO / "tools" / "exodus_trackers.py"
SNAPSHOT = CORPUS.parent / "data" / "exodus" / "trackers.json"


@dataclass(frozen=True, slots=True)
class Run:
    """One child: wall and CPU seconds, peak RSS (MiB) and its stdout."""

    wall: float
    cpu: float
    rss: float
    out: str


def run(argv: list[str]) -> Run:
    """Run ``argv`` with stdout captured to a file; its rusage from ``os.wait4``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out_path = REPO / "bench" / "out" / f"exodus-bench-{os.getpid()}.out"
    with open(out_path, "w+b") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode()
    out_path.unlink()
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{argv[:3]} failed with {os.waitstatus_to_exitcode(status)}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text)


def paired(name: str, ours: list[str], theirs: list[str], rounds: int) -> tuple[Run, Run]:
    """Interleaved rounds; prints each round and the median ratio; the last runs' output."""
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    rows: list[tuple[Run, Run]] = []
    last: dict[str, Run] = {}
    for round_ in range(rounds + 1):
        order = (("permaudit", ours), ("exodus", theirs))
        for label, argv in order if round_ % 2 else order[::-1]:
            last[label] = run(argv)
        if not round_:
            continue
        a, b = last["permaudit"], last["exodus"]
        inner = json.loads(b.out).get("seconds", float("nan"))
        ratios.append(b.wall / a.wall)
        cpu_ratios.append(b.cpu / a.cpu)
        rows.append((a, b))
        print(f"{name} round {round_}: permaudit {a.wall:.2f} s (cpu {a.cpu:.2f} s) "
              f"{a.rss:.0f} MiB; exodus-core {b.wall:.2f} s (cpu {b.cpu:.2f} s, detection "
              f"{inner:.2f} s) {b.rss:.0f} MiB; {ratios[-1]:.1f}x", flush=True)
    print(f"{name}: median exodus/permaudit {statistics.median(ratios):.1f}x "
          f"(range {min(ratios):.1f}-{max(ratios):.1f}), CPU time "
          f"{statistics.median(cpu_ratios):.1f}x ({min(cpu_ratios):.1f}-{max(cpu_ratios):.1f});"
          f" median permaudit "
          f"{statistics.median(r[0].wall for r in rows):.2f} s "
          f"{statistics.median(r[0].rss for r in rows):.0f} MiB, exodus-core "
          f"{statistics.median(r[1].wall for r in rows):.2f} s "
          f"{statistics.median(r[1].rss for r in rows):.0f} MiB")
    return last["permaudit"], last["exodus"]


def agreement(ours: Run, theirs: Run) -> None:
    """Print the trackers each side found per input, and every difference."""
    exodus = {Path(path).name: {t["name"] for t in entry.get("trackers", ())}
              for path, entry in json.loads(theirs.out)["apps"].items()}
    report = json.loads(ours.out)
    same = True
    for app in report["apps"]:
        name = Path(app["input"]["path"]).name
        hits = (app.get("code") or {}).get("trackers") or []
        mine = {t["name"] for t in hits if t["source"] != "permaudit-supplement"}
        extra = sorted(t["name"] for t in hits if t["source"] == "permaudit-supplement")
        found = exodus.pop(name, set())
        if mine or found or extra:
            print(f"  {name}: both {sorted(mine & found)}"
                  + (f"; supplement only (not in Exodus) {extra}" if extra else ""))
        if mine != found:
            same = False
            print(f"  {name}: DIFFERENCE permaudit only {sorted(mine - found)}, "
                  f"exodus-core only {sorted(found - mine)}")
    for name, found in exodus.items():
        if found:
            same = False
            print(f"  {name}: DIFFERENCE not in permaudit's report; exodus-core {sorted(found)}")
    print("  trackers: " + ("the same on every input" if same else "DIFFER (above)"))


def main() -> int:
    """Parse the options, run both workloads and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--exodus-python", required=True,
                        help="interpreter of a venv with exodus-core (never the project's)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rev", default="HEAD", help="permaudit revision to install")
    parser.add_argument("--snapshot", type=Path, default=SNAPSHOT)
    parser.add_argument("--corpus", action="store_true", help="also the corpus's apk/ files")
    args = parser.parse_args()
    tree = _trees.install(args.rev)
    apk = big_apk()
    print(f"permaudit {tree.label} ({tree.root / 'venv'}); exodus-core via {args.exodus_python}")
    print(f"{apk.name}: {apk.stat().st_size / 1e6:.0f} MB; load {os.getloadavg()}")
    exodus = [args.exodus_python, str(TOOL), "--snapshot", str(args.snapshot), "--time"]
    scan = [tree.permaudit, "scan", "--format", "json"]
    ours, theirs = paired("big APK", [*scan, str(apk)], [*exodus, str(apk)], args.rounds)
    agreement(ours, theirs)
    if args.corpus:
        files = sorted(p for p in (CORPUS / "apk").iterdir() if p.is_file())
        print(f"corpus apk/: {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.0f}"
              f" MB; load {os.getloadavg()}")
        ours, theirs = paired("corpus apk/", [*scan, "--keep-going", str(CORPUS / "apk")],
                              [*exodus, *map(str, files)], args.rounds)
        agreement(ours, theirs)
    print(f"load after {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
