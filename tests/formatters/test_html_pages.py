"""The HTML and markdown pages: reach levels, summaries, marks, escaping, and ``-o`` formats.

Reach levels follow what Android does with each grant: a ``dangerous`` permission is a
runtime prompt (AOSP ``PermissionManagerService``; the developer guide "Request runtime
permissions"), an ``appop`` permission such as SYSTEM_ALERT_WINDOW or
USE_FULL_SCREEN_INTENT a switch under Settings > Special app access, a ``normal`` one is
granted at install; a foreground service keeps working while the user is in another app
(with a notification, ``ServiceRecord``/``ForegroundServiceTypePolicy``) and a
``mediaProjection`` one only after the per-session consent dialog
(``MediaProjectionManager.createScreenCaptureIntent``); an NFC card-emulation service is
bound by the system without a user switch (``HostApduService``), an accessibility service
only after the user turns it on (``AccessibilityManagerService``).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO
from permaudit._infra.records import replace
from permaudit.app import analyse, load_apps, load_rules
from permaudit.cli import main
from permaudit.formatters import SCAN_FORMATS, renderer
from permaudit.model import (
    Certificate,
    Finding,
    RulesetInfo,
    ScanResult,
    Severity,
    Signer,
    SigningInfo,
    TamperEvidence,
)
from permaudit.model.code import CodeEvidence, HostHit, TrackerHit
from permaudit.views.compare import compare, overview
from permaudit.views.diff import diff
from tests.formatters.test_compare_formats import _table_header_pipes, hostile_reports

APK = FIXTURES / "apk"


def reports(*names: str):  # type: ignore[no-untyped-def]
    apps = load_apps([str(APK / n) for n in names], recursive=False)
    return analyse(apps, load_rules(()), None)


def reach(result, package_index: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    view = overview(result.reports)
    return {row.id: row.cells[package_index].reach for row in view.capability_rows}


def test_reach_levels_of_max_follow_what_android_asks() -> None:
    levels = reach(reports("max-26.19.2.apk"), 0)
    assert levels["contacts"] == "asks"  # READ_CONTACTS is dangerous: a runtime prompt
    assert levels["microphone"] == "background"  # RECORD_AUDIO + a microphone FGS
    assert levels["camera"] == "background"
    assert levels["location"] == "asks"  # its location FGS lacks FOREGROUND_SERVICE_LOCATION
    assert levels["overlay"] == "special"  # SYSTEM_ALERT_WINDOW is appop
    assert levels["full_screen_alerts"] == "special"
    assert levels["boot"] == "install"  # RECEIVE_BOOT_COMPLETED is normal
    assert levels["nfc"] == "install"  # NFC is normal; a HostApduService needs no switch
    assert levels["screen_capture"] == "background"  # consent dialog, then a FGS


def test_background_location_is_asks_and_background() -> None:
    levels = reach(reports("telegram-11.13.0.apk"), 0)
    assert levels["background_location"] == "background"


def test_the_matrix_tells_the_apps_apart() -> None:
    result = reports("max-26.19.2.apk", "telegram-11.13.0.apk", "whatsapp-2.24.24.78.apk")
    view = compare(result.reports)
    rows = {row.id: [c.reach for c in row.cells] for row in view.capability_rows}
    assert rows["location"] == ["asks", "background", "background"]
    assert rows["overlay"] == ["special", "special", "none"]
    assert rows["sms"][0] == "none" and rows["sms"][2] == "asks"


def test_what_android_asks_is_listed_per_capability() -> None:
    view = overview(reports("max-26.19.2.apk").reports)
    rows = {row.id: row for row in view.capability_rows}
    asks = {a.subject: a.kind for a in rows["microphone"].asks}
    assert asks["android.permission.RECORD_AUDIO"] == "prompt"
    assert {a.kind for a in rows["overlay"].asks} == {"settings"}
    assert {a.kind for a in rows["boot"].asks} == {"nothing"}
    assert rows["microphone"].rationale.startswith("The app can record sound")


def test_summary_sentences_come_from_the_report() -> None:
    result = reports("max-26.19.2.apk", "whatsapp-2.24.24.78.apk")
    view = compare(result.reports)
    max_, whatsapp = view.summaries
    assert max_[0].startswith("MAX (ru.oneme.app) asks you for Microphone, Camera")
    assert max_[1] == (
        "Once allowed, it can use Microphone, Camera and Screen capture also in the background."
    )
    assert any("Draw over other apps" in s and "special access" in s for s in max_)
    assert not any("Draw over other apps" in s for s in whatsapp)
    assert any("SMS and MMS" in s for s in whatsapp)
    assert max_[-1] == f"Risk score {result.reports[0].risk.score}/100 (high)."


def test_summary_names_trackers_and_server_owners() -> None:
    base = reports("max-26.19.2.apk").reports[0]
    evidence = CodeEvidence(
        trackers=(
            TrackerHit(tracker_id="1", name="Tracker A", categories=("Analytics",),
                       packages=("a.b",), class_count=3, strength="defined", source="exodus"),
        ),
        hosts=(
            HostHit(domain="vk.com", hosts=("api.vk.com",), strings=1, owner="VK", country="RU"),
            HostHit(domain="x.example", hosts=("x.example",), strings=1),
        ),
    )
    view = overview([replace(base, code_evidence=evidence)])
    text = " ".join(view.summaries[0])
    assert "1 known tracker SDK: Tracker A." in text
    assert "Its code names servers of VK (RU)." in text


def test_summary_says_when_the_file_was_tampered_with() -> None:
    base = reports("max-26.19.2.apk").reports[0]
    assert not any("tampering" in s for s in overview([base]).summaries[0])
    tricks = (TamperEvidence(id="zip.crc_mismatch", detail="a"),
              TamperEvidence(id="zip.crc_mismatch", detail="b"),
              TamperEvidence(id="axml.invalid_after_root", detail="c"))
    edited = replace(base, app=replace(base.app, tamper=tricks))
    assert ("Its file was built or edited so that analysis tools may see something other "
            "than what Android sees (3 signs of tampering: axml.invalid_after_root and "
            "zip.crc_mismatch).") in overview([edited]).summaries[0]


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.text: list[str] = []
        self.rows: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.tags.append(tag)
        self.urls.extend(v for k, v in attributes.items() if k in ("src", "href"))
        if tag == "tr":
            self.rows.append(attributes)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def hostile_scan() -> ScanResult:
    evil = '<script>alert("x")</script>|`*_[a](http://e.vil)'
    first, _ = hostile_reports()
    cert = Certificate(sha256="ab" * 32, subject=f"CN={evil}", issuer=evil,
                       not_before=evil, not_after="2050-01-01")
    first = replace(
        first,
        findings=(Finding(rule="exported.service", severity=Severity.MEDIUM, title=evil,
                          subject=evil, category="exported", message=evil, fingerprint="f"),),
        code_evidence=CodeEvidence(
            trackers=(TrackerHit(tracker_id=evil, name=evil, categories=(evil,),
                                 packages=(evil,), class_count=1, strength="defined",
                                 source="exodus"),),
            hosts=(HostHit(domain=evil, hosts=(evil,), strings=1, owner=evil, country=evil),),
        ),
        app=replace(first.app, signing=SigningInfo(
            schemes=("v2",), signers=(Signer(scheme="v2", certificates=(cert,)),),
        )),
    )
    return ScanResult(tool_version="0", ruleset=RulesetInfo(id=evil, sha256="0" * 64),
                      device_sdk=36, reports=(first,))


def test_scan_html_escapes_every_value() -> None:
    text = renderer(SCAN_FORMATS, "html")(hostile_scan(), color=False)
    page = Tags()
    page.feed(text)
    assert "script" not in page.tags
    assert all(u.startswith("#") for u in page.urls)  # only the table of contents links
    joined = "".join(page.text)
    assert joined.count('<script>alert("x")</script>') >= 8  # findings, code, signer, ...


def test_scan_markdown_escapes_every_value() -> None:
    text = renderer(SCAN_FORMATS, "markdown")(hostile_scan(), color=False)
    assert "<script>" not in text
    assert not re.search(r"(?<!\\)\]\(", text)
    for line in text.splitlines():
        if line.startswith("|"):  # unescaped pipes delimit cells: same count as the header
            assert len(re.findall(r"(?<!\\)\|", line)) == _table_header_pipes(text, line), line


def test_diff_page_marks_changed_rows_and_names_titles() -> None:
    result = reports("max-25.8.1.apk", "max-26.19.2.apk")
    view = diff(*result.reports)
    text = renderer({"html": "permaudit.formatters.html.diff:render"}, "html")(view, color=False)
    page = Tags()
    page.feed(text)
    changed = [r["data-capability"] for r in page.rows
               if r.get("class") == "changed" and "data-capability" in r]
    old = {h.id: h for h in result.reports[0].capabilities}
    new = {h.id: h for h in result.reports[1].capabilities}
    expected = sorted(
        c for c in old.keys() | new.keys()
        if c not in old or c not in new or set(old[c].access) != set(new[c].access)
    )
    assert sorted(changed) == expected and "nfc" in changed  # 26.19.2 gained NFC
    kinds = {r.get("class") for r in page.rows}
    assert {"chg-gained", "chg-dropped"} <= kinds
    joined = "".join(page.text)
    assert "+ gained" in joined and "- dropped" in joined
    assert "NFC" in joined


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_output_html_picks_the_format_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.html"
    code, out, err = run(capsys, "scan", str(APK / "max-26.19.2.apk"), "-o", str(target))
    assert (code, out) == (0, "")
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert err == (
        f"permaudit: wrote html to {target} (the format its name ends in; --format "
        "chooses another)\n"
    )


@pytest.mark.parametrize(
    ("name", "start"), [("r.md", "# permaudit scan"), ("r.txt", "MAX (ru.oneme.app)")]
)
def test_output_names_pick_markdown_or_stay_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, start: str
) -> None:
    target = tmp_path / name
    code, _, err = run(capsys, "scan", str(APK / "max-26.19.2.apk"), "-o", str(target))
    assert code == 0
    assert target.read_text(encoding="utf-8").startswith(start)
    assert ("wrote markdown" in err) == name.endswith(".md")


def test_an_explicit_format_wins_over_the_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "report.html"
    code, _, err = run(
        capsys, "compare", str(APK / "max-26.19.2.apk"), str(APK / "max-25.8.1.apk"),
        "-f", "json", "-o", str(target),
    )
    assert code == 0 and err == ""
    assert target.read_text(encoding="utf-8").startswith("{")


def test_a_failed_run_says_nothing_about_the_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "diff.html"
    code, _, err = run(
        capsys, "diff", str(APK / "max-25.8.1.apk"), str(tmp_path / "missing.apk"),
        "-o", str(target),
    )
    assert code == 2 and not target.exists()
    assert err.startswith("permaudit: error: ") and "wrote" not in err


def test_readme_screenshots_exist() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"\]\((docs/img/[^)]+\.png)\)", readme)
    assert images, "the README shows no screenshot of the HTML pages"
    for image in images:
        assert (REPO / image).is_file(), image


def test_html_pages_share_only_through_common_and_overview() -> None:
    import ast

    folder = REPO / "permaudit" / "formatters" / "html"
    allowed = {
        "compare": {"common", "overview"},
        "scan": {"common", "overview"},
        "diff": {"common", "code"},
        "overview": {"common", "code"},
        "code": {"common"},
        "common": set(),
    }
    for name, may in allowed.items():
        tree = ast.parse((folder / f"{name}.py").read_text(encoding="utf-8"))
        siblings = {
            node.module.rsplit(".", 1)[-1]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module
            and node.module.startswith("permaudit.formatters.html.")
        }
        assert siblings <= may, (name, siblings)


def test_code_section_lists_owned_servers_and_folds_the_unknown_ones() -> None:
    base = reports("max-26.19.2.apk")
    hosts = (
        HostHit(domain="vk.com", hosts=("api.vk.com",), strings=2, owner="VK", country="RU"),
        *(HostHit(domain=f"d{i:03}.example", hosts=(f"d{i:03}.example",), strings=1)
          for i in range(250)),
    )
    result = replace(base, reports=(replace(base.reports[0],
                                            code_evidence=CodeEvidence(hosts=hosts)),))
    text = renderer(SCAN_FORMATS, "html")(result, color=False)
    page = Tags()
    page.feed(text)
    joined = "".join(page.text)
    assert "Servers named in the code, by owner and country" in joined
    assert "VKRussiavk.com" in joined  # owner, country, domains: one row
    assert "250 domains of an unknown owner" in joined
    assert "d199.example" in joined and "d200.example" not in joined
    assert "… and 50 more (the JSON report lists every one)" in joined


def test_header_icon_is_a_data_uri_and_every_text_around_it_is_escaped() -> None:
    from permaudit.formatters.html.common import app_icon, header_icons
    from permaudit.model.icon import MEDIA_PNG, AppIcon, IconImage

    hostile = '"><script>alert(1)</script>'
    image = IconImage(path="res/a.png", density=480, media_type=MEDIA_PNG, width=1, height=1,
                      size=3, sha256="0" * 64, data=b"\x89PN")
    shown = app_icon(AppIcon(reference="@0x7f010000", image=image), hostile)
    assert shown.startswith('<img class="app-icon" src="data:image/png;base64,iVBO"')
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    missing = app_icon(AppIcon(reference="@0x7f010000", note=hostile), hostile)
    assert "<script>" not in missing and 'title="&quot;&gt;&lt;script&gt;' in missing
    assert header_icons([(None, "a", "a")]) == []  # nothing to show: no row at all
    row = "".join(header_icons([(AppIcon(reference="@0x1", image=image), "a", hostile)]))
    assert "<script>" not in row
