"""The findings block of a comparison: every non-capability finding, per app, worst first."""

from __future__ import annotations

from permaudit._infra.records import replace
from permaudit.model import Finding, Severity
from permaudit.views.compare import compare
from tests.views.test_compare import finding, report


def categorised(rule: str, subject: str, severity: Severity, category: str) -> Finding:
    return replace(finding(rule, subject, severity), category=category)


def test_rows_hold_every_non_capability_finding_per_app_worst_first() -> None:
    a = report("com.example.a", findings=[
        categorised("capability.camera", "camera", Severity.HIGH, "capability"),
        categorised("exported.service", "service:com.example.a.S2", Severity.MEDIUM, "exported"),
        categorised("exported.service", "service:com.example.a.S1", Severity.MEDIUM, "exported"),
        categorised("signing.unsigned", "signature", Severity.MEDIUM, "signing"),
    ])
    b = report("com.example.b", findings=[
        categorised("hardening.debuggable", "android:debuggable", Severity.HIGH, "hardening"),
        categorised("signing.unsigned", "signature", Severity.MEDIUM, "signing"),
    ])
    rows = compare([a, b]).finding_rows
    assert [(r.rule, r.severity) for r in rows] == [
        ("hardening.debuggable", Severity.HIGH),
        ("exported.service", Severity.MEDIUM),
        ("signing.unsigned", Severity.MEDIUM),
    ]
    exported = rows[1]
    assert exported.category == "exported"
    assert [[f.subject for f in c.findings] for c in exported.cells] == [
        ["service:com.example.a.S1", "service:com.example.a.S2"], [],
    ]
    assert [c.found for c in rows[0].cells] == [False, True]
    assert all(c.found for c in rows[2].cells)


def test_no_rows_when_only_capabilities_fired() -> None:
    only = [categorised("capability.camera", "camera", Severity.HIGH, "capability")]
    assert compare([report("a.b", findings=only), report("c.d")]).finding_rows == ()
