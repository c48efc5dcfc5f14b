"""The rules' ``when:`` conditions: one matcher per condition type, and the findings they yield."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any

from permaudit._infra.records import record
from permaudit.engine.capabilities import permission_line
from permaudit.engine.findings import fingerprint, short
from permaudit.engine.netsec import backup_nothing_excluded, default_source, network_security
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
from permaudit.model.code import CodeEvidence, HostHit, TrackerHit
from permaudit.model.netsec import BackupRules, NetworkSecurity
from permaudit.rules.model import (
    AllCapabilities,
    AppFlags,
    BackupCondition,
    CleartextTraffic,
    CodeReference,
    DeclaredPermission,
    ExportedComponent,
    IgnoredElement,
    Match,
    NetworkSecurityCondition,
    PermissionClass,
    RequestedPermission,
    Rule,
    ServerCountry,
    ServerOwner,
    SharedUserId,
    SigningCondition,
    Tamper,
    TargetSdkBelow,
    TrackerCondition,
)
from permaudit.rules.vocabulary import tracker_category

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

#: Subject prefixes of code findings: ``tracker:myTracker``, ``owner:VK``.
TRACKER_SUBJECT = "tracker:"
OWNER_SUBJECT = "owner:"
#: How many domains a server finding's detail names before "and N more".
_DOMAINS_SHOWN = 8


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
    #: ``App.network_security`` and ``App.backup``.
    network_security: NetworkSecurity | None = None
    backup: tuple[BackupRules, ...] = ()
    #: Hosts the app's code names (``CodeEvidence.hosts``), to meet the cleartext domains.
    code_hosts: tuple[str, ...] = ()
    #: ``Report.code_evidence``: ``None`` when no code was read (code conditions match nothing).
    code: CodeEvidence | None = None


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
    if not default_source(ctx.network_security):
        return  # a network security config was read: it decides, the attribute is ignored
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


def match_network_security(when: NetworkSecurityCondition, ctx: Context) -> Iterator[Subject]:
    debuggable = ctx.manifest.application.debuggable
    for subject, detail in network_security(when.condition, ctx.network_security, debuggable,
                                            ctx.code_hosts):
        yield Subject(subject=subject, detail=detail, line=ctx.manifest.application.line)


def match_backup(when: BackupCondition, ctx: Context) -> Iterator[Subject]:
    app = ctx.manifest.application
    named = app.full_backup_content or app.data_extraction_rules
    for subject, detail in backup_nothing_excluded(ctx.backup, app.allow_backup,
                                                   ctx.manifest.target_sdk,
                                                   has_rules_attribute=named):
        yield Subject(subject=subject, detail=detail, line=app.line)


def tracker_detail(hit: TrackerHit) -> str:
    """``ships myTracker (by VK, RU; Analytics): 103 classes under com.my.tracker.; ...``."""
    maker = f"by {hit.owner}, {hit.country}" if hit.owner and hit.country else (
        f"by {hit.owner}" if hit.owner else "maker unknown")
    how = "ships" if hit.strength == "defined" else "references (does not ship)"
    detail = (f"{how} {hit.name} ({maker}; {', '.join(hit.categories) or 'no category'}): "
              f"{hit.class_count} classes under {', '.join(hit.packages)}")
    if hit.hosts:
        detail += f"; names its host {', '.join(hit.hosts)}"
    return detail


def match_tracker(when: TrackerCondition, ctx: Context) -> Iterator[Subject]:
    if ctx.code is None:
        return
    names = {name.casefold() for name in when.names}
    for hit in ctx.code.trackers:
        if when.shipped_only and hit.strength != "defined":
            continue
        if names and hit.name.casefold() not in names:
            continue
        if when.categories and not any(
            tracker_category(c) in when.categories for c in hit.categories
        ):
            continue
        yield Subject(subject=TRACKER_SUBJECT + hit.name, detail=tracker_detail(hit))


def _owner_subjects(ctx: Context, wanted: Callable[[HostHit], bool]) -> Iterator[Subject]:
    """One subject per known owner whose domains the code names and ``wanted`` selects."""
    if ctx.code is None:
        return
    groups: dict[str, list[HostHit]] = {}
    for hit in ctx.code.hosts:
        if hit.owner is not None and wanted(hit):
            groups.setdefault(hit.owner, []).append(hit)
    for owner, hits in sorted(groups.items()):
        domains = [h.domain for h in hits]
        shown = ", ".join(domains[:_DOMAINS_SHOWN])
        if len(domains) > _DOMAINS_SHOWN:
            shown += f" and {len(domains) - _DOMAINS_SHOWN} more"
        country = hits[0].country or "country unknown"
        strings = sum(h.strings for h in hits)
        yield Subject(
            subject=OWNER_SUBJECT + owner,
            detail=f"the code names servers of {owner} ({country}): {shown} "
                   f"({strings} string{'s' if strings != 1 else ''})",
        )


def match_server_country(when: ServerCountry, ctx: Context) -> Iterator[Subject]:
    yield from _owner_subjects(ctx, lambda hit: hit.country in when.countries)


def match_server_owner(when: ServerOwner, ctx: Context) -> Iterator[Subject]:
    owners = {owner.casefold() for owner in when.owners}
    yield from _owner_subjects(ctx, lambda hit: (hit.owner or "").casefold() in owners)


def match_code_reference(when: CodeReference, ctx: Context) -> Iterator[Subject]:
    if ctx.code is None:
        return
    reached = {hit.id: hit.title for hit in ctx.hits}
    for api in ctx.code.apis:
        if when.capabilities and api.capability not in when.capabilities:
            continue
        asks = api.capability in reached
        if when.requested is False and (asks or not api.needs_permission):
            continue
        if when.requested is True and not asks:
            continue
        refs = ", ".join(api.references[:4])
        if len(api.references) > 4:
            refs += f" and {len(api.references) - 4} more"
        if asks:
            how = f"and the app reaches {reached[api.capability]}"
        elif api.needs_permission:
            how = "but the manifest does not ask for it"
        else:
            how = "(no permission gates it)"
        what = api.capability.replace("_", " ")
        yield Subject(subject=api.capability,
                      detail=f"the code references {refs} ({what}) {how}")


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
    NetworkSecurityCondition: match_network_security,
    BackupCondition: match_backup,
    TrackerCondition: match_tracker,
    ServerCountry: match_server_country,
    ServerOwner: match_server_owner,
    CodeReference: match_code_reference,
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


