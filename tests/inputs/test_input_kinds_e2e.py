"""Every input kind works end to end through scan, compare and check (real corpus files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import corpus_dir
from permaudit.cli import main

#: One real corpus input per kind, with the package it holds.
KINDS = {
    "apk": ("apk/souch.smsbypass_9.apk", "souch.smsbypass"),
    "apks": ("bundles/AppManager_v2.5.22.apks", "io.github.muntashirakon.AppManager"),
    "xapk": ("bundles/derived-dynamicfeatures.ondemand.xapk",
             "com.google.android.samples.dynamicfeatures.ondemand"),
    "aab": ("bundles/bundletool-install-time-permanent-modules.aab", None),
    "xml": ("manifests/WireGuard-AndroidManifest.xml", None),
    "axml": ("axml/androguard-AndroidManifest.xml", None),
}


def corpus_input(relative: str) -> Path:
    path = corpus_dir() / relative
    if not path.is_file():
        pytest.skip(f"corpus file {relative} not found (set PERMAUDIT_CORPUS)")
    return path


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_scan_reads_each_kind(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    relative, package = KINDS[kind]
    path = corpus_input(relative)
    assert main(["scan", "--format", "json", str(path)]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    (app,) = json.loads(captured.out)["apps"]
    assert app["input"]["kind"] == kind
    if package is not None:
        assert app["package"] == package


def test_loose_splits_in_a_directory_are_one_app(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("base", "split_config.en", "split_config.hdpi"):
        source = corpus_input(f"bundles/dynamicfeatures.ondemand-{name}.apk")
        (tmp_path / source.name).write_bytes(source.read_bytes())
    assert main(["scan", "--format", "json", str(tmp_path)]) == 0
    (app,) = json.loads(capsys.readouterr().out)["apps"]
    assert app["input"]["kind"] == "splits"
    assert {s["name"] for s in app["splits"]} == {"base", "config.en", "config.hdpi"}


def test_compare_and_check_take_every_kind(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    paths = [str(corpus_input(relative)) for relative, _ in KINDS.values()]
    assert main(["compare", "--format", "json", *paths]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [app["input"]["kind"] for app in document["apps"]] == list(KINDS)
    sarif = tmp_path / "out.sarif"
    code = main(["check", "--format", "sarif", "-o", str(sarif), *paths])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    assert "Traceback" not in captured.err
    runs = json.loads(sarif.read_text())["runs"]
    assert runs and runs[0]["tool"]["driver"]["name"] == "permaudit"


def test_a_text_manifest_finding_carries_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    path = corpus_input("manifests/qark-GoatDroid-AndroidManifest.xml")
    assert main(["scan", "--format", "json", str(path)]) == 0
    findings = json.loads(capsys.readouterr().out)["apps"][0]["findings"]
    assert any(f["line"] for f in findings), "findings on a text manifest should have lines"
