"""The rules engine on hand-built manifests: capabilities, findings, fingerprints, risk."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import TESTS
from permaudit.android.platform import platform_for
from permaudit.engine import evaluate
from permaudit.engine.findings import fingerprint
from permaudit.engine.risk import risk
from permaudit.model import (
    USES_PERMISSION_SDK_23,
    App,
    Application,
    CapabilityHit,
    Component,
    DeclaredPermission,
    Finding,
    IgnoredElement,
    InputInfo,
    IntentFilter,
    Manifest,
    Queries,
    Report,
    Severity,
    UsesPermission,
)
from permaudit.rules.model import RuleSet
from permaudit.rules.ruleset import load_ruleset

PACKAGE = "org.example.app"
DATA = TESTS / "data" / "rules"
BOOT = "android.intent.action.BOOT_COMPLETED"
LAUNCHER = IntentFilter(
    actions=("android.intent.action.MAIN",), categories=("android.intent.category.LAUNCHER",)
)


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset()


def perm(name: str, **fields: object) -> UsesPermission:
    """A request of ``android.permission.<name>`` (or of a full name)."""
    full = name if "." in name else f"android.permission.{name}"
    return UsesPermission(name=full, **fields)  # type: ignore[arg-type]


def component(kind: str, name: str, *, exported: bool = True, **fields: object) -> Component:
    fields.setdefault("exported_explicit", exported)
    return Component(kind=kind, name=f"{PACKAGE}.{name}", exported=exported,
                     **fields)  # type: ignore[arg-type]


def make_app(**fields: object) -> App:
    """An app targeting API 35 with backup rules, plus ``fields`` of its manifest."""
    defaults: dict[str, object] = {
        "package": PACKAGE, "min_sdk": 21, "target_sdk": 35,
        "application": Application(data_extraction_rules=True),
    }
    manifest = Manifest(**{**defaults, **fields})  # type: ignore[arg-type]
    info = InputInfo(path="app.apk", sha256="0" * 64, kind="apk", size=1)
    return App(input=info, manifest=manifest)


def run(ruleset: RuleSet, device_sdk: int = 35, **fields: object) -> Report:
    return evaluate(make_app(**fields), ruleset, platform_for(device_sdk))


def fired(report: Report) -> set[tuple[str, str]]:
    """(rule, subject) of every finding."""
    return {(f.rule, f.subject) for f in report.findings}


def hit(report: Report, capability_id: str) -> CapabilityHit:
    matches = [h for h in report.capabilities if h.id == capability_id]
    assert matches, f"{capability_id} not reached: {[h.id for h in report.capabilities]}"
    return matches[0]


def reached(report: Report) -> set[str]:
    return {h.id for h in report.capabilities}


# --- capabilities -----------------------------------------------------------------------------


def test_a_quiet_app_has_no_findings_and_no_risk(ruleset: RuleSet) -> None:
    report = run(ruleset, uses_permissions=(perm("INTERNET"),))
    assert report.findings == ()
    assert report.capabilities == ()
    assert (report.risk.score, report.risk.level) == (0, "none")
    assert [p.name for p in report.permissions] == ["android.permission.INTERNET"]


def test_permission_reaches_capability_with_access_label(ruleset: RuleSet) -> None:
    report = run(ruleset, uses_permissions=(perm("RECORD_AUDIO", line=7),))
    mic = hit(report, "microphone")
    assert mic.via == ("android.permission.RECORD_AUDIO",)
    assert (mic.access, mic.notes) == (("record",), ())
    assert mic.severity is Severity.HIGH
    assert fired(report) == {("capability.microphone", "microphone")}
    (finding,) = report.findings
    assert finding.category == "capability"
    assert finding.line == 7
    assert finding.message == "Microphone (record) via RECORD_AUDIO"
    assert report.permissions[0].capabilities == ("microphone",)


def test_access_labels_are_collected_in_ruleset_order(ruleset: RuleSet) -> None:
    report = run(ruleset, uses_permissions=(
        perm("ACCESS_COARSE_LOCATION"), perm("ACCESS_FINE_LOCATION"),
        perm("READ_MEDIA_AUDIO"), perm("MANAGE_EXTERNAL_STORAGE"),
    ))
    assert hit(report, "location").access == ("precise", "approximate")
    assert hit(report, "files").access == ("all files", "audio")


def test_sdk23_only_request_is_noted_and_absent_below_23(ruleset: RuleSet) -> None:
    request = perm("READ_CONTACTS", element=USES_PERMISSION_SDK_23)
    report = run(ruleset, uses_permissions=(request,))
    assert hit(report, "contacts").notes == ("READ_CONTACTS: only through uses-permission-sdk-23",)
    old = run(ruleset, device_sdk=22, uses_permissions=(request,))
    assert "contacts" not in reached(old)
    assert ("capability.contacts", "contacts") not in fired(old)


def test_max_sdk_request_is_noted_and_absent_above_it(ruleset: RuleSet) -> None:
    request = perm("WRITE_EXTERNAL_STORAGE", max_sdk=28)
    report = run(ruleset, device_sdk=28, uses_permissions=(request,))
    files = hit(report, "files")
    # Android adds READ_EXTERNAL_STORAGE for WRITE_EXTERNAL_STORAGE, with the same limit.
    assert files.notes == (
        "READ_EXTERNAL_STORAGE: implied (split from WRITE_EXTERNAL_STORAGE (every target SDK))",
        "READ_EXTERNAL_STORAGE: only up to API 28 (maxSdkVersion)",
        "WRITE_EXTERNAL_STORAGE: only up to API 28 (maxSdkVersion)",
    )
    assert files.access == ("legacy storage",)
    assert "files" not in reached(run(ruleset, device_sdk=29, uses_permissions=(request,)))


def test_caveats_are_dropped_when_another_route_is_unconditional(ruleset: RuleSet) -> None:
    report = run(ruleset, uses_permissions=(
        perm("ACCESS_FINE_LOCATION"),
        perm("ACCESS_COARSE_LOCATION", element=USES_PERMISSION_SDK_23),
    ))
    assert hit(report, "location").notes == ()


def test_implied_permission_is_noted_with_the_target_sdk(ruleset: RuleSet) -> None:
    fields = {"target_sdk": 28, "uses_permissions": (perm("ACCESS_FINE_LOCATION"),)}
    report = run(ruleset, device_sdk=34, **fields)
    background = hit(report, "background_location")
    assert background.via == ("android.permission.ACCESS_BACKGROUND_LOCATION",)
    assert background.notes == ("ACCESS_BACKGROUND_LOCATION: implied by targetSdk 28",)
    assert "background" in hit(report, "location").access
    assert hit(report, "location").notes == ()
    # Android 9 has no background location permission to split off.
    assert "background_location" not in reached(run(ruleset, device_sdk=28, **fields))


def test_signature_permission_reaches_no_capability_but_is_reported(ruleset: RuleSet) -> None:
    report = run(ruleset, uses_permissions=(perm("INSTALL_PACKAGES"),))
    assert "install_packages" not in reached(report)
    assert fired(report) == {
        ("permissions.signature_requested", "android.permission.INSTALL_PACKAGES"),
    }
    special = run(ruleset, uses_permissions=(perm("REQUEST_INSTALL_PACKAGES"),))
    assert hit(special, "install_packages").access == ("install",)


def test_accessibility_service_feature(ruleset: RuleSet) -> None:
    service = component("service", "Helper",
                        permission="android.permission.BIND_ACCESSIBILITY_SERVICE", line=12)
    report = run(ruleset, components=(service,))
    accessibility = hit(report, "accessibility")
    assert accessibility.via == ("service:org.example.app.Helper",)
    assert accessibility.access == ("read and control the screen",)
    assert fired(report) == {("capability.accessibility", "accessibility")}
    assert report.findings[0].line == 12


@pytest.mark.parametrize(
    ("kind", "permission", "capability"),
    [
        ("service", "android.permission.BIND_NOTIFICATION_LISTENER_SERVICE", "notification_access"),
        ("receiver", "android.permission.BIND_DEVICE_ADMIN", "device_admin"),
        ("service", "android.permission.BIND_VPN_SERVICE", "vpn"),
    ],
)
def test_guarded_component_features(
    ruleset: RuleSet, kind: str, permission: str, capability: str
) -> None:
    report = run(ruleset, components=(component(kind, "Thing", permission=permission),))
    assert reached(report) == {capability}
    assert hit(report, capability).via == (f"{kind}:org.example.app.Thing",)


def test_disabled_component_still_counts_with_a_note(ruleset: RuleSet) -> None:
    service = component("service", "Vpn", permission="android.permission.BIND_VPN_SERVICE",
                        enabled=False)
    vpn = hit(run(ruleset, components=(service,)), "vpn")
    assert vpn.notes == ("service:org.example.app.Vpn: disabled in the manifest "
                         "(the app can enable it)",)


def test_boot_receiver_with_the_permission(ruleset: RuleSet) -> None:
    receiver = component("receiver", "Boot", intent_filters=(IntentFilter(actions=(BOOT,)),))
    report = run(ruleset, uses_permissions=(perm("RECEIVE_BOOT_COMPLETED"),),
                 components=(receiver,))
    assert hit(report, "boot").via == (
        "android.permission.RECEIVE_BOOT_COMPLETED", "receiver:org.example.app.Boot",
    )
    assert fired(report) == {
        ("capability.boot", "boot"),
        ("exported.receiver", "receiver:org.example.app.Boot"),
    }


def test_boot_receiver_without_the_permission_never_starts(ruleset: RuleSet) -> None:
    # Android delivers BOOT_COMPLETED only to holders of RECEIVE_BOOT_COMPLETED.
    receiver = component("receiver", "Boot", exported=False,
                         intent_filters=(IntentFilter(actions=(BOOT,)),))
    report = run(ruleset, components=(receiver,))
    assert "boot" not in reached(report)
    assert report.findings == ()


def test_foreground_service_type_widens_but_never_grants(ruleset: RuleSet) -> None:
    service = component("service", "Recorder", exported=False,
                        foreground_service_types=("microphone",))
    assert "microphone" not in reached(run(ruleset, components=(service,)))
    report = run(ruleset, components=(service,), uses_permissions=(
        perm("RECORD_AUDIO"), perm("FOREGROUND_SERVICE_MICROPHONE")))
    mic = hit(report, "microphone")
    assert mic.access == ("record", "in the background")
    assert mic.via == ("android.permission.RECORD_AUDIO", "service:org.example.app.Recorder")


def test_query_all_packages_and_launcher_query(ruleset: RuleSet) -> None:
    report = run(ruleset, uses_permissions=(perm("QUERY_ALL_PACKAGES"),))
    assert hit(report, "installed_apps").access == ("all apps",)
    queries = Queries(intents=(LAUNCHER,), packages=("com.bank",))
    launcher = hit(run(ruleset, queries=queries), "installed_apps")
    assert launcher.via == ("queries:android.intent.action.MAIN+android.intent.category.LAUNCHER",)
    assert launcher.access == ("all launchable apps",)
    named_only = Queries(packages=("com.bank",),
                         intents=(IntentFilter(actions=("android.intent.action.SEND",)),))
    assert "installed_apps" not in reached(run(ruleset, queries=named_only))


def test_capabilities_are_sorted_most_severe_first(ruleset: RuleSet) -> None:
    report = run(ruleset, uses_permissions=(
        perm("POST_NOTIFICATIONS"), perm("READ_CALENDAR"), perm("CAMERA"), perm("USE_BIOMETRIC"),
    ))
    assert [h.id for h in report.capabilities] == ["camera", "calendar", "notifications",
                                                    "biometric"]


# --- rules beyond single permissions ----------------------------------------------------------


def test_exported_components_honour_exported_permission_and_launcher(ruleset: RuleSet) -> None:
    components = (
        component("activity", "Main", intent_filters=(LAUNCHER,)),
        component("activity", "Share"),
        component("activity", "Internal", exported=False),
        component("service", "Open"),
        component("service", "Private", exported=False),
        component("service", "Guarded", permission="android.permission.BIND_JOB_SERVICE"),
        component("receiver", "Implied", exported_explicit=None,
                  intent_filters=(IntentFilter(actions=("org.example.PING",)),)),
        component("provider", "ReadGuarded", read_permission="org.example.app.READ"),
        component("provider", "Open"),
    )
    report = run(ruleset, target_sdk=35, components=components)
    assert fired(report) == {
        ("exported.activity", "activity:org.example.app.Share"),
        ("exported.service", "service:org.example.app.Open"),
        ("exported.receiver", "receiver:org.example.app.Implied"),
        ("exported.provider", "provider:org.example.app.Open"),
    }
    messages = {f.subject: f.message for f in report.findings}
    assert messages["receiver:org.example.app.Implied"] == (
        "receiver org.example.app.Implied is exported by its intent filter and requires no "
        "permission"
    )


def test_weak_custom_permission_guarding_an_exported_component(ruleset: RuleSet) -> None:
    permissions = (
        DeclaredPermission(name="org.example.app.CONTROL", protection=("normal",), line=4),
        DeclaredPermission(name="org.example.app.ADMIN", protection=("signature",)),
        DeclaredPermission(name="org.example.app.UNUSED", protection=("dangerous",)),
    )
    components = (
        component("service", "Control", permission="org.example.app.CONTROL"),
        component("service", "Admin", permission="org.example.app.ADMIN"),
    )
    report = run(ruleset, permissions=permissions, components=components)
    assert fired(report) == {("permissions.weak_custom_permission", "org.example.app.CONTROL")}
    (finding,) = report.findings
    assert finding.line == 4
    assert finding.message == (
        "org.example.app.CONTROL has protectionLevel normal and guards "
        "service:org.example.app.Control"
    )


@pytest.mark.parametrize(
    ("application", "expected"),
    [
        (Application(debuggable=True, data_extraction_rules=True),
         {("hardening.debuggable", "android:debuggable")}),
        (Application(test_only=True, data_extraction_rules=True),
         {("hardening.test_only", "android:testOnly")}),
        (Application(request_legacy_external_storage=True, full_backup_content=True),
         {("hardening.legacy_external_storage", "android:requestLegacyExternalStorage")}),
        (Application(), {("hardening.backup_without_rules", "android:allowBackup")}),
        (Application(allow_backup=False), set()),
        (Application(uses_cleartext_traffic=True, data_extraction_rules=True),
         {("hardening.cleartext_traffic", "android:usesCleartextTraffic")}),
        (Application(uses_cleartext_traffic=False, data_extraction_rules=True), set()),
    ],
)
def test_application_flags(
    ruleset: RuleSet, application: Application, expected: set[tuple[str, str]]
) -> None:
    assert fired(run(ruleset, application=application)) == expected


def test_debuggable_message_comes_from_yaml(ruleset: RuleSet) -> None:
    report = run(ruleset, application=Application(debuggable=True, data_extraction_rules=True))
    assert report.findings[0].message == (
        "android:debuggable=true: anyone with a USB cable can read the app's private data"
    )


def test_cleartext_by_default_only_for_old_targets_without_a_config(ruleset: RuleSet) -> None:
    old = {"target_sdk": 27, "application": Application(data_extraction_rules=True)}
    report = run(ruleset, **old)
    assert ("hardening.cleartext_traffic", "android:usesCleartextTraffic") in fired(report)
    message = {f.rule: f.message for f in report.findings}["hardening.cleartext_traffic"]
    assert message == ("android:usesCleartextTraffic is not set and defaults to true for "
                       "targetSdk 27 (below 28)")
    configured = Application(data_extraction_rules=True, network_security_config=True)
    assert "hardening.cleartext_traffic" not in {
        f.rule for f in run(ruleset, target_sdk=27, application=configured).findings
    }
    current = run(ruleset, target_sdk=28)
    assert "hardening.cleartext_traffic" not in {f.rule for f in current.findings}


def test_target_sdk_below_play_minimum(ruleset: RuleSet) -> None:
    report = run(ruleset, target_sdk=34)
    assert fired(report) == {("hardening.target_sdk_below_play_minimum", "targetSdkVersion")}
    assert report.findings[0].message == "targetSdkVersion 34 is below 35"
    assert run(ruleset, target_sdk=35).findings == ()


def test_shared_user_id(ruleset: RuleSet) -> None:
    report = run(ruleset, shared_user_id="org.example.shared")
    assert fired(report) == {("hardening.shared_user_id", "android:sharedUserId")}
    assert report.findings[0].message == 'android:sharedUserId="org.example.shared"'


def test_ignored_permission_elements(ruleset: RuleSet) -> None:
    ignored = (
        IgnoredElement(tag="uses-permission", parent="manifest/application",
                       name="android.permission.READ_SMS", line=30),
        IgnoredElement(tag="service", parent="manifest/application/activity", name="x.Y"),
    )
    report = run(ruleset, ignored=ignored)
    assert fired(report) == {
        ("manifest.ignored_permission",
         "manifest/application/uses-permission:android.permission.READ_SMS"),
    }
    assert report.findings[0].severity is Severity.INFO
    assert report.findings[0].message == (
        "<uses-permission android.permission.READ_SMS> inside <application> is never read by "
        "Android"
    )
    assert "sms" not in reached(report)


# --- combinations -------------------------------------------------------------------------


def spy_app_fields() -> dict[str, object]:
    return {
        "uses_permissions": (perm("RECORD_AUDIO"), perm("ACCESS_FINE_LOCATION"),
                             perm("RECEIVE_BOOT_COMPLETED"), perm("READ_SMS")),
        "components": (component("service", "Helper", exported=True,
                                 permission="android.permission.BIND_ACCESSIBILITY_SERVICE"),),
    }


def test_stalkerware_and_banking_trojan_combinations(ruleset: RuleSet) -> None:
    report = run(ruleset, **spy_app_fields())
    found = fired(report)
    assert ("combination.stalkerware", "microphone+location+boot+accessibility") in found
    assert ("combination.sms_accessibility", "sms+accessibility") in found
    assert "combination.overlay_accessibility" not in {rule for rule, _ in found}
    assert report.findings[0].severity is Severity.CRITICAL
    assert report.risk.level == "critical"


def test_combination_needs_every_capability(ruleset: RuleSet) -> None:
    fields = spy_app_fields()
    fields["uses_permissions"] = (perm("RECORD_AUDIO"), perm("ACCESS_FINE_LOCATION"))
    rules = {rule for rule, _ in fired(run(ruleset, **fields))}
    assert "combination.stalkerware" not in rules


# --- overrides, determinism, identity -------------------------------------------------------


def test_user_override_changes_severity_but_not_identity(ruleset: RuleSet) -> None:
    fields = {"application": Application(debuggable=True, data_extraction_rules=True),
              "uses_permissions": (perm("SEND_SMS"),)}
    base = run(ruleset, **fields)
    custom = run(load_ruleset([DATA / "override.yml"]), **fields)
    before = {f.rule: f for f in base.findings}
    after = {f.rule: f for f in custom.findings}
    assert before["hardening.debuggable"].severity is Severity.HIGH
    assert after["hardening.debuggable"].severity is Severity.CRITICAL
    assert after["hardening.debuggable"].fingerprint == before["hardening.debuggable"].fingerprint
    assert after["acme.no_sms"].message == "org.example.app requests android.permission.SEND_SMS"
    assert "acme.no_sms" not in before


def test_disabled_capability_is_neither_reached_nor_mapped() -> None:
    custom = load_ruleset([DATA / "override.yml"])
    report = run(custom, uses_permissions=(perm("USE_BIOMETRIC"),))
    assert report.capabilities == ()
    assert report.permissions[0].capabilities == ()


def test_fingerprint_is_rule_package_and_subject_only() -> None:
    expected = hashlib.sha256(b"exported.service\0org.example.app\0service:x.Y").hexdigest()[:32]
    assert fingerprint("exported.service", "org.example.app", "service:x.Y") == expected
    assert fingerprint("a", "b", "c") != fingerprint("a", "b", "d")
    assert fingerprint("a", "b\0c", "") != fingerprint("a", "b", "c")


def test_evaluation_is_deterministic_and_independent_of_manifest_order(
    ruleset: RuleSet,
) -> None:
    fields = spy_app_fields()
    fields["components"] = (*fields["components"],  # type: ignore[misc]
                            component("service", "A"), component("receiver", "B"))
    first = run(ruleset, **fields)
    assert run(ruleset, **fields) == first
    shuffled = dict(fields)
    shuffled["components"] = tuple(reversed(fields["components"]))  # type: ignore[call-overload]
    shuffled["uses_permissions"] = tuple(reversed(fields["uses_permissions"]))  # type: ignore[call-overload]
    second = run(ruleset, **shuffled)
    assert second.findings == first.findings
    assert second.capabilities == first.capabilities
    assert second.risk == first.risk
    severities = [-int(f.severity) for f in first.findings]
    assert severities == sorted(severities)
    assert len({f.fingerprint for f in first.findings}) == len(first.findings)


# --- risk -----------------------------------------------------------------------------------


def finding(index: int, severity: Severity) -> Finding:
    return Finding(rule=f"test.rule{index:03d}", severity=severity, title="t", subject="s",
                   category="test", message="m", fingerprint=str(index))


def findings_of(*severities: Severity) -> list[Finding]:
    return [finding(i, s) for i, s in enumerate(severities)]


@pytest.mark.parametrize(
    ("severities", "score", "level"),
    [
        ((), 0, "none"),
        ((Severity.INFO,) * 5, 0, "none"),
        ((Severity.LOW,), 1, "low"),
        ((Severity.LOW,) * 50, 47, "medium"),
        ((Severity.MEDIUM,), 6, "low"),
        ((Severity.HIGH,), 19, "low"),
        ((Severity.HIGH,) * 2, 32, "medium"),
        ((Severity.HIGH,) * 4, 51, "high"),
        ((Severity.HIGH,) * 7, 64, "high"),
        ((Severity.HIGH,) * 8, 67, "high"),
        ((Severity.HIGH,) * 9 + (Severity.MEDIUM,) * 9 + (Severity.LOW,) * 9, 72, "high"),
        ((Severity.CRITICAL,), 88, "critical"),
        ((Severity.CRITICAL, Severity.HIGH), 91, "critical"),
        ((Severity.CRITICAL,) * 2, 94, "critical"),
    ],
)
def test_risk_examples(severities: tuple[Severity, ...], score: int, level: str) -> None:
    result = risk(findings_of(*severities))
    assert (result.score, result.level) == (score, level)
    assert sum(g.points for g in result.groups) == score


def test_contributions_name_each_finding_in_report_order() -> None:
    # 91 = 75 (the critical base, all the critical finding's) + 16, divided by the
    # logarithms of the three factors: 16 * (0.6931, 0.2877, 0.0202) / 1.0010.
    result = risk(findings_of(Severity.LOW, Severity.CRITICAL, Severity.HIGH))
    assert result.score == 91
    assert [(c.rule, c.points) for c in result.contributions] == [
        ("test.rule001", 86.08), ("test.rule002", 4.60), ("test.rule000", 0.32),
    ]
    assert [(g.severity, g.points) for g in result.groups] == [
        (Severity.CRITICAL, 86), (Severity.HIGH, 5), (Severity.LOW, 0),
    ]


def test_alike_findings_get_equal_points_whatever_their_order() -> None:
    """Issue 14: marginal points gave alike findings [+1], nothing, [+1]."""
    severities = (Severity.HIGH,) * 8 + (Severity.MEDIUM,) * 3 + (Severity.LOW,) * 3
    forward = risk(findings_of(*severities))
    backward = risk(list(reversed(findings_of(*severities))))
    assert forward.groups == backward.groups
    severity_of = {f.rule: f.severity for f in findings_of(*severities)}
    by_severity: dict[Severity, set[float]] = {}
    for c in forward.contributions:
        by_severity.setdefault(severity_of[c.rule], set()).add(c.points)
    assert all(len(points) == 1 for points in by_severity.values())
    # 69 = 74 * (1 - .75**8 * .92**3 * .98**3), rounded
    assert sum(g.points for g in forward.groups) == forward.score == 69


severity_lists = st.lists(st.sampled_from(list(Severity)), max_size=40)


@given(severity_lists, st.sampled_from(list(Severity)))
def test_adding_a_finding_never_lowers_the_score(
    severities: list[Severity], extra: Severity
) -> None:
    before = risk(findings_of(*severities))
    after = risk(findings_of(*severities, extra))
    assert 0 <= before.score <= after.score <= 100
    assert sum(g.points for g in after.groups) == after.score
    assert abs(sum(c.points for c in after.contributions) - after.score) <= 0.005 * len(
        after.contributions) + 1e-9
    assert all(c.points > 0 for c in after.contributions)
    assert all(g.points >= 0 for g in after.groups)


@given(severity_lists)
def test_critical_band_needs_a_critical_finding(severities: list[Severity]) -> None:
    result = risk(findings_of(*severities))
    assert (result.level == "critical") <= (Severity.CRITICAL in severities)
    assert (result.score == 0) == (result.level == "none")


def test_report_risk_matches_its_findings(ruleset: RuleSet) -> None:
    report = run(ruleset, **spy_app_fields())
    assert report.risk == risk(report.findings)
