"""Benchmark: what reading resources adds to a scan of the 150 MB benchmark APK.

Paired and interleaved, on the installed package (``bench_scan.install_wheel``): each
round runs ``permaudit scan`` twice in fresh processes, once as shipped ("on") and once
with a bench-only switch that skips the resource table ("off": ``apk._table`` returns no
table and manifest references are left as they are, so no resources.arsc is read and no
res/xml file is looked up), in alternating order. Reports the median per-round difference
on - off (the figure to quote, with its range), both medians, and peak resident memory
of the "on" runs. Whole scans are noisy on a shared machine, so it also times
``read_apk`` in one process (resources on/off alternating, many pairs) and takes the
tracemalloc peak of reading the table and resolving the manifest.
Run by hand: ``.venv/bin/python bench/bench_resources.py --rounds 9``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_scan import install_wheel, make_apk, run_once

#: The child: "off" switches resources off inside the installed package, then scans.
CHILD = """
import sys
from permaudit.inputs import apk
if sys.argv[1] == "off":
    apk._table = lambda stream, directory: None
    apk.resolve_manifest_tree = lambda root, table, locale=None: root
from permaudit.cli import main
sys.exit(main(["scan", sys.argv[2]]))
"""


#: The in-process child: ``read_apk`` (manifest, resources, res/xml; no signing, no code)
#: with resources on and off in alternating order, ``rounds`` pairs; then the
#: tracemalloc peak of reading and resolving the table alone.
IN_PROCESS = """
import statistics, sys, time, tracemalloc
from permaudit.inputs import apk
from permaudit.inputs.binary.ziparchive import read_directory
path, rounds = sys.argv[1], int(sys.argv[2])
table, resolve_tree = apk._table, apk.resolve_manifest_tree
def once(on):
    apk._table = table if on else (lambda stream, directory: None)
    apk.resolve_manifest_tree = resolve_tree if on else (lambda root, t, locale=None: root)
    with open(path, "rb") as stream:
        size = stream.seek(0, 2)
        start = time.perf_counter()
        contents = apk.read_apk(stream, size, signing=False)
        return time.perf_counter() - start, contents
deltas = []
for i in range(rounds):
    first = i % 2 == 0
    a, _ = once(first)
    b, _ = once(not first)
    on, off = (a, b) if first else (b, a)
    deltas.append(1000 * (on - off))
_, contents = once(True)
with open(path, "rb") as stream:
    size = stream.seek(0, 2)
    directory = read_directory(stream, size, names=("resources.arsc",))
    tracemalloc.start()
    resources = table(stream, directory)
    apk.resolve_manifest_tree(contents.root, resources)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
deltas.sort()
print(f"in-process read_apk, {rounds} pairs: resources add median "
      f"{statistics.median(deltas):+.2f} ms (range {deltas[0]:+.2f} .. {deltas[-1]:+.2f})")
print(f"resources.arsc read + references resolved: tracemalloc peak {peak:.1f} MiB")
"""


def main(argv: list[str] | None = None) -> int:
    """Build/install once, then measure ``--rounds`` paired rounds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--size-mb", type=int, default=150)
    parser.add_argument("--entries", type=int, default=8000)
    args = parser.parse_args(argv)
    python = str(install_wheel() / "python")
    apk = str(make_apk(args.size_mb, args.entries))
    commands = {mode: [python, "-c", CHILD, mode, apk] for mode in ("on", "off")}
    for command in commands.values():
        run_once(command)  # warm-up: page cache and byte-code caches
    on: list[float] = []
    off: list[float] = []
    rss: list[float] = []
    for index in range(args.rounds):
        order = ("on", "off") if index % 2 == 0 else ("off", "on")
        for mode in order:
            wall, peak = run_once(commands[mode])
            (on if mode == "on" else off).append(wall)
            if mode == "on":
                rss.append(peak)
    deltas = sorted(1000 * (a - b) for a, b in zip(on, off, strict=True))
    load = os.getloadavg()
    print(f"APK: {apk} ({os.path.getsize(apk) / 2**20:.0f} MiB), {args.rounds} paired rounds, "
          f"load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"scan with resources:    median {1000 * statistics.median(on):.0f} ms")
    print(f"scan without resources: median {1000 * statistics.median(off):.0f} ms")
    print(f"resources add: median {statistics.median(deltas):+.1f} ms per scan "
          f"(paired, range {deltas[0]:+.1f} .. {deltas[-1]:+.1f} ms)")
    print(f"peak RSS with resources: median {statistics.median(rss):.1f} MiB, max {max(rss):.1f}")
    sys.stdout.flush()
    subprocess.run([python, "-c", IN_PROCESS, apk, str(10 * args.rounds)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
