"""Benchmark: the cost of reading resources, against androguard's ARSCParser on the same tables.

What is timed is the resource step alone, not a whole scan (whole-scan pairs on this shared
2-core machine differed by more than the step costs, see docs/performance.md): in a fresh
process of the installed package (``bench_scan.install_wheel``), after the zip directory
and the manifest are read (a scan does that with or without resources), the step is what
``apk.read_apk`` and ``apk.load`` do for resources: read ``resources.arsc`` (inflate, CRC)
and index it, resolve the manifest's references (label, flags, SDK levels), read and model
the network security config and backup rules, choose the launcher icon. The child times
each part with ``perf_counter`` and also the import of the resource modules (``arsc``,
``resources``, ``resource_xml``, ``netsec``, ``backup_rules``, ``icon``: imported after the
modules a scan needs anyway, so their own cost).

androguard's side, in its own fresh process: ``from androguard.core.axml import ARSCParser``
(import) and ``ARSCParser(data)`` (parse; it decodes the whole table eagerly) on the same
``resources.arsc`` bytes, read from the zip untimed.

Each round runs both children, in alternating order; the figure to quote is the per-round
ratio androguard / permaudit (parse over step, import over import), median and range, with
each side's medians and peak RSS (``os.wait4``). Two targets: the 150 MB benchmark APK
(``bench_scan.make_apk``: 13.7 MB ``resources.arsc``, mostly a padding chunk), the corpus APK
with the largest real table, and every APK of ``$PERMAUDIT_CORPUS/apk`` in one process per
round. A last, untimed child takes the tracemalloc peak of the step on
the big APK. Run by hand, keep it short on a shared machine:
``.venv/bin/python bench/bench_resources.py --rounds 15``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_scan import CORPUS, child_env, install_wheel, make_apk

#: permaudit's child: argv = [mode, path...]; mode "time" prints per-part milliseconds
#: summed over the paths as JSON, mode "memory" the tracemalloc peak (MiB) of the step.
PERMAUDIT_CHILD = r"""
import json, sys, time
mode, paths = sys.argv[1], sys.argv[2:]
clock = time.perf_counter
t0 = clock()
from permaudit.inputs.binary import axml, xmltree, ziparchive  # what a scan reads anyway
from permaudit.inputs import manifest as manifest_module
t1 = clock()
from permaudit.inputs.binary import arsc
from permaudit.inputs import backup_rules, icon, netsec, resource_xml, resources
t2 = clock()
from permaudit.inputs import apk
parts = dict.fromkeys(("table", "resolve", "res_xml", "icon"), 0.0)
tables = 0
def step(stream, size, root):
    global tables
    directory = ziparchive.read_directory(stream, size, names=(apk.MANIFEST_ENTRY,
                                                                apk.ARSC_ENTRY))
    a = clock()
    table = apk._table(stream, directory)
    b = clock()
    found = None if isinstance(table, str) else table
    tables += found is not None
    resolved = (resources.mark_unresolved(root, table) if isinstance(table, str)
                else resources.resolve_manifest_tree(root, table))
    c = clock()
    files = resource_xml.read_files(root, found, lambda names: apk._members(stream, directory,
                                                                             names))
    d = clock()
    parsed = manifest_module.parse_manifest(resolved, with_lines=False)  # not resources
    e = clock()
    resource_xml.model(parsed, files, found)
    f = clock()
    icon.read_icon(root, found, apk._icon_members(stream, directory))
    g = clock()
    parts["table"] += b - a
    parts["resolve"] += c - b
    parts["res_xml"] += (d - c) + (f - e)
    parts["icon"] += g - f
def prepare(stream, size):
    directory = ziparchive.read_directory(stream, size, names=(apk.MANIFEST_ENTRY,))
    entry = directory.entry(apk.MANIFEST_ENTRY)
    return apk._decode(ziparchive.read_member(stream, directory, entry).data,
                       encrypted=False).root
def run(path):
    with open(path, "rb") as stream:
        size = stream.seek(0, 2)
        try:
            root = prepare(stream, size)
        except Exception:
            return False  # not an APK whose manifest decodes: no resource step in a scan
        step(stream, size, root)
        return True
if mode == "memory":
    import tracemalloc
    for path in paths:
        with open(path, "rb") as stream:
            size = stream.seek(0, 2)
            root = prepare(stream, size)
            tracemalloc.start()
            step(stream, size, root)
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    print(json.dumps({"peak_mib": peak}))
    raise SystemExit(0)
read = sum(run(path) for path in paths)
print(json.dumps({"import_base": 1000 * (t1 - t0), "import_resources": 1000 * (t2 - t1),
                  "apks": read, "tables": tables,
                  **{name: 1000 * spent for name, spent in parts.items()}}))
"""

#: androguard's child: import, then parse each path's resources.arsc (read untimed).
ANDROGUARD_CHILD = r"""
import json, sys, time, zipfile
clock = time.perf_counter
t0 = clock()
from androguard.core.axml import ARSCParser
t1 = clock()
try:  # androguard logs through loguru: silence it, as a library user would
    from loguru import logger
    logger.remove()
except ImportError:
    pass
parse = 0.0
tables = failed = 0
for path in sys.argv[1:]:
    try:
        with zipfile.ZipFile(path) as archive:
            data = archive.read("resources.arsc")
    except Exception:
        continue
    start = clock()
    try:
        ARSCParser(data)
        tables += 1
    except Exception:
        failed += 1
    parse += clock() - start
print(json.dumps({"import": 1000 * (t1 - t0), "parse": 1000 * parse, "tables": tables,
                  "failed": failed}))
"""


def run_child(argv: list[str]) -> tuple[dict[str, float], float]:
    """Run ``argv``; its JSON line on stdout and its peak RSS (MiB)."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, env=child_env())
        out = proc.stdout.read() if proc.stdout is not None else b""
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"child failed: {errors.read().decode(errors='replace')[-400:]}")
    return json.loads(out.decode().strip().splitlines()[-1]), usage.ru_maxrss / 1024


def _summary(values: list[float], unit: str = "ms", digits: int = 1) -> str:
    ordered = sorted(values)
    return (f"{statistics.median(ordered):.{digits}f} {unit} "
            f"({ordered[0]:.{digits}f} .. {ordered[-1]:.{digits}f})")


def measure(name: str, python: str, paths: list[str], rounds: int) -> None:
    """``rounds`` interleaved rounds of both children on ``paths``; print the table rows."""
    mine_cmd = [python, "-c", PERMAUDIT_CHILD, "time", *paths]
    theirs_cmd = [sys.executable, "-c", ANDROGUARD_CHILD, *paths]
    run_child(mine_cmd)  # warm-up: page cache, byte-code caches
    run_child(theirs_cmd)
    mine: list[tuple[dict[str, float], float]] = []
    theirs: list[tuple[dict[str, float], float]] = []
    for index in range(rounds):
        if index % 2 == 0:
            mine.append(run_child(mine_cmd))
            theirs.append(run_child(theirs_cmd))
        else:
            theirs.append(run_child(theirs_cmd))
            mine.append(run_child(mine_cmd))
    parts = ("table", "resolve", "res_xml", "icon")
    steps = [sum(m[p] for p in parts) for m, _ in mine]
    print(f"\n{name}: {len(paths)} file(s), {mine[0][0]['tables']:.0f} tables read by "
          f"permaudit, {theirs[0][0]['tables']:.0f} parsed by androguard "
          f"({theirs[0][0]['failed']:.0f} failed), {rounds} rounds")
    print(f"  permaudit resource step:     {_summary(steps)}")
    for part in parts:
        print(f"    {part:<9}                  {_summary([m[part] for m, _ in mine], digits=2)}")
    print(f"  permaudit resource imports:  {_summary([m['import_resources'] for m, _ in mine])}")
    print(f"  androguard ARSCParser parse: {_summary([t['parse'] for t, _ in theirs])}")
    print(f"  androguard ARSCParser import:{_summary([t['import'] for t, _ in theirs])}")
    parse_ratio = [t["parse"] / s for (t, _), s in zip(theirs, steps, strict=True)]
    import_ratio = [t["import"] / m["import_resources"]
                    for (t, _), (m, _) in zip(theirs, mine, strict=True)]
    print(f"  ratio androguard parse / permaudit step:     {_summary(parse_ratio, 'x')}")
    print(f"  ratio androguard import / permaudit imports: {_summary(import_ratio, 'x')}")
    print(f"  peak RSS: permaudit child {_summary([r for _, r in mine], 'MiB')}, "
          f"androguard child {_summary([r for _, r in theirs], 'MiB')}")
    sys.stdout.flush()


def _largest_table(paths: list[str]) -> str | None:
    """The APK with the largest ``resources.arsc`` (the big APK's is mostly a padding chunk
    both readers skip, so the decode work is that of its source's small table)."""
    sizes = {}
    for path in paths:
        try:
            with zipfile.ZipFile(path) as archive:
                sizes[path] = archive.getinfo("resources.arsc").file_size
        except (KeyError, OSError, zipfile.BadZipFile):
            continue
    return max(sizes, key=sizes.__getitem__) if sizes else None


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    """Install this tree once, then measure the big APK and the corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="rounds on the big APK")
    parser.add_argument("--corpus-rounds", type=int, default=9)
    parser.add_argument("--size-mb", type=int, default=150)
    parser.add_argument("--entries", type=int, default=8000)
    args = parser.parse_args(argv)
    python = str(install_wheel() / "python")
    big = str(make_apk(args.size_mb, args.entries))
    corpus = sorted(str(p) for p in (CORPUS / "apk").iterdir() if p.is_file())
    print(f"start: {_uptime()}")
    started = time.perf_counter()
    measure(f"{Path(big).name} ({os.path.getsize(big) / 2**20:.0f} MiB)", python, [big],
            args.rounds)
    real = _largest_table(corpus)
    if real is not None:
        measure(f"{Path(real).name} (the corpus's largest real table)", python, [real],
                args.rounds)
    if args.corpus_rounds:
        measure(f"corpus {CORPUS / 'apk'}", python, corpus, args.corpus_rounds)
    peak, rss = run_child([python, "-c", PERMAUDIT_CHILD, "memory", big])
    print(f"\nbig APK resource step: tracemalloc peak {peak['peak_mib']:.1f} MiB "
          f"(child peak RSS {rss:.1f} MiB)")
    print(f"end: {_uptime()} ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
