"""Run exodus-core's own tracker detection on APKs, fed the local Exodus snapshot (an oracle).

Run it with the interpreter of a venv that has exodus-core, never a project venv::

    python3 -m venv /work/exodus-venv && /work/exodus-venv/bin/pip install exodus-core
    /work/exodus-venv/bin/python tools/exodus_trackers.py [--snapshot TRACKERS_JSON] [--time] APK...

exodus-core's ``StaticAnalysis.load_trackers_signatures`` fetches the signatures from
``reports.exodus-privacy.eu.org``; here the same namedtuples are built from the snapshot's
``trackers`` object instead (no network), then ``StaticAnalysis.detect_trackers()`` runs
unchanged: dexdump over every ``classes*.dex`` (and nested ``*.apk``, 10 levels deep), its
``[A-Z]+((?:\\w+\\/)+\\w+)`` regex over dexdump's text, each code signature searched as a regex.
The APK itself is not parsed by androguard (``StaticAnalysis(apk_path)`` would): tracker
detection does not need it.

Prints one JSON document: exodus-core's version, the snapshot's sha256, and per input path
(as given) the trackers found (``id``, ``name``, sorted by id) or the error exodus-core
raised; with ``--time`` also ``seconds``, the detection time after the imports
(``bench/bench_exodus.py`` reads it). Only tracker ids and names from the snapshot and the
input paths are written, so the output can be recorded as a test oracle
(``tests/knowledge/exodus_oracle_*.json``, ``make exodus-oracle``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from collections import namedtuple
from importlib.metadata import version
from pathlib import Path
from typing import Any

#: Next to the corpus: ``$PERMAUDIT_CORPUS/../data/exodus/trackers.json``.
DEFAULT_SNAPSHOT = Path(os.environ.get(
    "PERMAUDIT_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus",
)).parent / "data" / "exodus" / "trackers.json"


def signatures(snapshot: bytes) -> list[tuple[object, ...]]:
    """The snapshot's trackers as the namedtuples ``load_trackers_signatures`` builds."""
    data = json.loads(snapshot)
    return [namedtuple("tracker", data["trackers"][e].keys())(*data["trackers"][e].values())
            for e in data["trackers"]]


def _detect(analysis_class: Any, first: Any, apks: list[Path],
            apps: dict[str, dict[str, object]]) -> None:
    """``apps[path]``: the trackers exodus-core detects in each APK, or its error."""
    for apk in apks:
        analysis = analysis_class()  # a fresh one per APK: it caches the class list
        analysis.signatures = first.signatures
        analysis.compiled_tracker_signature = first.compiled_tracker_signature
        analysis.apk_path = str(apk)
        try:
            found = analysis.detect_trackers()
        except Exception as error:  # exodus-core raises a bare Exception on a bad zip
            apps[str(apk)] = {"error": f"{type(error).__name__}: {error}"}
            continue
        apps[str(apk)] = {"trackers": sorted(({"id": t.id, "name": t.name} for t in found),
                                             key=lambda t: int(t["id"]))}


def main(argv: list[str] | None = None) -> int:
    """Detect the trackers of each APK with exodus-core and print the JSON document."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--snapshot", type=Path, default=DEFAULT_SNAPSHOT)
    parser.add_argument("--time", action="store_true", help="add the detection time")
    parser.add_argument("apks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    snapshot = args.snapshot.read_bytes()
    if shutil.which("dexdump") is None:
        parser.error("dexdump not found (Debian: apt-get install dexdump)")
    from exodus_core.analysis.static_analysis import StaticAnalysis

    start = time.perf_counter()
    first = StaticAnalysis()
    first.signatures = signatures(snapshot)
    first._compile_signatures()
    apps: dict[str, dict[str, object]] = {}
    saved = os.dup(2)
    with open(os.devnull, "w") as null:  # dexdump's verifier warnings: hundreds of lines
        os.dup2(null.fileno(), 2)
    try:
        _detect(StaticAnalysis, first, args.apks, apps)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    seconds = time.perf_counter() - start

    document: dict[str, object] = {
        "exodus_core": version("exodus-core"),
        "snapshot_sha256": hashlib.sha256(snapshot).hexdigest(), "apps": apps,
    }
    if args.time:
        document["seconds"] = round(seconds, 3)
    json.dump(document, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
