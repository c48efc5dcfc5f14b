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

from conftest import FIXTURES, REPO
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
