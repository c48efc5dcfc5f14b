"""Rules over code evidence on the real messenger fixtures: which fire, on which subjects."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import REPO
from permaudit.android.platform import platform_for
from permaudit.engine.evaluate import evaluate
from permaudit.inputs.loader import load_inputs
from permaudit.model import Report
from permaudit.rules.ruleset import load_ruleset

APK = REPO / "fixtures" / "apk"


def report(name: str, *rules: Path, code: bool = True) -> Report:
    (app,) = load_inputs([str(APK / name)], code=code)
    return evaluate(app, load_ruleset(rules), platform_for(36))


def fired(rep: Report, prefix: str) -> set[tuple[str, str]]:
    return {(f.rule, f.subject) for f in rep.findings if f.rule.startswith(prefix)}


def test_max_trackers_fire_by_category_with_the_tracker_as_subject() -> None:
    rep = report("max-25.8.1.apk")
    assert fired(rep, "tracker.") == {
        ("tracker.analytics", "tracker:myTracker"),
        ("tracker.analytics", "tracker:OK Tracer"),
        ("tracker.analytics", "tracker:OK Calls SDK analytics"),
    }
    (tracer,) = (f for f in rep.findings if f.subject == "tracker:OK Tracer")
    assert "by VK, RU" in tracer.message and "sdk-api.apptracer.ru" in tracer.message


def test_whatsapp_unrequested_api_is_info_and_clipboard_is_not_flagged() -> None:
    rep = report("whatsapp-2.24.24.78.apk")
    # installed_apps: PackageManager.getInstalledPackages without QUERY_ALL_PACKAGES; the
    # clipboard needs no permission, so referencing it without asking is no contradiction.
    assert fired(rep, "code.") == {("code.unrequested_api", "installed_apps")}
    assert fired(rep, "tracker.") == {("tracker.analytics", "tracker:Meta XAnalytics")}
    assert all(c.rule != "code.unrequested_api" for c in rep.risk.contributions)


def test_telegram_fixture_has_no_code_findings() -> None:
    assert fired(report("telegram-11.13.0.apk"), "tracker.") == set()


def write(tmp_path: Path, when: str) -> Path:
    path = tmp_path / "acme.yml"
    path.write_text(
        "rules:\n  - id: acme.code\n    title: t\n    severity: high\n    rationale: r\n"
        f"    when:\n      {when}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("when", "subjects"),
    [
        ("server_country: RU", {"owner:VK"}),
        ("server_country: [CZ, KR]", {"owner:JetBrains"}),
        ("server_owner: [vk, Google]", {"owner:VK", "owner:Google"}),
        ("tracker: {name: OK Tracer}", {"tracker:OK Tracer"}),
        ("tracker: {category: advertisement}", set()),
        ("code_reference: {capability: microphone}", {"microphone"}),
        ("code_reference: {capability: [microphone, clipboard], requested: false}", set()),
        ("code_reference: {requested: true}",
         {"accounts", "camera", "contacts", "location", "microphone", "screen_capture"}),
    ],
)
def test_user_rules_over_code(tmp_path: Path, when: str, subjects: set[str]) -> None:
    rep = report("max-25.8.1.apk", write(tmp_path, when))
    assert {s for _, s in fired(rep, "acme.")} == subjects


def test_without_code_no_code_rule_fires(tmp_path: Path) -> None:
    rep = report("max-25.8.1.apk", write(tmp_path, "server_country: RU"), code=False)
    assert rep.code_evidence is None
    assert fired(rep, "acme.") == fired(rep, "tracker.") == set()


def test_code_findings_count_in_the_reach_pool() -> None:
    rep = report("max-25.8.1.apk")
    without = report("max-25.8.1.apk", code=False)
    assert rep.risk.score >= without.risk.score  # 3 lows: +0.4 points before rounding
    groups = {(g.severity.label, g.pool.value): g.findings for g in rep.risk.groups}
    old = {(g.severity.label, g.pool.value): g.findings for g in without.risk.groups}
    assert groups[("low", "reach")] == old[("low", "reach")] + 3
