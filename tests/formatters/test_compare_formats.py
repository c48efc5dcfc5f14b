"""Every compare/diff format: structure, escaping, colour, determinism, and golden files.

Golden files live in tests/golden/compare/ and tests/golden/diff/. Regenerate them only
on purpose, then review the diff like code:

    PERMAUDIT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_compare_formats.py
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, TESTS
from permaudit.formatters import COMPARE_FORMATS, DIFF_FORMATS, renderer
from permaudit.formatters.json.report import SCHEMA_VERSION
from permaudit.model import Application, Component, RulesetInfo, Severity
from permaudit.model.code import ApiEvidence, NativeLibrary
from permaudit.views.changes import CAPABILITY_KINDS, CAPABILITY_SUBJECT_KINDS
from permaudit.views.compare import Comparison, compare
from permaudit.views.diff import CHANGE_KINDS, Diff, diff
from permaudit.views.reach import REACH_LEVELS
from tests.views.test_code_changes import host, tracker, with_code
from tests.views.test_compare import P, finding, hit, messenger_reports, perm, report

GOLDEN = TESTS / "golden"
UPDATE = os.environ.get("PERMAUDIT_UPDATE_GOLDEN") == "1"
SUFFIX = {"table": "txt", "markdown": "md", "json": "json", "html": "html"}
RULESET = RulesetInfo(id="test-rules", sha256="ab" * 32)
#: Stands in for the tool version in golden files, so a release does not rewrite them.
VERSION = "0.0.0-golden"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def hand_comparison() -> Comparison:
    return compare(messenger_reports(), ruleset=RULESET, tool_version=VERSION)


def hand_diff() -> Diff:
    old = report(
        "com.example.chat",
        version="1.0",
        code=10,
        target_sdk=28,
        permissions=[
            perm("VIBRATE", cls="install"),
            perm("READ_SMS", "sms", element="uses-permission-sdk-23"),
            perm("WRITE_EXTERNAL_STORAGE", "files", max_sdk=28, applies=False),
        ],
        capabilities=[hit("sms", "READ_SMS", severity=Severity.HIGH, access=("read",))],
        components=[Component(kind="service", name="com.example.chat.Sync", exported=False)],
        score=30,
        level="medium",
    )
    new = report(
        "com.example.chat",
        version="2.0",
        code=20,
        target_sdk=27,
        permissions=[
            perm("RECORD_AUDIO", "microphone"),
            perm("READ_SMS", "sms"),
            perm("WRITE_EXTERNAL_STORAGE", "files", max_sdk=32, applies=False),
        ],
        capabilities=[
            hit("microphone", "RECORD_AUDIO", severity=Severity.HIGH, access=("record",)),
            hit("sms", "READ_SMS", severity=Severity.HIGH, access=("read",)),
        ],
        application=Application(debuggable=True),
        components=[Component(kind="service", name="com.example.chat.Sync", exported=True)],
        findings=[
            finding("hardening.debuggable", "android:debuggable", Severity.HIGH),
            finding("exported.service", "service:com.example.chat.Sync", Severity.MEDIUM),
        ],
        score=61,
        level="high",
    )
    old = with_code(
        old, trackers=(tracker("10", "CrashKit", "Crash reporting"),),
        hosts=(host("example.com", "Example Corp", "US"),),
        apis=(ApiEvidence(capability="sms", references=("content://sms",)),),
    )
    new = with_code(
        new, trackers=(tracker("11", "AdNet", "Advertisement"),),
        hosts=(host("example.com", "Example Corp", "US"), host("vk.com", "VK", "RU")),
        apis=(
            ApiEvidence(capability="camera", references=("android.hardware.Camera.open",)),
            ApiEvidence(capability="microphone",
                        references=("android.media.AudioRecord.startRecording",)),
            ApiEvidence(capability="sms", references=("content://sms",)),
        ),
        libs=(NativeLibrary(path="lib/arm64-v8a/libvoip.so", abi="arm64-v8a", size=812_000),),
    )
    return diff(old, new, ruleset=RULESET, tool_version=VERSION)


def check_golden(path: Path, text: str) -> None:
    """Compare ``text`` with the golden file, or rewrite it under PERMAUDIT_UPDATE_GOLDEN=1."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    if not path.is_file():
        pytest.fail(f"{path} missing: run with PERMAUDIT_UPDATE_GOLDEN=1 and review it")
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from the golden file; if intended, regenerate with "
        "PERMAUDIT_UPDATE_GOLDEN=1 and review the diff"
    )


# --- golden files: hand-made reports (independent of the engine) -------------------------


@pytest.mark.parametrize("fmt", sorted(COMPARE_FORMATS))
def test_golden_compare_hand_made(fmt: str) -> None:
    text = renderer(COMPARE_FORMATS, fmt)(hand_comparison(), color=False)
    check_golden(GOLDEN / "compare" / f"hand-3-apps.{SUFFIX[fmt]}", text)


@pytest.mark.parametrize("fmt", sorted(DIFF_FORMATS))
def test_golden_diff_hand_made(fmt: str) -> None:
    text = renderer(DIFF_FORMATS, fmt)(hand_diff(), color=False)
    check_golden(GOLDEN / "diff" / f"hand-1.0-2.0.{SUFFIX[fmt]}", text)


# --- golden files: the messenger fixtures end to end -------------------------------------

MESSENGERS = ("max-25.8.1.apk", "whatsapp-2.24.24.78.apk", "telegram-11.13.0.apk")
SIGNAL = sorted(p.name for p in (FIXTURES / "apk").glob("signal-*.apk"))


def _fixture_reports(names: tuple[str, ...], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    pytest.importorskip("permaudit.engine.evaluate")
    from permaudit.app import analyse, load_apps, load_rules

    paths = [FIXTURES / "apk" / name for name in names]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"fixtures not built: {missing}")
    monkeypatch.chdir(REPO)  # input paths as a user in the checkout types them
    apps = load_apps([str(p.relative_to(REPO)) for p in paths], recursive=False)
    return analyse(apps, load_rules(()), None)


@pytest.mark.parametrize("fmt", sorted(COMPARE_FORMATS))
@pytest.mark.parametrize(
    ("name", "apps"),
    [("messengers-3", MESSENGERS), ("messengers-4", (*MESSENGERS, *SIGNAL[:1]))],
)
def test_golden_compare_fixtures(
    fmt: str, name: str, apps: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    if len(apps) == 4 and not SIGNAL:
        pytest.skip("no Signal fixture")
    scanned = _fixture_reports(apps, monkeypatch)
    result = compare(scanned.reports, ruleset=scanned.ruleset, tool_version=VERSION)
    text = renderer(COMPARE_FORMATS, fmt)(result, color=False)
    check_golden(GOLDEN / "compare" / f"{name}.{SUFFIX[fmt]}", text)


@pytest.mark.parametrize("fmt", sorted(DIFF_FORMATS))
def test_golden_diff_max_versions(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    scanned = _fixture_reports(("max-25.8.1.apk", "max-26.19.2.apk"), monkeypatch)
    result = diff(*scanned.reports, ruleset=scanned.ruleset, tool_version=VERSION)
    text = renderer(DIFF_FORMATS, fmt)(result, color=False)
    check_golden(GOLDEN / "diff" / f"max-25.8.1-26.19.2.{SUFFIX[fmt]}", text)


def test_the_demo_answers_who_reaches_what_and_through_what(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The issue's 'done' question, asked of the JSON of the three messengers."""
    scanned = _fixture_reports(MESSENGERS, monkeypatch)
    result = compare(scanned.reports, ruleset=scanned.ruleset)
    rows = {row.id: row for row in result.capability_rows}
    for cap in ("microphone", "camera", "contacts", "location", "files", "nearby_devices"):
        assert all(cell.reached and cell.via for cell in rows[cap].cells), cap
    # SMS: WhatsApp only (RECEIVE_SMS, SEND_SMS); call log: WhatsApp (sdk-23) and Telegram.
    assert [c.reached for c in rows["sms"].cells] == [False, True, False]
    assert P + "SEND_SMS" in rows["sms"].cells[1].via
    assert [c.reached for c in rows["call_log"].cells] == [False, True, True]
    assert any("uses-permission-sdk-23" in note for note in rows["call_log"].cells[1].notes)
    # Overlay: Max and Telegram request SYSTEM_ALERT_WINDOW, WhatsApp does not.
    assert [c.reached for c in rows["overlay"].cells] == [True, False, True]
    # NFC has no capability in the default ruleset: only the permission matrix shows it.
    nfc = next(r for r in result.permission_rows if r.name == P + "NFC")
    assert [c.requested for c in nfc.cells] == [False, True, False]


# --- every format --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(COMPARE_FORMATS))
def test_every_compare_format_names_every_app_and_capability(fmt: str) -> None:
    result = hand_comparison()
    text = renderer(COMPARE_FORMATS, fmt)(result, color=False)
    if fmt == "html":
        text = "".join(parse(text).text)  # <wbr> break opportunities split names
    for app in result.apps:
        assert app.package in text
    for row in result.capability_rows:
        assert row.title in text or row.id in text


@pytest.mark.parametrize("fmt", sorted(DIFF_FORMATS))
def test_every_diff_format_lists_every_change(fmt: str) -> None:
    result = hand_diff()
    text = renderer(DIFF_FORMATS, fmt)(result, color=False)
    titles = {h.id: h.title for r in (result.old_report, result.new_report) for h in r.capabilities}
    if fmt == "html":
        text = "".join(parse(text).text)  # <wbr> break opportunities split names
    for change in result.changes:
        if fmt == "html" and change.kind in CAPABILITY_KINDS | CAPABILITY_SUBJECT_KINDS:
            # The HTML page names capabilities by title (the id when no report reaches it).
            assert titles.get(change.subject, change.subject) in text
        else:
            assert change.subject.removeprefix(P) in text


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_human_formats_drop_the_permission_prefix_json_keeps_it(fmt: str) -> None:
    result = hand_comparison()
    assert "android.permission." not in renderer(COMPARE_FORMATS, fmt)(result, color=False)
    assert f'"{P}RECORD_AUDIO"' in renderer(COMPARE_FORMATS, "json")(result, color=False)


def test_table_colour_only_when_asked() -> None:
    for registry, result in ((COMPARE_FORMATS, hand_comparison()), (DIFF_FORMATS, hand_diff())):
        plain = renderer(registry, "table")(result, color=False)
        coloured = renderer(registry, "table")(result, color=True)
        assert not ANSI.search(plain)
        assert "\x1b[31m" in coloured  # high severity in red
        assert ANSI.sub("", coloured) == plain


def test_compare_table_fits_a_wide_terminal() -> None:
    lines = renderer(COMPARE_FORMATS, "table")(hand_comparison(), color=False).splitlines()
    assert max(len(line) for line in lines) <= 160


# --- JSON contract --------------------------------------------------------------------------


def test_compare_json_contract() -> None:
    result = hand_comparison()
    text = renderer(COMPARE_FORMATS, "json")(result, color=False)
    assert text == renderer(COMPARE_FORMATS, "json")(result, color=False)
    document = json.loads(text)
    assert document["schema_version"] == SCHEMA_VERSION == 2
    assert document["tool"] == {"name": "permaudit", "version": VERSION}
    assert document["ruleset"] == {"id": "test-rules", "sha256": "ab" * 32}
    assert [a["package"] for a in document["apps"]] == [
        "ru.oneme.app",
        "com.whatsapp",
        "org.telegram.messenger",
    ]
    assert document["apps"][1]["column"]["label"] == "com.whatsapp"
    location = next(r for r in document["capability_matrix"] if r["capability"] == "location")
    assert location["cells"][1] == {
        "level": "approximate",
        "access": ["approximate"],
        "severity": "high",
        "via": [P + "ACCESS_COARSE_LOCATION"],
        "notes": [],
        "code": None,  # no code evidence in these hand-made reports
    }
    assert document["code"] == []
    contacts = next(r for r in document["capability_matrix"] if r["capability"] == "contacts")
    assert contacts["cells"][2]["level"] is None
    sms = next(r for r in document["permission_matrix"] if r["permission"] == P + "READ_SMS")
    assert sms["cells"][1]["elements"] == [
        {"element": "uses-permission-sdk-23", "max_sdk": None, "reason": None, "applies": True}
    ]
    assert sms["group"] == "sms"
    assert document["exclusives"][1] == {
        "app": "com.whatsapp",
        "capabilities": ["sms"],
        "permissions": [P + "READ_SMS", P + "WRITE_CONTACTS", P + "WRITE_EXTERNAL_STORAGE"],
    }
    assert document["counts"][1]["uses_permission_sdk_23"] == 1
    assert "timestamp" not in text and "generated" not in text


def test_diff_json_contract() -> None:
    document = json.loads(renderer(DIFF_FORMATS, "json")(hand_diff(), color=False))
    assert document["schema_version"] == SCHEMA_VERSION == 2
    assert document["old"]["version_name"] == "1.0"
    assert document["new"]["version_name"] == "2.0"
    changes = document["changes"]
    assert all(set(c) == {"kind", "subject", "old", "new", "severity"} for c in changes)
    assert all(c["kind"] in CHANGE_KINDS for c in changes)
    assert {"kind": "permission_added", "subject": P + "RECORD_AUDIO", "old": None,
            "new": "uses-permission", "severity": "high"} in changes  # fmt: skip
    assert {"kind": "permission_removed", "subject": P + "VIBRATE", "old": "uses-permission",
            "new": None, "severity": "info"} in changes  # fmt: skip
    assert {"kind": "flag_changed", "subject": "debuggable", "old": False, "new": True,
            "severity": "high"} in changes  # fmt: skip
    severities = [c["severity"] for c in changes]
    order = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=order.index)


# --- HTML structure -------------------------------------------------------------------------


class Page(HTMLParser):
    """Collects what the structure tests look at."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.heatmaps: list[dict[str, list]] = []  # type: ignore[type-arg]
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        self.urls.extend(v for k, v in attributes.items() if k in ("src", "href"))
        if tag == "table" and "matrix" in attributes.get("class", "").split():
            self.heatmaps.append({"head": [], "rows": [], "foot": []})
        section = next((t for t, _ in reversed(self.stack) if t in ("thead", "tbody", "tfoot")), "")
        in_heatmap = any(
            t == "table" and "matrix" in a.get("class", "").split() for t, a in self.stack
        )
        if in_heatmap and tag == "tr" and section in ("tbody", "tfoot"):
            self.heatmaps[-1]["rows" if section == "tbody" else "foot"].append([])
        if in_heatmap and tag == "th" and section == "thead":
            self.heatmaps[-1]["head"].append(attributes)
        if in_heatmap and tag == "td" and section == "tbody":
            self.heatmaps[-1]["rows"][-1].append(attributes.get("class", ""))
        if tag not in ("meta", "br", "wbr", "link"):
            self.stack.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def test_compare_html_matrix_shows_reach_levels_not_severity() -> None:
    result = hand_comparison()
    page = parse(renderer(COMPARE_FORMATS, "html")(result, color=False))
    assert page.tags[0] == "html" and "style" in page.tags
    assert len(page.heatmaps) == 1
    matrix = page.heatmaps[0]
    assert len(matrix["head"]) == 1 + len(result.apps)
    assert len(matrix["rows"]) == len(result.capability_rows)
    classes = {f"reach-{level.key}" for level in REACH_LEVELS}
    for row, cap_row in zip(matrix["rows"], result.capability_rows, strict=True):
        assert len(row) == len(result.apps)
        assert all(cell in classes for cell in row)
        assert row == [f"reach-{c.reach}" for c in cap_row.cells]
    # Every level used has its mark and words in the cell, and a legend entry.
    html = renderer(COMPARE_FORMATS, "html")(result, color=False)
    for level in REACH_LEVELS:
        assert f'<dt class="reach-{level.key}">' in html
        assert level.meaning in html
    # The summary and the matrix come before the detailed sections.
    assert html.index('id="summary"') < html.index('class="matrix"') < html.index(
        'id="capabilities"'
    )


@pytest.mark.parametrize(
    ("registry", "make"), [(COMPARE_FORMATS, hand_comparison), (DIFF_FORMATS, hand_diff)]
)
def test_html_is_self_contained(registry: dict[str, str], make) -> None:  # type: ignore[no-untyped-def]
    text = renderer(registry, "html")(make(), color=False)
    page = parse(text)
    assert "script" not in page.tags
    assert not {"link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert not [u for u in page.urls if re.match(r"(?i)\s*(https?:)?//", u)]
    assert "@import" not in text and "url(" not in text
    assert '<meta name="viewport"' in text and "@media print" in text


def hostile_reports():  # type: ignore[no-untyped-def]
    evil = '<script>alert("x")</script>|`*_[a](http://e.vil)'
    first = report(
        "com.evil",
        version=evil,
        path=f"dir/{evil}.apk",
        permissions=[perm(f"com.evil.permission.{evil}", "camera")],
        capabilities=[
            hit("camera", f"com.evil.permission.{evil}", notes=(evil,)),
            hit(evil, f"com.evil.permission.{evil}", access=(evil,)),
        ],
        level=evil,
    )
    return first, report("org.plain")


def test_html_escapes_every_value() -> None:
    result = compare(hostile_reports())
    text = renderer(COMPARE_FORMATS, "html")(result, color=False)
    page = parse(text)
    assert "script" not in page.tags
    # The only links are the page's own table of contents.
    assert page.urls and all(u.startswith("#") for u in page.urls)
    assert '<script>alert("x")</script>' in "".join(page.text)


def test_markdown_escapes_pipes_and_markup() -> None:
    result = compare(hostile_reports())
    text = renderer(COMPARE_FORMATS, "markdown")(result, color=False)
    assert "<script>" not in text
    assert not re.search(r"(?<!\\)\]\(", text)  # no live [text](url) link
    for line in text.splitlines():
        if line.startswith("|"):
            # Unescaped pipes delimit cells: every row of a table has the same count.
            cells = len(re.findall(r"(?<!\\)\|", line))
            header = _table_header_pipes(text, line)
            assert cells == header, line


def _table_header_pipes(text: str, row: str) -> int:
    lines = text.splitlines()
    index = lines.index(row)
    while index > 0 and lines[index - 1].startswith("|"):
        index -= 1
    return len(re.findall(r"(?<!\\)\|", lines[index]))


@pytest.mark.parametrize("width", [120, 200])
def test_golden_text_at_wider_terminals(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table layouts a wide terminal gets (the 80-column goldens above are blocks)."""
    scanned = _fixture_reports(MESSENGERS, monkeypatch)
    result = compare(scanned.reports, ruleset=scanned.ruleset, tool_version=VERSION)
    text = renderer(COMPARE_FORMATS, "table")(result, color=False, width=width)
    check_golden(GOLDEN / "compare" / f"messengers-3.{width}.txt", text)
    old_new = _fixture_reports(("max-25.8.1.apk", "max-26.19.2.apk"), monkeypatch)
    changes = diff(*old_new.reports, ruleset=old_new.ruleset, tool_version=VERSION)
    text = renderer(DIFF_FORMATS, "table")(changes, color=False, width=width)
    check_golden(GOLDEN / "diff" / f"max-25.8.1-26.19.2.{width}.txt", text)
