"""Unit tests of the pure gate: decide() and decide_against() on reports built by hand."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from permaudit.ci import baseline as baselines
from permaudit.ci import gate, rule_docs
from permaudit.ci.policy import parse_policy
from permaudit.formatters.summary import summary_line
from permaudit.model import (
    USES_PERMISSION,
    USES_PERMISSION_SDK_23,
    App,
    CapabilityHit,
    Finding,
    InputInfo,
    Manifest,
    PermissionAccess,
    Report,
    Risk,
    RulesetInfo,
    ScanResult,
    Severity,
)

PACKAGE = "com.example.app"
MIC = "android.permission.RECORD_AUDIO"
CAMERA = "android.permission.CAMERA"
FINE = "android.permission.ACCESS_FINE_LOCATION"
COARSE = "android.permission.ACCESS_COARSE_LOCATION"
SMS = "android.permission.SEND_SMS"

CAPABILITY_OF = {
    MIC: "microphone",
    CAMERA: "camera",
    FINE: "location",
    COARSE: "location",
    SMS: "sms",
}
SEVERITY_OF = {
    "microphone": Severity.HIGH,
    "camera": Severity.HIGH,
    "location": Severity.HIGH,
    "sms": Severity.CRITICAL,
}


def perm(
    name: str, element: str = USES_PERMISSION, max_sdk: int | None = None, applies: bool = True
) -> PermissionAccess:
    """A permission row as the engine would report it."""
    capability = CAPABILITY_OF.get(name)
    return PermissionAccess(
        name=name,
        element=element,
        max_sdk=max_sdk,
        applies=applies,
        protection=("dangerous",),
        protection_class="runtime",
        capabilities=(capability,) if capability else (),
    )


def finding(
    rule: str,
    subject: str,
    severity: Severity = Severity.HIGH,
    package: str = PACKAGE,
    line: int | None = None,
) -> Finding:
    """A finding with the engine's fingerprint convention (rule + package + subject)."""
    return Finding(
        rule=rule,
        severity=severity,
        title=rule.split(".")[-1].capitalize(),
        subject=subject,
        category="capability",
        message=f"{package} reaches {subject}",
        fingerprint=f"fp:{rule}:{package}:{subject}",
        line=line,
    )


def make_report(
    permissions: Sequence[PermissionAccess],
    extra_findings: Sequence[Finding] = (),
    *,
    package: str = PACKAGE,
    score: int = 40,
    access: dict[str, tuple[str, ...]] | None = None,
    path: str = "app.apk",
    device_sdk: int = 36,
) -> Report:
    """A report whose capabilities and capability findings follow from ``permissions``."""
    applying = [p for p in permissions if p.applies]
    capabilities: dict[str, list[str]] = {}
    for row in applying:
        for cap in row.capabilities:
            capabilities.setdefault(cap, []).append(row.name)
    hits = tuple(
        CapabilityHit(
            id=cap,
            title=cap.capitalize(),
            severity=SEVERITY_OF[cap],
            via=tuple(via),
            access=(access or {}).get(cap, ()),
        )
        for cap, via in sorted(capabilities.items())
    )
    findings = tuple(
        finding(f"capability.{hit.id}", hit.id, hit.severity, package) for hit in hits
    ) + tuple(extra_findings)
    return Report(
        app=App(
            input=InputInfo(path=path, sha256="0" * 64, kind="apk", size=1234),
            manifest=Manifest(
                package=package, version_name="1.0", version_code=1, min_sdk=24, target_sdk=34
            ),
        ),
        device_sdk=device_sdk,
        permissions=tuple(permissions),
        capabilities=hits,
        findings=findings,
        risk=Risk(score=score, level="medium"),
    )


def check_result(verdicts: Sequence[gate.Verdict], **kwargs: object) -> gate.CheckResult:
    """A CheckResult around ``verdicts``, as the CLI builds it."""
    scan = ScanResult(
        tool_version="0.1.0",
        ruleset=RulesetInfo(id="test", sha256="a" * 64),
        device_sdk=36,
        reports=tuple(v.report for v in verdicts),
    )
    return gate.CheckResult(
        scan=scan,
        verdicts=tuple(verdicts),
        fail_on=verdicts[0].fail_on if verdicts else Severity.HIGH,
        rules=gate.rule_docs((), verdicts),
        **kwargs,
    )  # type: ignore[arg-type]


def status_of(verdict: gate.Verdict) -> dict[tuple[str, str], str]:
    """(rule, subject) -> status of every item."""
    return {(i.rule, i.subject): i.status for i in verdict.items}


POLICY_NONE = parse_policy("", "p.yml")


# --- thresholds and overrides -------------------------------------------------------------


def test_finding_at_threshold_fails_and_below_passes() -> None:
    report = make_report([perm(MIC)], [finding("exported.service", "service:x.Y", Severity.MEDIUM)])
    verdict = gate.decide(report, POLICY_NONE, None, fail_on=Severity.HIGH)
    assert not verdict.passed
    assert status_of(verdict) == {
        ("capability.microphone", "microphone"): gate.FAIL,
        ("exported.service", "service:x.Y"): gate.BELOW,
    }
    assert [i.rule for i in verdict.failing] == ["capability.microphone"]
    relaxed = gate.decide(report, POLICY_NONE, None, fail_on=Severity.CRITICAL)
    assert relaxed.passed
    strict = gate.decide(report, POLICY_NONE, None, fail_on=Severity.MEDIUM)
    assert {i.rule for i in strict.failing} == {"capability.microphone", "exported.service"}


def test_no_findings_passes() -> None:
    verdict = gate.decide(make_report([]), POLICY_NONE, None, fail_on=Severity.INFO)
    assert verdict.passed
    assert verdict.items == ()


def test_severity_override_and_disabled_rule() -> None:
    policy = parse_policy(
        "rules:\n  severity: {capability.microphone: low}\n  disable: [capability.camera]\n",
        "p.yml",
    )
    verdict = gate.decide(make_report([perm(MIC), perm(CAMERA)]), policy, None)
    assert verdict.passed
    items = {i.rule: i for i in verdict.items}
    assert items["capability.microphone"].status == gate.BELOW
    assert items["capability.microphone"].severity == Severity.LOW
    assert items["capability.microphone"].rule_severity == Severity.HIGH
    assert items["capability.camera"].status == gate.DISABLED
    raised = parse_policy("rules:\n  severity: {exported.service: critical}\n", "p.yml")
    report = make_report([], [finding("exported.service", "service:x.Y", Severity.LOW)])
    assert not gate.decide(report, raised, None).passed


# --- allow --------------------------------------------------------------------------------


def test_allowed_capability_passes_with_its_justification() -> None:
    policy = parse_policy(
        "allow:\n  - capability: microphone\n    justification: Voice messages and calls.\n",
        "p.yml",
    )
    verdict = gate.decide(make_report([perm(MIC)]), policy, None)
    assert verdict.passed
    (item,) = verdict.items
    assert item.status == gate.ACCEPTED
    assert item.justification == "Voice messages and calls."
    assert item.reason == "accepted by policy (capability microphone)"


def test_allowed_permission_accepts_the_capability_it_alone_gives() -> None:
    policy = parse_policy(
        f"allow:\n  - permission: {FINE}\n    justification: Share live location.\n", "p.yml"
    )
    only_fine = gate.decide(make_report([perm(FINE)]), policy, None)
    assert only_fine.passed
    assert only_fine.items[0].justification == "Share live location."
    # COARSE also gives location and is not allowed: the capability is not accepted.
    both = gate.decide(make_report([perm(FINE), perm(COARSE)]), policy, None)
    assert not both.passed
    assert both.failing[0].rule == "capability.location"


def test_allowed_capability_accepts_a_permission_finding() -> None:
    policy = parse_policy(
        "allow:\n  - capability: camera\n    justification: Scanning QR codes.\n", "p.yml"
    )
    report = make_report([perm(CAMERA)], [finding("permissions.something", CAMERA, Severity.HIGH)])
    verdict = gate.decide(report, policy, None)
    assert status_of(verdict)[("permissions.something", CAMERA)] == gate.ACCEPTED


# --- deny and max_score -------------------------------------------------------------------


def test_deny_fails_whatever_the_severity_and_baseline() -> None:
    policy = parse_policy("deny:\n  - sms\n  - android.permission.READ_SMS\n", "p.yml")
    report = make_report([perm(SMS)], score=10)
    accepted_all = baselines.from_reports([report])
    verdict = gate.decide(report, policy, accepted_all, fail_on=Severity.CRITICAL)
    assert not verdict.passed
    statuses = status_of(verdict)
    assert statuses[("capability.sms", "sms")] == gate.BASELINED
    assert statuses[(gate.RULE_DENY, "sms")] == gate.FAIL
    # READ_SMS is not requested: no item for it.
    assert (gate.RULE_DENY, "android.permission.READ_SMS") not in statuses


def test_deny_of_a_permission_that_does_not_apply_on_the_device_passes() -> None:
    policy = parse_policy(f"deny:\n  - {SMS}\n", "p.yml")
    report = make_report([perm(SMS, max_sdk=22, applies=False)])
    assert gate.decide(report, policy, None).passed


def test_max_score() -> None:
    policy = parse_policy("max_score: 50\n", "p.yml")
    assert gate.decide(make_report([], score=50), policy, None).passed
    verdict = gate.decide(make_report([], score=51), policy, None)
    assert [(i.rule, i.reason) for i in verdict.failing] == [
        (gate.RULE_MAX_SCORE, "score 51 > max_score 50")
    ]


# --- baseline -----------------------------------------------------------------------------


def test_baseline_accepts_known_findings_and_fails_new_ones() -> None:
    old = make_report([perm(CAMERA)])
    new = make_report([perm(CAMERA), perm(MIC)])
    verdict = gate.decide(new, POLICY_NONE, baselines.from_reports([old]))
    assert status_of(verdict) == {
        ("capability.camera", "camera"): gate.BASELINED,
        ("capability.microphone", "microphone"): gate.FAIL,
    }
    assert verdict.failing[0].reason == "new since baseline"
    assert verdict.compared_to == "baseline"


def test_baseline_of_another_package_does_not_cover() -> None:
    other = make_report([perm(MIC)], package="org.other")
    verdict = gate.decide(make_report([perm(MIC)]), POLICY_NONE, baselines.from_reports([other]))
    assert not verdict.passed


@pytest.mark.parametrize(
    ("before", "after", "why"),
    [
        (
            perm(MIC, max_sdk=28),
            perm(MIC),
            "RECORD_AUDIO requested on all API levels (was API 1-28)",
        ),
        (perm(MIC, max_sdk=28), perm(MIC, max_sdk=30), "on API 1-30 (was API 1-28)"),
        (perm(MIC, USES_PERMISSION_SDK_23), perm(MIC), "all API levels (was API 23+)"),
    ],
)
def test_broadened_permission_fails_despite_the_baseline(
    before: PermissionAccess, after: PermissionAccess, why: str
) -> None:
    verdict = gate.decide(
        make_report([after], [finding("permissions.mic", MIC)]),
        POLICY_NONE,
        baselines.from_reports([make_report([before], [finding("permissions.mic", MIC)])]),
    )
    failing = {i.rule: i.reason for i in verdict.failing}
    assert why in failing["permissions.mic"]
    assert failing["permissions.mic"].startswith("broadened since baseline: ")


def test_narrowed_permission_stays_in_baseline() -> None:
    verdict = gate.decide(
        make_report([perm(MIC, max_sdk=28)], [finding("permissions.mic", MIC)]),
        POLICY_NONE,
        baselines.from_reports([make_report([perm(MIC)], [finding("permissions.mic", MIC)])]),
    )
    assert verdict.passed


def test_capability_reached_further_or_through_a_new_permission_fails() -> None:
    base = baselines.from_reports(
        [make_report([perm(COARSE)], access={"location": ("approximate",)})]
    )
    further = make_report([perm(COARSE)], access={"location": ("approximate", "background")})
    assert gate.decide(further, POLICY_NONE, base).failing[0].reason == (
        "broadened since baseline: location now reaches background"
    )
    through_fine = make_report([perm(COARSE), perm(FINE)], access={"location": ("approximate",)})
    assert gate.decide(through_fine, POLICY_NONE, base).failing[0].reason == (
        f"broadened since baseline: location now also through {FINE}"
    )
    same = make_report([perm(COARSE)], access={"location": ("approximate",)})
    assert gate.decide(same, POLICY_NONE, base).passed


def test_policy_acceptance_wins_over_baseline_status() -> None:
    policy = parse_policy("allow:\n  - capability: microphone\n    justification: calls\n", "p.yml")
    verdict = gate.decide(make_report([perm(MIC)]), policy, baselines.Baseline())
    assert verdict.items[0].status == gate.ACCEPTED


# --- against an old build -----------------------------------------------------------------


def test_against_fails_only_on_what_changed() -> None:
    old = make_report([perm(CAMERA)], path="old.apk")
    new = make_report([perm(CAMERA), perm(MIC)], path="new.apk")
    verdict = gate.decide_against(old, new, POLICY_NONE, fail_on=Severity.HIGH)
    statuses = status_of(verdict)
    assert statuses[("capability.camera", "camera")] == gate.UNCHANGED
    assert statuses[("capability.microphone", "microphone")] == gate.FAIL
    assert verdict.compared_to == "old.apk"
    assert gate.decide_against(old, old, POLICY_NONE).passed


def test_against_fails_on_a_widened_max_sdk_of_a_known_finding() -> None:
    old = make_report([perm(MIC, max_sdk=28)], [finding("permissions.mic", MIC)], path="old.apk")
    new = make_report([perm(MIC)], [finding("permissions.mic", MIC)], path="new.apk")
    verdict = gate.decide_against(old, new, POLICY_NONE, fail_on=Severity.HIGH)
    reasons = {i.rule: i.reason for i in verdict.failing}
    assert "permission max sdk widened" in reasons["permissions.mic"]
    assert reasons["permissions.mic"].endswith("since old.apk")


def test_against_respects_the_policy() -> None:
    policy = parse_policy("allow:\n  - capability: microphone\n    justification: calls\n", "p.yml")
    old = make_report([perm(CAMERA)], path="old.apk")
    new = make_report([perm(CAMERA), perm(MIC)], path="new.apk")
    assert gate.decide_against(old, new, policy).passed


# --- summary ------------------------------------------------------------------------------


def test_summary_line_with_baseline() -> None:
    old = make_report([perm(CAMERA)])
    new = make_report([perm(CAMERA), perm(MIC)])
    verdict = gate.decide(new, POLICY_NONE, baselines.from_reports([old]))
    result = check_result([verdict], baseline_source="base.json")
    assert summary_line(result) == (
        "permaudit: FAIL 2 findings at or above high (1 new since baseline, 1 in baseline)"
    )


def test_summary_line_pass_and_deny() -> None:
    policy = parse_policy("allow:\n  - capability: microphone\n    justification: calls\n", "p.yml")
    passing = check_result([gate.decide(make_report([perm(MIC)]), policy, None)])
    assert summary_line(passing) == (
        "permaudit: PASS 1 finding at or above high (1 accepted by policy)"
    )
    denied = parse_policy("deny: [sms]\n", "p.yml")
    failing = check_result([gate.decide(make_report([perm(SMS)]), denied, None)])
    assert summary_line(failing) == (
        "permaudit: FAIL 1 finding at or above high (1 not accepted); sms denied by policy"
    )


def test_rule_docs_include_the_policy_rules_and_are_sorted() -> None:
    docs = gate.rule_docs(
        [rule_docs.RuleDoc(id="z.rule", title="Z", severity=Severity.LOW, help="z")], []
    )
    assert [d.id for d in docs] == [gate.RULE_DENY, gate.RULE_MAX_SCORE, "z.rule"]
