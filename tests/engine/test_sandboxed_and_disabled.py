"""Exported services in isolated processes, disabled exported components, and the risk score.

Android facts the rules follow (AOSP frameworks/base):

* ``android:isolatedProcess`` sets ``ServiceInfo.FLAG_ISOLATED_PROCESS`` and
  ``android:externalService`` ``FLAG_EXTERNAL_SERVICE``
  (core/java/com/android/internal/pm/pkg/component/ParsedServiceUtils.java, ``parseService``).
  The service runs under an isolated UID, and "Isolated processes don't get any
  permissions": ``ActivityManager.checkComponentPermission`` returns PERMISSION_DENIED for
  ``UserHandle.isIsolated(uid)`` before any grant is looked at
  (core/java/android/app/ActivityManager.java). The developer guide: the service "will run
  under a special process that is isolated from the rest of the system and has no
  permissions of its own" (guide/topics/manifest/service-element#isolated). An external
  service runs in the package of the app that binds it (``Context.BIND_EXTERNAL_SERVICE``).
* ``android:enabled="false"`` leaves a component declared but unresolvable until the app
  calls ``PackageManager.setComponentEnabledSetting`` (the app may change its own
  components' state without any permission: PackageManagerService
  ``setEnabledSetting`` checks CHANGE_COMPONENT_ENABLED_STATE only for other packages).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from conftest import FIXTURES
from permaudit.android.platform import platform_for
from permaudit.app import analyse, load_rules
from permaudit.engine import evaluate
from permaudit.engine.risk import NON_CRITICAL_CEILING, SURFACE_SHARE, risk
from permaudit.formatters.json.report import report_json
from permaudit.inputs.loader import load
from permaudit.inputs.text_manifest import read_text_manifest
from permaudit.model import App, Finding, InputInfo, Report, Severity
from permaudit.views.diff import diff

HEAD = ('<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="a.b">'
        '<uses-sdk android:minSdkVersion="26" android:targetSdkVersion="35"/>'
        '<uses-permission android:name="android.permission.INTERNET"/>'
        '<application android:allowBackup="false">')


def _report(body: str) -> Report:
    manifest = read_text_manifest((HEAD + body + "</application></manifest>").encode()).manifest
    app = App(input=InputInfo(path="m.xml", sha256=None, kind="xml", size=1), manifest=manifest)
    return evaluate(app, load_rules(()), platform_for(35))


def test_isolated_and_external_flags_are_read() -> None:
    manifest = read_text_manifest((
        HEAD + '<service android:name=".S" android:exported="true" '
        'android:isolatedProcess="true" android:externalService="true"/>'
        '<service android:name=".P" android:exported="true"/>'
        '<activity android:name=".A" android:isolatedProcess="true"/>'
        "</application></manifest>"
    ).encode()).manifest
    flags = {c.name: (c.isolated_process, c.external_service) for c in manifest.components}
    assert flags == {"a.b.S": (True, True), "a.b.P": (False, False), "a.b.A": (False, False)}


def test_an_exported_isolated_service_is_rated_as_sandboxed() -> None:
    report = _report('<service android:name=".Sandboxed0" android:exported="true" '
                     'android:isolatedProcess="true" android:externalService="true"/>'
                     '<service android:name=".Plain" android:exported="true"/>')
    fired = {(f.rule, f.subject): f for f in report.findings}
    assert set(fired) == {
        ("exported.isolated_service", "service:a.b.Sandboxed0"),
        ("exported.service", "service:a.b.Plain"),
    }
    sandboxed = fired["exported.isolated_service", "service:a.b.Sandboxed0"]
    assert sandboxed.severity is Severity.INFO
    assert "isolated process without any of the app's permissions" in sandboxed.message
    assert "caller's package" in sandboxed.message
    # Only the ordinary exported service adds points.
    assert [c.rule for c in report.risk.contributions] == ["exported.service"]


def test_webview_repack_scores_low(corpus: Path) -> None:
    """fdroidserver's SystemWebView-repack: INTERNET, ACCESS_NETWORK_STATE and
    FOREGROUND_SERVICE only, 40 exported SandboxedProcessService* (isolated, external):
    73/100 before, above WhatsApp; now in the low band and below every messenger."""
    webview = load(str(corpus / "apk" / "SystemWebView-repack.apk"), code=False)
    messengers = [load(str(p), code=False) for p in sorted((FIXTURES / "apk").glob("*.apk"))]
    result = analyse([webview, *messengers], load_rules(()), None)
    web, *others = result.reports
    assert web.capabilities == ()
    rules = [f.rule for f in web.findings]
    assert rules.count("exported.isolated_service") == 40
    assert not any(f.rule == "exported.service" and "SandboxedProcessService" in f.subject
                   for f in web.findings)
    assert web.risk.level == "low" and 0 < web.risk.score < 25
    for other in others:
        assert other.risk.level == "high"
        assert other.risk.score > web.risk.score


def _finding(index: int, severity: Severity, category: str) -> Finding:
    return Finding(rule=f"{category}.r{index}", severity=severity, title="t", subject="s",
                   category=category, message="m", fingerprint=f"{category}{index}")


@given(st.lists(st.sampled_from([Severity.LOW, Severity.MEDIUM, Severity.HIGH]), max_size=80),
       st.sampled_from(["exported", "hardening", "signing", "permissions", "manifest"]))
def test_attack_surface_alone_stays_in_the_low_band(
    severities: list[Severity], category: str
) -> None:
    result = risk([_finding(i, s, category) for i, s in enumerate(severities)])
    assert result.score <= round(NON_CRITICAL_CEILING * SURFACE_SHARE) < 25
    assert sum(g.points for g in result.groups) == result.score


def test_capabilities_are_not_capped_and_surface_still_adds() -> None:
    reach = [_finding(i, Severity.HIGH, "capability") for i in range(4)]
    alone = risk(reach).score
    assert alone == 51  # 74 * (1 - 0.75 ** 4), as before
    more = risk([*reach, _finding(9, Severity.HIGH, "exported")]).score
    assert alone < more
    # A critical finding is never capped, whatever its category.
    assert risk([_finding(1, Severity.CRITICAL, "exported")]).level == "critical"


# --- disabled but exported -----------------------------------------------------------------


def test_a_disabled_exported_receiver_is_one_model_everywhere() -> None:
    body = ('<receiver android:name=".Boot" android:exported="true" android:enabled="false">'
            '<intent-filter><action android:name="android.intent.action.BOOT_COMPLETED"/>'
            "</intent-filter></receiver>")
    report = _report(body)
    (found,) = [f for f in report.findings if f.rule == "exported.receiver"]
    assert found.subject == "receiver:a.b.Boot"
    assert "disabled in the manifest: unreachable until the app enables it" in found.message
    entry = report_json(report)["exported_components"]
    assert entry == [{
        "kind": "receiver", "name": "a.b.Boot", "permission": None, "explicit": True,
        "enabled": False, "isolated_process": False, "external_service": False,
    }]
    enabled = _report(body.replace(' android:enabled="false"', ""))
    changes = {(c.kind, c.subject): c for c in diff(enabled, report).changes}
    assert ("component_exported_removed", "receiver:a.b.Boot") not in changes
    state = changes["component_enabled_changed", "receiver:a.b.Boot"]
    assert (state.old, state.new) == ("enabled", "disabled in the manifest (the app can enable it)")
    added = {(c.kind, c.subject): c for c in diff(_report(""), report).changes}
    fresh = added["component_exported_added", "receiver:a.b.Boot"]
    assert fresh.new == "exported, no permission, disabled until the app enables it"


def test_api_demos_disabled_receivers_are_in_the_json(corpus: Path) -> None:
    """ApiDemos declares ExampleBroadcastReceiver and SmsMessageReceiver exported and
    disabled (aapt dump xmltree: android:enabled=false): they are listed, marked."""
    app = load(str(corpus / "apk" / "ApiDemos-debug.apk"), code=False)
    report = analyse([app], load_rules(()), None).reports[0]
    listed = {c["name"]: c["enabled"] for c in report_json(report)["exported_components"]}
    assert listed["io.appium.android.apis.appwidget.ExampleBroadcastReceiver"] is False
    assert listed["io.appium.android.apis.os.SmsMessageReceiver"] is False
    assert True in listed.values()
