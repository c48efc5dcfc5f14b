"""Benchmark: ``permaudit batch`` at ``--jobs 1``/``2``, on a Dask cluster, and its peers, paired.

Copies ``$PERMAUDIT_CORPUS/apk`` ``--copies`` times into a temporary directory (hard
links; 10 copies of the 109 files are the issue's 1,080 and more), then runs every setting in
a fresh process, taking turns within each round (the order rotates from round to round):

- ``jobs1``, ``jobs2``: ``permaudit batch --jobs N`` (manifest, signing, code);
- ``jobs1-nocode``, ``jobs2-nocode``: the same with ``--no-code`` (the peers' workload);
- ``dask2``: ``permaudit batch --scheduler`` to a 2-worker ``LocalCluster`` (processes)
  started once before the rounds, as a user's cluster would be (needs ``permaudit[dask]``);
- ``aapt``: a shell loop of ``aapt dump permissions`` (Debian's aapt; skipped if missing);
- ``androguard``: androguard's ``APK`` in one process, permissions of every file;
- ``loop1``, ``loop2``: the machine's ceiling for two processes (``LOOP``).

Reports the median wall time, the peak RSS (GNU time's ``%M``, ``os.wait4`` without it:
the largest of the process and its waited-for children, so with ``--jobs 2`` the largest
worker or the parent; Dask workers are not children and are not counted) and the figures
to quote: per-round ratios against ``jobs2`` (median and range), and the projected cost of
1M APKs of this corpus's size per core-hour from the ``jobs1`` time. Run by hand from an
installed package: ``.venv/bin/python bench/bench_batch.py --copies 10 --rounds 3``; the
children run outside the checkout, so they import the installed package (a wheel:
``bench/_trees.py HEAD`` prints a venv holding one).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _trees

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("PERMAUDIT_CORPUS", REPO.parent / "shared" / "corpus"))

ANDROGUARD_LOOP = """
import sys, logging
from loguru import logger
logger.remove()
from androguard.core.apk import APK
for path in sys.argv[1:]:
    try:
        APK(path).get_permissions()
    except Exception:
        pass
"""


#: Where the children run: not the checkout, whose ``permaudit/`` would shadow the
#: installed package for ``python -m`` (which puts the working directory on the path).
RUN_DIR = tempfile.gettempdir()


def run_once(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run of ``argv``."""
    with tempfile.TemporaryFile() as errors, tempfile.TemporaryDirectory() as scratch:
        rss_file = Path(scratch, "peak-rss.txt")
        start = time.perf_counter()
        process = subprocess.Popen(_trees.timed(argv, rss_file), stdout=subprocess.DEVNULL,
                                   stderr=errors, cwd=RUN_DIR)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) not in (0, 2):
            errors.seek(0)
            tail = errors.read().decode(errors="replace").strip().splitlines()[-1:]
            raise SystemExit(f"{argv} failed with status {status}: {''.join(tail)}")
        # GNU time's figure: os.wait4 on a child forked from this process counts the pages
        # it copied from this one (with the LocalCluster's client, ~54 MiB).
        return wall, _trees.peak_mib(rss_file, usage.ru_maxrss)


def installed_from() -> str:
    """The ``permaudit`` package the children import (to print with the figures)."""
    return subprocess.run(
        [sys.executable, "-c", "import permaudit; print(permaudit.__file__)"],
        capture_output=True, text=True, check=True, cwd=RUN_DIR,
    ).stdout.strip()


@contextlib.contextmanager
def local_cluster() -> Iterator[str | None]:
    """The address of a 2-worker LocalCluster, or None without dask.distributed."""
    if importlib.util.find_spec("dask") is None or importlib.util.find_spec("distributed") is None:
        yield None
        return
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        yield str(cluster.scheduler_address)


#: The machine's own ceiling: one unit of pure-Python work (about 1.5 s here), run twice
#: one after the other (``loop1``) or twice at once (``loop2``). ``loop1/loop2`` is what a
#: perfectly divisible CPU-bound job gains from two processes on this machine.
LOOP = "sum(i * i for i in range(3 * 10**7))"


def ceiling_settings() -> dict[str, list[str]]:
    """``loop1`` and ``loop2`` (see ``LOOP``)."""
    one = f"{sys.executable} -c '{LOOP}'"
    return {"loop1": ["sh", "-c", f"{one}; {one}"], "loop2": ["sh", "-c", f"{one} & {one}; wait"]}


def settings_for(inputs: Path, files: list[Path], work: Path,
                 scheduler: str | None) -> dict[str, list[str]]:
    """The command of each setting (those whose tools are missing left out)."""
    batch = [sys.executable, "-m", "permaudit", "batch", str(inputs), "--no-progress"]
    settings = {
        "jobs1": [*batch, "--jobs", "1", "-o", str(work / "jobs1.jsonl")],
        "jobs2": [*batch, "--jobs", "2", "-o", str(work / "jobs2.jsonl")],
        # manifest, resources and signing only: the workload aapt and androguard do here
        "jobs1-nocode": [*batch, "--no-code", "--jobs", "1", "-o", str(work / "n1.jsonl")],
        "jobs2-nocode": [*batch, "--no-code", "--jobs", "2", "-o", str(work / "n2.jsonl")],
    }
    if scheduler is not None:
        settings["dask2"] = [*batch, "--scheduler", scheduler, "-o", str(work / "dask2.jsonl")]
    if shutil.which("aapt"):
        settings["aapt"] = ["sh", "-c", 'for f in "$@"; do aapt dump permissions "$f"; done',
                            "aapt-loop", *map(str, files)]
    if importlib.util.find_spec("androguard") is not None:
        settings["androguard"] = [sys.executable, "-c", ANDROGUARD_LOOP, *map(str, files)]
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--copies", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="settings to run (default: all available)")
    args = parser.parse_args()
    # Every file of the corpus's apk/ (its .jar files too, and the lone config split that
    # is scanned on its own): 109 files, 1,090 with --copies 10.
    source = sorted(p for p in (CORPUS / "apk").iterdir() if p.is_file())
    if not source:
        raise SystemExit(f"no corpus APKs in {CORPUS / 'apk'}")
    with tempfile.TemporaryDirectory() as tmp, local_cluster() as scheduler:
        work = Path(tmp)
        inputs = work / "in"
        inputs.mkdir()
        files = []
        for copy in range(args.copies):
            for apk in source:
                files.append(inputs / f"{copy}-{apk.name}")
                os.link(apk, files[-1])
        settings = {**settings_for(inputs, files, work, scheduler), **ceiling_settings()}
        if args.only:
            settings = {name: argv for name, argv in settings.items() if name in args.only}
        names = list(settings)
        times: dict[str, list[float]] = {name: [] for name in names}
        rss: dict[str, list[float]] = {name: [] for name in names}
        for number in range(args.rounds):
            shift = number % len(names)
            for name in names[shift:] + names[:shift]:
                wall, peak = run_once(settings[name])
                times[name].append(wall)
                rss[name].append(peak)
        report(times, rss, len(files), args.rounds)


def report(times: dict[str, list[float]], rss: dict[str, list[float]],
           count: int, rounds: int) -> None:
    """Print medians, peaks, paired ratios against jobs2 and the 1M-APK projection."""
    print(f"{count} APKs, {rounds} rounds, {os.cpu_count()} CPUs, load {os.getloadavg()}, "
          f"permaudit from {installed_from()}")
    for name, walls in times.items():
        median = statistics.median(walls)
        print(f"{name:>10}: median {median:7.2f} s ({count / median:6.0f} APKs/s), "
              f"peak RSS {max(rss[name]):6.1f} MiB")
    if "jobs2" in times:
        for name, walls in times.items():
            if name in ("jobs2", "loop1", "loop2"):
                continue
            ratios = [mine / two for mine, two in zip(walls, times["jobs2"], strict=True)]
            print(f"{name}/jobs2: median {statistics.median(ratios):.2f}x "
                  f"(range {min(ratios):.2f}-{max(ratios):.2f})")
    if "jobs2-nocode" in times:
        for name in ("jobs1-nocode", "aapt", "androguard"):
            if name in times:
                ratios = [mine / two for mine, two
                          in zip(times[name], times["jobs2-nocode"], strict=True)]
                print(f"{name}/jobs2-nocode: median {statistics.median(ratios):.2f}x "
                      f"(range {min(ratios):.2f}-{max(ratios):.2f})")
    if "loop1" in times and "loop2" in times:
        ratios = [one / two for one, two in zip(times["loop1"], times["loop2"], strict=True)]
        print(f"loop1/loop2 (this machine's ceiling for two processes): median "
              f"{statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f})")
    if "jobs1" in times:
        per_apk = statistics.median(times["jobs1"]) / count
        print(f"projected: 1M APKs of this corpus's size = {per_apk * 1e6 / 3600:.1f} core-hours "
              f"({3600 / per_apk:.0f} APKs per core-hour)")


if __name__ == "__main__":
    main()
