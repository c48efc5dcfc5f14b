"""Oracle: exodus-core's own tracker detection must find what permaudit's matcher finds.

exodus-core (PyPI) loads its signatures from the network; here it is fed the local snapshot
(``../shared/data/exodus/trackers.json``) instead, and permaudit runs on the Exodus-only table
from the shipped normalised copy (no supplement), so both use the same signatures.

Exodus searches each signature as a regex in every slash-separated type name dexdump prints
(defined and referenced alike), so permaudit's hits of either strength are compared. Two
class-list sources: the corpus APKs via dexdump (class descriptors = defined classes, every
other ``L...;`` = referenced), and the representative classes of the messengers' code facts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from permaudit.knowledge import trackers as tk
from permaudit.model.code import CodeScan

# exodus-core runs in a child process: importing it installs a vendored ``six`` meta-path
# importer whose ImportWarning would break every later test of the session.
_ORACLE = """
import json, sys
from collections import namedtuple
from exodus_core.analysis.static_analysis import StaticAnalysis
job = json.load(sys.stdin)
analysis = StaticAnalysis()
analysis.signatures = [namedtuple("tracker", e.keys())(*e.values()) for e in job["signatures"]]
analysis._compile_signatures()
print(json.dumps([sorted(t.name for t in analysis.detect_trackers_in_list(classes))
                  for classes in job["lists"]]))
"""
# A venv of its own (never the project's): PERMAUDIT_EXODUS_PYTHON=/path/to/venv/bin/python.
_PYTHON = os.environ.get("PERMAUDIT_EXODUS_PYTHON") or (
    sys.executable if importlib.util.find_spec("exodus_core") is not None else None)
if _PYTHON is None:
    pytest.skip("exodus-core not found: set PERMAUDIT_EXODUS_PYTHON to a venv's python "
                "that has it (pip install exodus-core)", allow_module_level=True)

CORPUS_APKS = ("exodus-blooddonation.apk", "com.teleca.jamendo_35.apk", "a2dp.Vol_137.apk",
               "qark-goatdroid.apk", "appmanager-dnsfilter.android-base.apk")
_DESCRIPTOR = re.compile(r"L([\w$/\-]+);")


def _exodus(snapshot: Path) -> list[dict[str, object]]:
    return list(json.loads(snapshot.read_text(encoding="utf-8"))["trackers"].values())


def _exodus_names_all(
    signatures: list[dict[str, object]], lists: list[list[str]]
) -> list[set[str]]:
    job = json.dumps({"signatures": signatures, "lists": lists})
    out = subprocess.run([_PYTHON, "-c", _ORACLE], input=job, capture_output=True,
                         text=True, check=True, timeout=300).stdout
    return [set(names) for names in json.loads(out)]


def _exodus_names(signatures: list[dict[str, object]], slash_classes: list[str]) -> set[str]:
    return _exodus_names_all(signatures, [slash_classes])[0]


def _ours(code: CodeScan) -> set[str]:
    hits, _ = tk.match_trackers(code, (), tk._exodus(tk.EXODUS_FILE))
    return {hit.name for hit in hits}


def _snapshot(corpus: Path) -> Path:
    path = corpus.parent / "data" / "exodus" / "trackers.json"
    if not path.is_file():
        pytest.skip("Exodus snapshot not present")
    return path


def _dexdump_scan(apk: Path, tmp: Path) -> tuple[CodeScan, list[str]]:
    defined: set[str] = set()
    every: set[str] = set()
    with zipfile.ZipFile(apk) as archive:
        for info in archive.infolist():
            if not re.fullmatch(r"classes\d*\.dex", info.filename):
                continue
            target = tmp / info.filename
            target.write_bytes(archive.read(info))
            out = subprocess.run(["dexdump", str(target)], capture_output=True, check=False,
                                 timeout=120).stdout.decode(errors="ignore")
            defined |= set(re.findall(r"Class descriptor\s*:\s*'L([^;']+);'", out))
            every |= set(_DESCRIPTOR.findall(out))
    dotted = lambda names: tuple(sorted(n.replace("/", ".") for n in names))  # noqa: E731
    code = CodeScan(defined_classes=dotted(defined), referenced_classes=dotted(every - defined))
    # exodus-core's own extraction regex over the same dexdump text
    return code, sorted(every)


@pytest.mark.skipif(shutil.which("dexdump") is None, reason="dexdump not installed")
@pytest.mark.parametrize("name", CORPUS_APKS)
def test_corpus_apks_agree_with_exodus_core(corpus: Path, tmp_path: Path, name: str) -> None:
    apk = corpus / "apk" / name
    if not apk.is_file():
        pytest.skip(f"{name} not in corpus")
    analysis = _exodus(_snapshot(corpus))
    code, slash = _dexdump_scan(apk, tmp_path)
    assert _ours(code) == _exodus_names(analysis, slash)


def test_exodus_blooddonation_has_trackers(corpus: Path, tmp_path: Path) -> None:
    """The oracle comparison is not vacuous: Exodus's own test APK has trackers."""
    apk = corpus / "apk" / "exodus-blooddonation.apk"
    if not apk.is_file() or shutil.which("dexdump") is None:
        pytest.skip("APK or dexdump missing")
    code, _ = _dexdump_scan(apk, tmp_path)
    assert _ours(code)


def _messenger_classes(corpus: Path) -> dict[str, list[str]]:
    import yaml

    out: dict[str, list[str]] = {}
    for path in sorted((corpus.parent / "messengers" / "code").glob("*.yml")):
        facts = yaml.safe_load(path.read_text(encoding="utf-8"))
        names = [s["representative_class"] for s in facts.get("sdks") or ()
                 if isinstance(s.get("representative_class"), str)]
        if names:
            out[path.stem] = [n[1:-1] for n in names if n.startswith("L") and n.endswith(";")]
    return out


def test_messenger_class_lists_agree_with_exodus_core(corpus: Path) -> None:
    lists = _messenger_classes(corpus)
    if not lists:
        pytest.skip("messenger code facts not present")
    analysis = _exodus(_snapshot(corpus))
    theirs = _exodus_names_all(analysis, list(lists.values()))
    for (app, slash), exodus_found in zip(lists.items(), theirs, strict=True):
        code = CodeScan(defined_classes=tuple(sorted(n.replace("/", ".") for n in slash)))
        assert _ours(code) == exodus_found, app
    max_code = CodeScan(defined_classes=tuple(
        sorted(n.replace("/", ".") for n in lists["max-25.8.1"])))
    assert "myTracker" in _ours(max_code)


def test_where_the_two_differ_is_documented() -> None:
    """Exodus's unanchored regex matches inside other packages; a prefix does not."""
    snapshot_like: list[dict[str, object]] = [{
                      "id": 1, "name": "T", "code_signature": "com.my.tracker.",
                      "network_signature": "", "categories": [], "website": "",
                      "creation_date": "", "description": "", "documentation": []}]
    assert _exodus_names(snapshot_like, ["xcom/my/tracker/A"]) == {"T"}
    table = [tk.Tracker(id="1", name="T", categories=(), code_signatures=("com.my.tracker.",),
                        network_signatures=(), source="exodus")]
    hits, _ = tk.match_trackers(CodeScan(defined_classes=("xcom.my.tracker.A",)), (), table)
    assert hits == ()
