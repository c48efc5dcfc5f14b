"""Evaluate one app against a RuleSet on one Android platform: capabilities, findings, risk."""

from __future__ import annotations

from collections.abc import Sequence

from permaudit.android.effective import effective_permissions
from permaudit.android.platform import Platform
from permaudit.engine.capabilities import (
    ServiceGate,
    capability_finding,
    capability_hits,
    with_capabilities,
)
from permaudit.engine.findings import finding_order
from permaudit.engine.matchers import Context, rule_findings
from permaudit.engine.risk import risk
from permaudit.model import (
    App,
    PermissionAccess,
    Report,
)
from permaudit.rules.model import RuleSet


def evaluate(app: App, ruleset: RuleSet, platform: Platform) -> Report:
    """Evaluate ``app`` on a device running ``platform``."""
    permissions = effective_permissions(app.manifest, platform)
    return evaluate_permissions(app, ruleset, platform, permissions)


def evaluate_permissions(
    app: App, ruleset: RuleSet, platform: Platform, permissions: Sequence[PermissionAccess]
) -> Report:
    """Evaluate ``app`` given its permission rows on ``platform`` (from ``effective``)."""
    manifest = app.manifest
    device_sdk = platform.api_level
    rows = with_capabilities(permissions, ruleset)
    gate = ServiceGate(
        table=platform.service_types,
        requested=frozenset(r.name for r in rows if r.applies),
        target_sdk=manifest.target_sdk,
        device_sdk=device_sdk,
    )
    hits_with_lines = capability_hits(manifest, ruleset, rows, gate)
    hits = tuple(hit for hit, _ in hits_with_lines)
    findings = [
        capability_finding(hit, ruleset.capability(hit.id), manifest.package, line)
        for hit, line in hits_with_lines
    ]
    evidence = None
    if app.code is not None:
        # The tracker, domain and API tables load only for apps whose code was read.
        from permaudit.knowledge.code_evidence import code_evidence

        evidence = code_evidence(app.code)
    code_hosts = tuple(h for hit in evidence.hosts for h in hit.hosts) if evidence else ()
    ctx = Context(manifest=manifest, permissions=rows, hits=hits, signing=app.signing,
                  tamper=app.tamper, network_security=app.network_security,
                  backup=app.backup, code_hosts=code_hosts, code=evidence)
    for rule in ruleset.rules:
        findings.extend(sorted(rule_findings(rule, ctx), key=lambda f: f.subject))
    ordered = tuple(sorted(findings, key=finding_order))
    return Report(
        app=app, device_sdk=device_sdk, permissions=rows, capabilities=hits,
        findings=ordered, risk=risk(ordered), code_evidence=evidence,
    )
