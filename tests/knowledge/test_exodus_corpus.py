"""Oracle: permaudit's trackers equal exodus-core's on every corpus input and fixture APK.

exodus-core's own results are recorded in ``exodus_oracle_corpus.json`` (every file of the
corpus's ``apk/`` and ``bundles/``) and ``exodus_oracle_fixtures.json`` (``fixtures/apk``):
``make exodus-oracle`` runs ``tools/exodus_trackers.py`` (``StaticAnalysis.detect_trackers``
fed the local snapshot, dexdump over every DEX) from a venv of its own. They hold tracker ids
and names from the snapshot and input paths, nothing else of the inputs. permaudit's side is
the input read as a scan reads it (``inputs.kinds.load`` with code: root and nested DEX of an
APK, every member of a split set, every module of a bundle) matched against the Exodus-only
table of the shipped copy (the supplement's additions are permaudit's own, Exodus cannot
find them), hits of both strengths.

Where the two can differ, and why no corpus input or fixture shows it (so the comparison is
plain equality; a new input that differs must be explained here, not in a skip list):

- regex vs package prefix: Exodus searches each signature as an unanchored regex in
  slash-separated names, so ``.`` matches any character and ``com.my.tracker.`` matches
  ``xcom/my/tracker/A`` too; permaudit's prefix does not (shown with exodus-core itself in
  ``test_exodus_oracle.py::test_where_the_two_differ_is_documented``). No tracker of a
  corpus input or fixture is found by such a match alone.
- defined vs referenced: Exodus takes every ``L...;`` in dexdump's text, defined and
  referenced types alike, and does not say which; permaudit reports ``defined`` or
  ``referenced`` and both count here (``airtest-Yosemite.apk`` names
  ``com.codahale.metrics`` types it does not define: Exodus and permaudit both find Metrics,
  permaudit as ``referenced``, which ``test_referenced_only_hits_count`` pins down).
- which DEX: Exodus reads every entry whose name contains ``classes*.dex`` and recurses
  into every entry whose name contains ``.apk``, anywhere in the zip; permaudit reads what
  Android or bundletool load (root ``classes*.dex``, bundle modules' ``dex/``) and nested
  ``.apk``/``.jar``/``.zip`` under ``assets/``. No corpus input has a tracker's classes only
  in DEX the other one does not read.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, TESTS, corpus_dir, corpus_files
from permaudit.inputs.kinds import load
from permaudit.knowledge import trackers as tk
from permaudit.model.code import TrackerHit

ORACLES = TESTS / "knowledge"
CORPUS_ORACLE = ORACLES / "exodus_oracle_corpus.json"
FIXTURES_ORACLE = ORACLES / "exodus_oracle_fixtures.json"
FIXTURE_APKS = sorted((REPO / "fixtures" / "apk").glob("*.apk"))
CORPUS_INPUTS = corpus_files("apk") + corpus_files("bundles")


def _recorded(path: Path) -> dict[str, dict[str, object]]:
    apps: dict[str, dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))["apps"]
    return apps


def _theirs(entry: dict[str, object]) -> set[tuple[int, str]]:
    assert "error" not in entry, entry
    trackers = entry["trackers"]
    assert isinstance(trackers, list)
    return {(int(t["id"]), t["name"]) for t in trackers}


def _hits(path: Path) -> tuple[TrackerHit, ...]:
    app = load(str(path), code=True)
    assert app.code is not None, "no code read"
    hits, _ = tk.match_trackers(app.code, (), tk._exodus(tk.EXODUS_FILE))
    return hits


def _ours(path: Path) -> set[tuple[int, str]]:
    return {(int(hit.tracker_id), hit.name) for hit in _hits(path)}


def test_oracles_are_of_the_shipped_snapshot() -> None:
    """A newer snapshot (``make knowledge-data``) needs the oracles recorded again."""
    shipped = json.loads(tk.EXODUS_FILE.read_text(encoding="utf-8"))["snapshot_sha256"]
    for oracle in (CORPUS_ORACLE, FIXTURES_ORACLE):
        document = json.loads(oracle.read_text(encoding="utf-8"))
        assert document["snapshot_sha256"] == shipped, f"{oracle.name}: make exodus-oracle"


def test_fixture_oracle_covers_every_fixture_apk() -> None:
    assert sorted(_recorded(FIXTURES_ORACLE)) == [
        str(path.relative_to(REPO)) for path in FIXTURE_APKS]


@pytest.mark.parametrize("apk", FIXTURE_APKS, ids=lambda p: p.name)
def test_fixture_trackers_equal_exodus_core(apk: Path) -> None:
    entry = _recorded(FIXTURES_ORACLE)[str(apk.relative_to(REPO))]
    assert _ours(apk) == _theirs(entry)


def test_fixture_oracle_is_not_vacuous() -> None:
    """Max's fixtures carry myTracker's classes: exodus-core and permaudit both see them."""
    entry = _recorded(FIXTURES_ORACLE)["fixtures/apk/max-25.8.1.apk"]
    assert "myTracker" in {name for _, name in _theirs(entry)}


@pytest.mark.parametrize("path", CORPUS_INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_trackers_equal_exodus_core(path: Path) -> None:
    key = f"{path.parent.name}/{path.name}"
    recorded = _recorded(CORPUS_ORACLE)
    assert key in recorded, f"{key} is new in the corpus: record it with make exodus-oracle"
    assert _ours(path) == _theirs(recorded[key])


def test_referenced_only_hits_count() -> None:
    """Exodus does not tell defined from referenced types; a referenced-only hit is a hit."""
    path = corpus_dir() / "apk" / "airtest-Yosemite.apk"
    if not path.is_file():
        pytest.skip("airtest-Yosemite.apk not in the corpus")
    hits = {hit.name: hit.strength for hit in _hits(path)}
    assert hits == {"Metrics": "referenced"}
    assert {name for _, name in _theirs(_recorded(CORPUS_ORACLE)["apk/airtest-Yosemite.apk"])} \
        == {"Metrics"}


def test_recorded_fixture_oracle_is_exodus_cores_output(tmp_path: Path) -> None:
    """With ``PERMAUDIT_EXODUS_PYTHON`` (a venv with exodus-core), the record is re-checked."""
    python = os.environ.get("PERMAUDIT_EXODUS_PYTHON")
    snapshot = corpus_dir().parent / "data" / "exodus" / "trackers.json"
    if not python or not snapshot.is_file():
        pytest.skip("set PERMAUDIT_EXODUS_PYTHON to a venv with exodus-core (and the snapshot)")
    out = subprocess.run(
        [python, str(REPO / "tools" / "exodus_trackers.py"), "--snapshot", str(snapshot),
         *(str(path.relative_to(REPO)) for path in FIXTURE_APKS)],
        cwd=REPO, capture_output=True, check=True, timeout=300,
    ).stdout
    assert json.loads(out) == json.loads(FIXTURES_ORACLE.read_text(encoding="utf-8"))
