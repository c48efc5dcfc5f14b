"""Evaluate one app against a RuleSet on one device level: capabilities, findings, risk. Pure."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from permaudit.android.catalog import Catalog
from permaudit.android.effective import effective_permissions
from permaudit.model import (
    CLASS_SIGNATURE,
    IMPLIED,
    USES_PERMISSION,
    USES_PERMISSION_SDK_23,
    App,
    CapabilityHit,
    Component,
    Finding,
    Manifest,
    PermissionAccess,
    Report,
    Risk,
    ScoreContribution,
    Severity,
    SigningInfo,
    TamperEvidence,
)
from permaudit._infra.records import record, replace
from permaudit.ruleset import (
    AllCapabilities,
    AppFlags,
    Capability,
    CleartextTraffic,
    ComponentFeature,
    DeclaredPermission,
    ExportedComponent,
    IgnoredElement,
    Match,
    PermissionClass,
    QueriesFeature,
    RequestedPermission,
    Rule,
    RuleSet,
    SharedUserId,
    SigningCondition,
    Tamper,
    TargetSdkBelow,
)

CAPABILITY_CATEGORY = "capability"
LAUNCHER_ACTION = "android.intent.action.MAIN"
LAUNCHER_CATEGORIES = (
    "android.intent.category.LAUNCHER",
    "android.intent.category.LEANBACK_LAUNCHER",
)
PERMISSION_PREFIX = "android.permission."

#: ``app_flags`` name -> (manifest attribute, whether the flag means "the attribute is set").
FLAG_ATTRIBUTES = MappingProxyType({
    "allow_backup": ("android:allowBackup", False),
    "data_extraction_rules": ("android:dataExtractionRules", True),
    "debuggable": ("android:debuggable", False),
    "full_backup_content": ("android:fullBackupContent", True),
    "has_code": ("android:hasCode", False),
    "network_security_config": ("android:networkSecurityConfig", True),
    "request_legacy_external_storage": ("android:requestLegacyExternalStorage", False),
    "test_only": ("android:testOnly", False),
    "uses_cleartext_traffic": ("android:usesCleartextTraffic", False),
})

# --- risk score ----------------------------------------------------------------------------

#: How much of the remaining headroom one finding of each severity takes (see :func:`risk`).
WEIGHTS = MappingProxyType({
    Severity.INFO: 0.0, Severity.LOW: 0.02, Severity.MEDIUM: 0.08, Severity.HIGH: 0.25,
    Severity.CRITICAL: 0.5,
})
#: Without a critical finding the score stays at or below this (the top of the high band).
NON_CRITICAL_CEILING = 74
#: (lowest score, level), highest first.
LEVELS = ((75, "critical"), (50, "high"), (25, "medium"), (1, "low"), (0, "none"))


def _score(severities: Sequence[Severity]) -> int:
    """The score of a set of findings, from their severities alone."""
    remaining = 1.0
    for severity in severities:
        remaining *= 1.0 - WEIGHTS[severity]
    reach = 1.0 - remaining
    if Severity.CRITICAL in severities:
        return 75 + math.floor(25 * reach + 0.5)
    return math.floor(NON_CRITICAL_CEILING * reach + 0.5)


def risk(findings: Sequence[Finding]) -> Risk:
    """The 0..100 risk score of ``findings``, its level and each finding's points.

    Each finding takes a share of what is left, by severity: critical 50 %, high 25 %,
    medium 8 %, low 2 %, info nothing. With ``reach = 1 - prod(1 - weight)``::

        score = 75 + 25 * reach   if any finding is critical
        score = 74 * reach        otherwise          (rounded half up)

    Levels: 0 none, 1-24 low, 25-49 medium, 50-74 high, 75-100 critical. Only a critical
    finding reaches the critical band; below it, every further finding still moves the
    score (with diminishing steps), so apps with many capabilities stay comparable
    instead of all stopping at one cap. Adding a finding never lowers the score.
    ``contributions`` gives each finding, most severe first, the points it added, so
    they sum to the score (findings that added nothing are left out).
    """
    ordered = sorted(findings, key=finding_order)
    contributions = []
    total = 0
    for index, finding in enumerate(ordered, start=1):
        score = _score([f.severity for f in ordered[:index]])
        if score > total:
            contributions.append(
                ScoreContribution(rule=finding.rule, subject=finding.subject, points=score - total)
            )
            total = score
    level = next(name for floor, name in LEVELS if total >= floor)
    return Risk(score=total, level=level, contributions=tuple(contributions))


# --- finding identity and order ------------------------------------------------------------


def fingerprint(rule: str, package: str, subject: str) -> str:
    """A finding's stable identity: the first 32 hex digits of sha256(rule NUL package NUL subject).

    Never the message, severity or line, so a baseline survives rewording, severity
    overrides and manifest re-ordering.
    """
    data = "\0".join((rule, package, subject)).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:32]


def finding_order(finding: Finding) -> int:
    """Most severe first. Sorts using it are stable: within a severity, findings keep the
    order ``evaluate`` builds them in (capabilities in the ruleset's order, then the other
    rules in file order), so the report reads microphone, camera, contacts... first."""
    return -int(finding.severity)


def short(name: str) -> str:
    """``CAMERA`` for ``android.permission.CAMERA``; other names stay whole."""
    return name.removeprefix(PERMISSION_PREFIX)


# --- capabilities --------------------------------------------------------------------------


@record
class Grant:
    """One entry of a capability that matched: what, how far, with which caveats."""

    via: tuple[str, ...]
    access: str | None
    needs_other: bool
    #: Conditions it holds under (sdk-23, maxSdkVersion, implied); shown only when every
    #: route to the capability has some.
    caveats: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    line: int | None = None


def grants_capability(row: PermissionAccess) -> bool:
    """A permission row counts when Android grants it here to an ordinary app."""
    return row.applies and row.protection_class != CLASS_SIGNATURE


def permission_caveats(rows: Sequence[PermissionAccess], manifest: Manifest) -> tuple[str, ...]:
    """Why the permission of ``rows`` may not hold; none when one row is unconditional."""
    if any(r.element == USES_PERMISSION and r.max_sdk is None for r in rows):
        return ()
    caveats = []
    for row in rows:
        name = short(row.name)
        if row.element == USES_PERMISSION_SDK_23:
            caveats.append(f"{name}: only through uses-permission-sdk-23")
        if row.element == IMPLIED:
            if row.reason and "targetSdk" not in row.reason:
                caveats.append(f"{name}: implied ({row.reason})")
            else:
                caveats.append(f"{name}: implied by targetSdk {manifest.target_sdk}")
        if row.max_sdk is not None:
            caveats.append(f"{name}: only up to API {row.max_sdk} (maxSdkVersion)")
    return tuple(caveats)


def permission_notes(name: str, manifest: Manifest) -> tuple[str, ...]:
    """Facts worth showing whatever else grants the capability."""
    if any(u.name == name and u.never_for_location for u in manifest.uses_permissions):
        return (f"{short(name)}: neverForLocation",)
    return ()


def permission_line(manifest: Manifest, name: str) -> int | None:
    """The manifest line of the first request of ``name``."""
    return next((u.line for u in manifest.uses_permissions if u.name == name), None)


def component_matches(feature: ComponentFeature, component: Component) -> bool:
    """Every filter of ``feature`` holds for ``component``."""
    if component.kind not in feature.kinds:
        return False
    if feature.permission is not None and component.permission != feature.permission:
        return False
    if feature.actions and not any(
        action in feature.actions for f in component.intent_filters for action in f.actions
    ):
        return False
    return not feature.foreground_service_types or any(
        t in feature.foreground_service_types for t in component.foreground_service_types
    )


def feature_grants(
    feature: ComponentFeature | QueriesFeature, manifest: Manifest
) -> Iterator[Grant]:
    """What in ``manifest`` matches ``feature``."""
    if isinstance(feature, QueriesFeature):
        for intent in manifest.queries.intents:
            if feature.action is not None and feature.action not in intent.actions:
                continue
            if feature.category is not None and feature.category not in intent.categories:
                continue
            wanted = "+".join(x for x in (feature.action, feature.category) if x)
            yield Grant(via=(f"queries:{wanted}",), access=feature.access,
                        needs_other=feature.needs_other)
            return
        return
    for component in manifest.components:
        if component_matches(feature, component):
            via = f"{component.kind}:{component.name}"
            notes = () if component.enabled else (
                f"{via}: disabled in the manifest (the app can enable it)",
            )
            yield Grant(via=(via,), access=feature.access, needs_other=feature.needs_other,
                        notes=notes, line=component.line)


def capability_grants(
    capability: Capability, manifest: Manifest, rows: dict[str, list[PermissionAccess]]
) -> list[Grant]:
    """Every entry of ``capability`` that matched, in the capability's order."""
    grants = []
    for entry in capability.permissions:
        granting = [r for r in rows.get(entry.name, ()) if grants_capability(r)]
        if granting:
            grants.append(Grant(
                via=(entry.name,), access=entry.access, needs_other=entry.needs_other,
                caveats=permission_caveats(granting, manifest),
                notes=permission_notes(entry.name, manifest),
                line=permission_line(manifest, entry.name),
            ))
    for feature in capability.features:
        grants.extend(feature_grants(feature, manifest))
    return grants


def capability_hits(
    manifest: Manifest, ruleset: RuleSet, permissions: Sequence[PermissionAccess]
) -> tuple[tuple[CapabilityHit, int | None], ...]:
    """Capabilities reached on the device level, each with a line.

    Most severe first; within a severity in the ruleset's order, which puts what people
    ask about first (microphone, camera, contacts, location, files).
    """
    rows: dict[str, list[PermissionAccess]] = {}
    for row in permissions:
        rows.setdefault(row.name, []).append(row)
    hits = []
    for capability in ruleset.capabilities:
        grants = capability_grants(capability, manifest, rows)
        if all(g.needs_other for g in grants):
            continue  # nothing matched, or only entries that widen another entry
        conditional = all(g.caveats for g in grants if not g.needs_other)
        notes = [n for g in grants for n in (*(g.caveats if conditional else ()), *g.notes)]
        hit = CapabilityHit(
            id=capability.id,
            title=capability.title,
            severity=capability.severity,
            via=unique(v for g in grants for v in g.via),
            access=unique(g.access for g in grants if g.access),
            notes=unique(notes),
        )
        line = next((g.line for g in grants if g.line is not None), None)
        hits.append((hit, line))
    return tuple(sorted(hits, key=lambda h: -int(h[0].severity)))  # stable: keeps file order


def unique(values: Iterable[str | None]) -> tuple[str, ...]:
    """Values without ``None`` and repeats, first occurrence kept."""
    return tuple(dict.fromkeys(v for v in values if v is not None))


def with_capabilities(
    permissions: Sequence[PermissionAccess], ruleset: RuleSet
) -> tuple[PermissionAccess, ...]:
    """Each permission row with the ids of the capabilities that list it."""
    by_name: dict[str, list[str]] = {}
    for capability in ruleset.capabilities:
        for entry in capability.permissions:
            by_name.setdefault(entry.name, []).append(capability.id)
    return tuple(
        replace(row, capabilities=tuple(by_name.get(row.name, ())))
        for row in permissions
    )


def capability_finding(hit: CapabilityHit, capability: Capability, package: str,
                       line: int | None) -> Finding:
    """The finding ``capability.<id>`` for a reached capability."""
    access = f" ({', '.join(hit.access)})" if hit.access else ""
    message = f"{hit.title}{access} via {', '.join(short(v) for v in hit.via)}"
    if hit.notes:
        message += "; " + "; ".join(hit.notes)
    return Finding(
        rule=capability.rule_id, severity=hit.severity, title=hit.title, subject=hit.id,
        category=CAPABILITY_CATEGORY, message=message,
        fingerprint=fingerprint(capability.rule_id, package, hit.id),
        references=capability.references, line=line,
    )


# --- rules ---------------------------------------------------------------------------------


@record
class Subject:
    """One thing a rule fired on, with the detail its message may quote."""

    subject: str
    detail: str
    line: int | None = None


@record
class Context:
    """What rules look at: the manifest, the device's permission rows, the capabilities."""

    manifest: Manifest
    permissions: tuple[PermissionAccess, ...]
    hits: tuple[CapabilityHit, ...]
    #: ``None`` when the input kind has no signature (``App.signing``).
    signing: SigningInfo | None = None
    tamper: tuple[TamperEvidence, ...] = ()


def is_launcher(component: Component) -> bool:
    """An activity (or alias) the home screen starts: MAIN with a launcher category."""
    return component.kind in ("activity", "activity-alias") and any(
        LAUNCHER_ACTION in f.actions and any(c in f.categories for c in LAUNCHER_CATEGORIES)
        for f in component.intent_filters
    )


def unguarded(component: Component) -> bool:
    """No permission protects the component (for providers: neither read nor write)."""
    if component.kind == "provider":
        return (component.permission is None and component.read_permission is None
                and component.write_permission is None)
    return component.permission is None


def match_app_flags(when: AppFlags, ctx: Context) -> Iterator[Subject]:
    app = ctx.manifest.application
    parts = []
    for flag, expected in when.flags:
        actual = getattr(app, flag)
        if actual is None or bool(actual) is not expected:
            return
        attribute, presence = FLAG_ATTRIBUTES[flag]
        if presence:
            parts.append(f"{attribute} {'set' if expected else 'not set'}")
        else:
            parts.append(f"{attribute}={'true' if expected else 'false'}")
    yield Subject(subject=FLAG_ATTRIBUTES[when.flags[0][0]][0], detail=", ".join(parts),
                  line=app.line)


def match_cleartext_traffic(when: CleartextTraffic, ctx: Context) -> Iterator[Subject]:
    app = ctx.manifest.application
    subject = "android:usesCleartextTraffic"
    target = ctx.manifest.target_sdk
    if app.uses_cleartext_traffic is True:
        yield Subject(subject=subject, detail=f"{subject}=true", line=app.line)
    elif (app.uses_cleartext_traffic is None and not app.network_security_config
          and target < when.default_when_target_below):
        yield Subject(
            subject=subject,
            detail=f"{subject} is not set and defaults to true for targetSdk {target} "
                   f"(below {when.default_when_target_below})",
            line=app.line,
        )


def match_target_sdk_below(when: TargetSdkBelow, ctx: Context) -> Iterator[Subject]:
    target = ctx.manifest.target_sdk
    if target < when.level:
        yield Subject(subject="targetSdkVersion",
                      detail=f"targetSdkVersion {target} is below {when.level}")


def match_exported_component(when: ExportedComponent, ctx: Context) -> Iterator[Subject]:
    for component in ctx.manifest.components:
        if component.kind not in when.kinds or not component.exported:
            continue
        if when.without_permission and not unguarded(component):
            continue
        if when.exclude_launcher and is_launcher(component):
            continue
        how = "exported" if component.exported_explicit else "exported by its intent filter"
        detail = f"{component.kind} {component.name} is {how}"
        if unguarded(component):
            detail += " and requires no permission"
        if not component.enabled:
            detail += " (disabled in the manifest; the app can enable it)"
        yield Subject(subject=f"{component.kind}:{component.name}", detail=detail,
                      line=component.line)


def match_declared_permission(when: DeclaredPermission, ctx: Context) -> Iterator[Subject]:
    for declared in ctx.manifest.permissions:
        base = declared.protection[0] if declared.protection else "normal"
        if base not in when.protection:
            continue
        guarded = [
            f"{c.kind}:{c.name}" for c in ctx.manifest.components
            if c.exported and declared.name in (c.permission, c.read_permission, c.write_permission)
        ]
        if when.guards_exported and not guarded:
            continue
        detail = f"{declared.name} has protectionLevel {base}"
        if guarded:
            detail += f" and guards {', '.join(guarded)}"
        yield Subject(subject=declared.name, detail=detail, line=declared.line)


def match_shared_user_id(when: SharedUserId, ctx: Context) -> Iterator[Subject]:
    value = ctx.manifest.shared_user_id
    if value:
        yield Subject(subject="android:sharedUserId", detail=f'android:sharedUserId="{value}"')


def match_permission_class(when: PermissionClass, ctx: Context) -> Iterator[Subject]:
    for row in ctx.permissions:
        if row.applies and row.protection_class in when.classes:
            detail = f"{short(row.name)} is a {row.protection_class} permission"
            if row.note:
                detail += f" ({row.note})"
            yield Subject(subject=row.name, detail=detail,
                          line=permission_line(ctx.manifest, row.name))


def match_requested_permission(when: RequestedPermission, ctx: Context) -> Iterator[Subject]:
    for row in ctx.permissions:
        if row.applies and row.name in when.names:
            yield Subject(subject=row.name, detail=f"requests {short(row.name)}",
                          line=permission_line(ctx.manifest, row.name))


def match_ignored_element(when: IgnoredElement, ctx: Context) -> Iterator[Subject]:
    for element in ctx.manifest.ignored:
        if when.tags and element.tag not in when.tags:
            continue
        named = f" {element.name}" if element.name else ""
        parent = element.parent.rsplit("/", 1)[-1]
        suffix = f":{element.name}" if element.name else ""
        yield Subject(
            subject=f"{element.parent}/{element.tag}{suffix}",
            detail=f"<{element.tag}{named}> inside <{parent}> is never read by Android",
            line=element.line,
        )


def match_all_capabilities(when: AllCapabilities, ctx: Context) -> Iterator[Subject]:
    reached = {hit.id: hit for hit in ctx.hits}
    if all(cap_id in reached for cap_id in when.ids):
        titles = ", ".join(reached[cap_id].title for cap_id in when.ids)
        yield Subject(subject="+".join(when.ids), detail=f"reaches {titles}")


def match_signing(when: SigningCondition, ctx: Context) -> Iterator[Subject]:
    signing = ctx.signing
    if signing is None:
        return
    if when.condition == "unsigned" and not signing.schemes:
        yield Subject(subject="signature", detail="the APK carries no v1, v2, v3 or v3.1 "
                      "signature; Android refuses to install it, and nothing tells who built it")
    elif when.condition == "debug_certificate":
        for signer in signing.signers:
            for cert in signer.certificates[:1]:
                if cert.debug:
                    yield Subject(
                        subject=f"certificate:{cert.sha256}",
                        detail=f"{signer.scheme} signer is the Android SDK debug certificate "
                               f"({cert.subject}, SHA-256 {cert.sha256})",
                    )
    elif when.condition == "ambiguous" and signing.problems:
        yield Subject(subject="signature", detail="; ".join(signing.problems))


def match_tamper(when: Tamper, ctx: Context) -> Iterator[Subject]:
    for evidence in ctx.tamper:
        if when.matches(evidence.id):
            where = f"{evidence.member}: " if evidence.member else ""
            suffix = f"@{evidence.member}" if evidence.member else ""
            yield Subject(subject=f"{evidence.id}{suffix}", detail=where + evidence.detail)


#: Each ``when`` condition type and the function that implements it.
MATCHERS: Mapping[type, Callable[[Any, Context], Iterator[Subject]]] = MappingProxyType({
    AppFlags: match_app_flags,
    CleartextTraffic: match_cleartext_traffic,
    TargetSdkBelow: match_target_sdk_below,
    ExportedComponent: match_exported_component,
    DeclaredPermission: match_declared_permission,
    SharedUserId: match_shared_user_id,
    PermissionClass: match_permission_class,
    RequestedPermission: match_requested_permission,
    IgnoredElement: match_ignored_element,
    SigningCondition: match_signing,
    Tamper: match_tamper,
    AllCapabilities: match_all_capabilities,
})


def match(when: Match, ctx: Context) -> Iterator[Subject]:
    """Dispatch one ``when`` condition to its implementation."""
    return MATCHERS[type(when)](when, ctx)


def rule_findings(rule: Rule, ctx: Context) -> Iterator[Finding]:
    """One finding per distinct subject ``rule`` fires on."""
    package = ctx.manifest.package
    seen: set[str] = set()
    for hit in match(rule.when, ctx):
        if hit.subject in seen:
            continue
        seen.add(hit.subject)
        message = rule.message.format(
            package=package, subject=hit.subject, detail=hit.detail,
            target_sdk=ctx.manifest.target_sdk,
        )
        yield Finding(
            rule=rule.id, severity=rule.severity, title=rule.title, subject=hit.subject,
            category=rule.category, message=message,
            fingerprint=fingerprint(rule.id, package, hit.subject),
            references=rule.references, line=hit.line,
        )


# --- the entry points ----------------------------------------------------------------------


def evaluate(app: App, ruleset: RuleSet, device_sdk: int, catalog: Catalog) -> Report:
    """Evaluate ``app`` on a device of ``device_sdk`` (``catalog`` must be for that level)."""
    permissions = effective_permissions(app.manifest, device_sdk, catalog)
    return evaluate_permissions(app, ruleset, device_sdk, permissions)


def evaluate_permissions(
    app: App, ruleset: RuleSet, device_sdk: int, permissions: Sequence[PermissionAccess]
) -> Report:
    """Evaluate ``app`` given its permission rows on the device level (from ``effective``)."""
    manifest = app.manifest
    rows = with_capabilities(permissions, ruleset)
    hits_with_lines = capability_hits(manifest, ruleset, rows)
    hits = tuple(hit for hit, _ in hits_with_lines)
    findings = [
        capability_finding(hit, ruleset.capability(hit.id), manifest.package, line)
        for hit, line in hits_with_lines
    ]
    ctx = Context(manifest=manifest, permissions=rows, hits=hits, signing=app.signing,
                  tamper=app.tamper)
    for rule in ruleset.rules:
        findings.extend(sorted(rule_findings(rule, ctx), key=lambda f: f.subject))
    ordered = tuple(sorted(findings, key=finding_order))
    return Report(
        app=app, device_sdk=device_sdk, permissions=rows, capabilities=hits,
        findings=ordered, risk=risk(ordered),
    )
