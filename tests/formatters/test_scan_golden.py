"""``permaudit scan`` on the messenger fixtures: golden table and JSON, and every profile entry.

Golden files live in tests/golden/scan/. After a deliberate change to the ruleset, the
engine or a formatter, regenerate them with ``PERMAUDIT_UPDATE_GOLDEN=1 pytest
tests/test_scan_golden.py`` and review the diff like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES, REPO, corpus_files
from permaudit._infra.records import replace
from permaudit.app import analyse, load_apps, load_rules
from permaudit.cli import main
from permaudit.formatters import SCAN_FORMATS, renderer

GOLDEN = REPO / "tests" / "golden" / "scan"
UPDATE = os.environ.get("PERMAUDIT_UPDATE_GOLDEN") == "1"
#: Fixed so that a version bump does not rewrite every golden file.
GOLDEN_VERSION = "0.0.0-golden"
MAX_SDK_KEY = "maxSdkVersion"
MESSENGERS = sorted((FIXTURES / "apk").glob("*.apk"))


def rendered(apk: Path, fmt: str) -> str:
    """The scan of ``apk`` (path relative to the repository) in ``fmt``, uncoloured."""
    relative = str(apk.relative_to(REPO))
    result = analyse(load_apps([relative], recursive=False), load_rules(()), None)
    return renderer(SCAN_FORMATS, fmt)(replace(result, tool_version=GOLDEN_VERSION), color=False)


def test_there_are_messenger_fixtures() -> None:
    names = {p.name for p in MESSENGERS}
    assert {"max-25.8.1.apk", "whatsapp-2.24.24.78.apk", "telegram-11.13.0.apk"} <= names


#: The golden file's ending of each scan format.
SUFFIX = {"table": "txt", "json": "json", "markdown": "md", "html": "html"}


@pytest.mark.parametrize("fmt", sorted(SUFFIX))
@pytest.mark.parametrize("apk", MESSENGERS, ids=lambda p: p.stem)
def test_scan_matches_golden(
    apk: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    text = rendered(apk, fmt)
    golden = GOLDEN / f"{apk.stem}.{SUFFIX[fmt]}"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; run with PERMAUDIT_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


#: Edge fixtures with a resources.arsc, scanned for a locale: (fixture, --locale or None).
RESOURCE_CASES = [
    ("label-by-reference", None),
    ("label-by-reference", "ru"),
    ("unresolved-references", None),
]


@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.parametrize(
    ("name", "locale"), RESOURCE_CASES, ids=[f"{n}-{loc or 'default'}" for n, loc in RESOURCE_CASES]
)
def test_scan_with_resources_matches_golden(
    name: str, locale: str | None, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The label (for the locale) in the header and JSON; unresolved references with reasons."""
    monkeypatch.chdir(REPO)
    relative = f"fixtures/apk/edge/{name}.apk"
    apps = load_apps([relative], code=False, locale=locale)
    result = replace(analyse(apps, load_rules(()), None), tool_version=GOLDEN_VERSION)
    text = renderer(SCAN_FORMATS, fmt)(result, color=False)
    suffix = "txt" if fmt == "table" else "json"
    golden = GOLDEN / f"edge-{name}{'.' + locale if locale else ''}.{suffix}"
    if UPDATE:
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; run with PERMAUDIT_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


def profile_for(apk: Path) -> dict[str, object]:
    """The profile a fixture was built from (its ``fixture:`` key names the APK)."""
    for path in sorted((FIXTURES / "profiles").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data.get("fixture") == apk.stem:
            return dict(data)
    raise AssertionError(f"no profile names {apk.stem}")


@pytest.mark.parametrize("apk", MESSENGERS, ids=lambda p: p.stem)
def test_every_profile_entry_comes_back_out_of_scan(
    apk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", "--format", "json", str(apk)]) == 0
    document = json.loads(capsys.readouterr().out)
    app = document["apps"][0]
    listed = {
        (p["element"], p["name"], p["max_sdk"])
        for p in app["permissions"]
        if p["element"] != "implied"
    }
    profile = profile_for(apk)
    entries = profile["uses_permissions"]
    assert isinstance(entries, list)
    expected = {(e["element"], e["name"], e.get(MAX_SDK_KEY)) for e in entries}
    if expected != listed:
        pytest.fail(f"missing {sorted(expected - listed)}; extra {sorted(listed - expected)}")
    assert app["package"] == profile["package"]


CODE_SECTIONS = (
    "Does the code use what it asks for?",
    "Built-in SDKs and trackers",
    "Servers named in the code",
)


@pytest.mark.parametrize("apk", MESSENGERS, ids=lambda p: p.stem)
def test_code_sections_fit_80_columns_and_go_with_no_code(
    apk: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    text = rendered(apk, "table")
    blocks = [b for b in text.split("\n\n") if b.startswith(CODE_SECTIONS)]
    assert [next(s for s in CODE_SECTIONS if b.startswith(s)) for b in blocks] == list(
        CODE_SECTIONS
    )
    for block in blocks:
        assert max(len(line) for line in block.splitlines()) <= 80, block
    assert main(["scan", "--no-code", str(apk.relative_to(REPO))]) == 0
    out = capsys.readouterr().out
    assert not any(section in out for section in CODE_SECTIONS)


CORPUS_APKS = corpus_files("apk", "*.apk")


@pytest.mark.skipif(not CORPUS_APKS, reason="corpus not found (set PERMAUDIT_CORPUS)")
def test_code_sections_of_every_corpus_apk_fit_80_columns() -> None:
    """Real apps name many more APIs and domains than the fixtures: still short and 80 wide."""
    from permaudit.errors import PermauditError

    seen = 0
    for apk in CORPUS_APKS:
        try:
            apps = load_apps([str(apk)], recursive=False)
        except PermauditError:
            continue  # an unreadable corpus file is the input tests' business
        result = analyse(apps, load_rules(()), None)
        text = renderer(SCAN_FORMATS, "table")(result, color=False)
        for block in text.split("\n\n"):
            if block.startswith(CODE_SECTIONS):
                seen += 1
                assert max(len(line) for line in block.splitlines()) <= 80, (apk.name, block)
                assert len(block.splitlines()) <= 60, (apk.name, block)
    assert seen, "no corpus APK had code sections"
