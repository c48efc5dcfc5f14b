"""The rules' ``when:`` conditions: one matcher per condition type, and the findings they yield."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from permaudit._infra.records import record
from permaudit.engine.capabilities import permission_line
from permaudit.engine.findings import fingerprint, short
from permaudit.model import (
    CapabilityHit,
    Component,
    Finding,
    Manifest,
    PermissionAccess,
    SigningInfo,
    TamperEvidence,
    sdk_text,
)
from permaudit.rules.model import (
    AllCapabilities,
    AppFlags,
    CleartextTraffic,
    DeclaredPermission,
    ExportedComponent,
    IgnoredElement,
    Match,
    PermissionClass,
    RequestedPermission,
    Rule,
    SharedUserId,
    SigningCondition,
    Tamper,
    TargetSdkBelow,
)

LAUNCHER_ACTION = "android.intent.action.MAIN"
LAUNCHER_CATEGORIES = (
    "android.intent.category.LAUNCHER",
    "android.intent.category.LEANBACK_LAUNCHER",
)

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
          and target is not None and target < when.default_when_target_below):
        # An unknown target SDK (a source manifest): the default is unknown, nothing fires.
        yield Subject(
            subject=subject,
            detail=f"{subject} is not set and defaults to true for targetSdk {target} "
                   f"(below {when.default_when_target_below})",
            line=app.line,
        )


def match_target_sdk_below(when: TargetSdkBelow, ctx: Context) -> Iterator[Subject]:
    target = ctx.manifest.target_sdk
    if target is not None and target < when.level:  # unknown: not judged (the app notes say so)
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
        if (when.isolated_process is not None
                and component.isolated_process is not when.isolated_process):
            continue
        how = "exported" if component.exported_explicit else "exported by its intent filter"
        detail = f"{component.kind} {component.name} is {how}"
        if unguarded(component):
            detail += " and requires no permission"
        if component.isolated_process:
            detail += (", but runs in an isolated process without any of the app's "
                       "permissions or data")
            if component.external_service:
                detail += " (an external service: it runs in the caller's package)"
        if not component.enabled:
            detail += (" (disabled in the manifest: unreachable until the app enables it at "
                       "run time, which it can)")
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
            target_sdk=sdk_text(ctx.manifest.target_sdk),
        )
        yield Finding(
            rule=rule.id, severity=rule.severity, title=rule.title, subject=hit.subject,
            category=rule.category, message=message,
            fingerprint=fingerprint(rule.id, package, hit.subject),
            references=rule.references, line=hit.line,
        )


