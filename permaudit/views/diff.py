"""Diff two builds of one app: what a release adds, removes or loosens, each with a severity.

Pure: ``diff(old, new) -> Diff`` reads two reports made on one device level with one
ruleset. Severities come from that ruleset through the reports (the capabilities and
findings that mention the change's subject): a change that widens what the app can reach
carries the severity of what it now reaches; a change that narrows it is ``info``.
"""

from __future__ import annotations

from collections.abc import Iterable

from permaudit._infra.records import record
from permaudit.errors import PermauditError
from permaudit.model import (
    IMPLIED,
    Component,
    Finding,
    Manifest,
    PermissionAccess,
    Report,
    RulesetInfo,
    Severity,
)
from permaudit.version import __version__
from permaudit.views.changes import CHANGE_KINDS as CHANGE_KINDS
from permaudit.views.changes import KIND_ORDER
from permaudit.views.changes import Change as Change
from permaudit.views.changes import ChangeKind as ChangeKind
from permaudit.views.changes import Value as Value
from permaudit.views.code_changes import code_changes, code_comparison
from permaudit.views.compare import AppColumn, app_columns, capability_sort_key, level_text


@record
class Diff:
    """The release view: changes ordered by severity (highest first), then kind, then subject."""

    tool_version: str
    ruleset: RulesetInfo | None
    device_sdk: int
    old_report: Report
    new_report: Report
    old: AppColumn
    new: AppColumn
    changes: tuple[Change, ...]
    #: Whether the two builds' code was compared (both read); when not, ``code_note`` says
    #: why, and no code change is listed (``views.code_changes``).
    code_compared: bool = False
    code_note: str | None = None

    @property
    def same_package(self) -> bool:
        """Whether both builds carry one package name (the intended use)."""
        return self.old.package == self.new.package


def diff(
    old: Report,
    new: Report,
    *,
    ruleset: RulesetInfo | None = None,
    tool_version: str = __version__,
    code: bool = True,
) -> Diff:
    """Everything that changed from ``old`` to ``new``; both must describe one device level.

    ``code=False`` (``--no-code``) leaves the code out and says so in ``Diff.code_note``.
    """
    if old.device_sdk != new.device_sdk:
        raise PermauditError(
            f"cannot diff reports made for different device levels "
            f"{old.device_sdk} and {new.device_sdk}"
        )
    draft = [
        *_capability_changes(old, new),
        *_permission_changes(old, new),
        *_implied_changes(old, new),
        *_component_changes(old, new),
        *_flag_changes(old, new),
        *_sdk_changes(old, new),
    ]
    compared = code_comparison(old, new, read=code)
    if compared.compared:
        draft.extend(code_changes(old, new))
    draft.extend(_finding_changes(old, new, {c.subject for c in draft}))
    columns = app_columns((old, new))
    return Diff(
        tool_version=tool_version,
        ruleset=ruleset,
        device_sdk=new.device_sdk,
        old_report=old,
        new_report=new,
        old=columns[0],
        new=columns[1],
        changes=tuple(sorted(draft, key=change_sort_key)),
        code_compared=compared.compared,
        code_note=compared.note,
    )


def change_sort_key(change: Change) -> tuple[int, int, str]:
    """Highest severity first, then kind in ``CHANGE_KINDS`` order, then subject."""
    return (-int(change.severity), KIND_ORDER[change.kind], change.subject)


# --- severities ---------------------------------------------------------------------------


def _normalise(subject: str) -> str:
    return subject.removeprefix("android:").lower()


def related_findings(report: Report, subject: str) -> tuple[Finding, ...]:
    """Findings of ``report`` about ``subject`` (same subject, ignoring ``android:`` and case)."""
    key = _normalise(subject)
    return tuple(f for f in report.findings if _normalise(f.subject) == key)


def subject_severity(report: Report, subject: str) -> Severity:
    """The ruleset's severity for ``subject`` in ``report``.

    The highest of: capabilities named ``subject`` or reached via it, and findings about it;
    ``info`` when the ruleset says nothing about it.
    """
    severities = [f.severity for f in related_findings(report, subject)]
    severities.extend(
        hit.severity for hit in report.capabilities if hit.id == subject or subject in hit.via
    )
    return max(severities, default=Severity.INFO)


# --- capabilities -------------------------------------------------------------------------


def _capability_changes(old: Report, new: Report) -> Iterable[Change]:
    before = {hit.id: hit for hit in old.capabilities}
    after = {hit.id: hit for hit in new.capabilities}
    for cap in sorted(before.keys() | after.keys(), key=capability_sort_key):
        was, now = before.get(cap), after.get(cap)
        if was is None and now is not None:
            yield Change(
                kind=ChangeKind.CAPABILITY_GAINED,
                subject=cap, new=level_text(now), severity=now.severity
            )
        elif was is not None and now is None:
            yield Change(kind=ChangeKind.CAPABILITY_LOST, subject=cap, old=level_text(was))
        elif was is not None and now is not None and set(was.access) != set(now.access):
            wider = bool(set(now.access) - set(was.access))
            yield Change(
                kind=ChangeKind.CAPABILITY_ACCESS_CHANGED,
                subject=cap,
                old=level_text(was),
                new=level_text(now),
                severity=now.severity if wider else Severity.INFO,
            )


# --- permissions --------------------------------------------------------------------------


def _requested(report: Report) -> dict[str, list[PermissionAccess]]:
    rows: dict[str, list[PermissionAccess]] = {}
    for access in report.permissions:
        if access.element != IMPLIED:
            rows.setdefault(access.name, []).append(access)
    return rows


def _elements(rows: Iterable[PermissionAccess]) -> str:
    return ", ".join(sorted({row.element for row in rows}))


def _max_sdk(rows: Iterable[PermissionAccess]) -> int | None:
    """The highest level any element requests the permission on; ``None`` for all levels."""
    levels = [row.max_sdk for row in rows]
    return None if None in levels else max(level for level in levels if level is not None)


def _protection_class(report: Report, name: str) -> str | None:
    classes = sorted({p.protection_class for p in report.permissions if p.name == name})
    return "/".join(classes) if classes else None


def _permission_changes(old: Report, new: Report) -> Iterable[Change]:
    before, after = _requested(old), _requested(new)
    for name in sorted(after.keys() - before.keys()):
        yield Change(
            kind=ChangeKind.PERMISSION_ADDED,
            subject=name,
            new=_elements(after[name]),
            severity=subject_severity(new, name),
        )
    for name in sorted(before.keys() - after.keys()):
        yield Change(kind=ChangeKind.PERMISSION_REMOVED, subject=name, old=_elements(before[name]))
    for name in sorted(before.keys() & after.keys()):
        yield from _kept_permission_changes(old, new, name, before[name], after[name])


def _kept_permission_changes(
    old: Report,
    new: Report,
    name: str,
    was: list[PermissionAccess],
    now: list[PermissionAccess],
) -> Iterable[Change]:
    old_elements, new_elements = _elements(was), _elements(now)
    if old_elements != new_elements:
        # Gaining plain uses-permission (requested below API 23 too) widens the request.
        wider = bool({r.element for r in now} - {r.element for r in was})
        yield Change(
            kind=ChangeKind.PERMISSION_ELEMENT_CHANGED,
            subject=name,
            old=old_elements,
            new=new_elements,
            severity=subject_severity(new, name) if wider else Severity.INFO,
        )
    old_max, new_max = _max_sdk(was), _max_sdk(now)
    if old_max != new_max:
        widened = new_max is None or (old_max is not None and new_max > old_max)
        kind = ChangeKind.PERMISSION_MAX_SDK_WIDENED if widened else (
            ChangeKind.PERMISSION_MAX_SDK_NARROWED
        )
        yield Change(
            kind=kind,
            subject=name,
            old=old_max,
            new=new_max,
            severity=subject_severity(new, name) if widened else Severity.INFO,
        )
    old_class, new_class = _protection_class(old, name), _protection_class(new, name)
    if old_class != new_class:
        yield Change(
            kind=ChangeKind.PERMISSION_PROTECTION_CHANGED,
            subject=name,
            old=old_class,
            new=new_class,
            severity=subject_severity(new, name),
        )


def _implied(report: Report) -> dict[str, str]:
    return {
        p.name: p.reason or "implied"
        for p in sorted(report.permissions, key=lambda p: (p.name, p.reason or ""))
        if p.element == IMPLIED
    }


def _implied_changes(old: Report, new: Report) -> Iterable[Change]:
    before, after = _implied(old), _implied(new)
    for name in sorted(after.keys() - before.keys()):
        yield Change(
            kind=ChangeKind.IMPLIED_ADDED,
            subject=name,
            new=after[name],
            severity=subject_severity(new, name),
        )
    for name in sorted(before.keys() - after.keys()):
        yield Change(kind=ChangeKind.IMPLIED_REMOVED, subject=name, old=before[name])


# --- components ---------------------------------------------------------------------------


def component_subject(component: Component) -> str:
    """``kind:name``, as the engine names a component in findings."""
    return f"{component.kind}:{component.name}"


def _guard(component: Component) -> str | None:
    """The permission a caller needs, providers' read/write permissions included."""
    guards = [component.permission, component.read_permission, component.write_permission]
    names = sorted({g for g in guards if g})
    return ", ".join(names) if names else None


def _exported(manifest: Manifest) -> dict[str, Component]:
    """Exported components, disabled ones included: the app can enable them at any time."""
    return {component_subject(c): c for c in manifest.components if c.exported}


def _known(manifest: Manifest) -> set[str]:
    return {component_subject(c) for c in manifest.components}


def _describe_guard(component: Component) -> str:
    guard = _guard(component)
    text = f"exported, requires {guard}" if guard else "exported, no permission"
    if component.isolated_process:
        text += ", isolated process"
    if not component.enabled:
        text += ", disabled until the app enables it"
    return text


def _state(component: Component) -> str:
    return "enabled" if component.enabled else "disabled in the manifest (the app can enable it)"


def _component_changes(old: Report, new: Report) -> Iterable[Change]:
    before, after = _exported(old.app.manifest), _exported(new.app.manifest)
    old_known, new_known = _known(old.app.manifest), _known(new.app.manifest)
    for key in sorted(after.keys() - before.keys()):
        yield Change(
            kind=ChangeKind.COMPONENT_EXPORTED_ADDED,
            subject=key,
            old="not exported" if key in old_known else None,
            new=_describe_guard(after[key]),
            severity=_component_severity(new, after[key]),
        )
    for key in sorted(before.keys() - after.keys()):
        yield Change(
            kind=ChangeKind.COMPONENT_EXPORTED_REMOVED,
            subject=key,
            old=_describe_guard(before[key]),
            new="not exported" if key in new_known else None,
        )
    for key in sorted(before.keys() & after.keys()):
        was, now = _guard(before[key]), _guard(after[key])
        if was and not now:
            yield Change(
                kind=ChangeKind.COMPONENT_UNPROTECTED,
                subject=key,
                old=was,
                new=None,
                severity=_component_severity(new, after[key]),
            )
        elif now and not was:
            yield Change(kind=ChangeKind.COMPONENT_PROTECTED, subject=key, old=None, new=now)
        if before[key].enabled != after[key].enabled:
            yield Change(
                kind=ChangeKind.COMPONENT_ENABLED_CHANGED,
                subject=key,
                old=_state(before[key]),
                new=_state(after[key]),
            )


def _component_severity(report: Report, component: Component) -> Severity:
    return max(
        (f.severity for f in related_findings(report, component_subject(component))),
        default=Severity.INFO,
    )


# --- application flags and SDK levels -----------------------------------------------------

#: Manifest attribute -> (how to read it from a Manifest, the value that exposes more).
_FLAGS: tuple[tuple[str, str, Value], ...] = (
    ("debuggable", "debuggable", True),
    ("testOnly", "test_only", True),
    ("allowBackup", "allow_backup", True),
    ("fullBackupContent", "full_backup_content", False),
    ("dataExtractionRules", "data_extraction_rules", False),
    ("usesCleartextTraffic", "uses_cleartext_traffic", True),
    ("networkSecurityConfig", "network_security_config", False),
    ("requestLegacyExternalStorage", "request_legacy_external_storage", True),
)


def _flag_values(manifest: Manifest) -> dict[str, Value]:
    values: dict[str, Value] = {
        name: getattr(manifest.application, attribute) for name, attribute, _ in _FLAGS
    }
    values["sharedUserId"] = manifest.shared_user_id
    return values


def _flag_changes(old: Report, new: Report) -> Iterable[Change]:
    before, after = _flag_values(old.app.manifest), _flag_values(new.app.manifest)
    exposing: dict[str, Value] = {name: value for name, _, value in _FLAGS}
    for name in sorted(before):
        was, now = before[name], after[name]
        if was == now:
            continue
        worse = now is not None if name == "sharedUserId" else now == exposing[name]
        yield Change(
            kind=ChangeKind.FLAG_CHANGED,
            subject=name,
            old=was,
            new=now,
            severity=subject_severity(new, name) if worse else Severity.INFO,
        )


def _sdk_changes(old: Report, new: Report) -> Iterable[Change]:
    before, after = old.app.manifest, new.app.manifest
    if before.target_sdk != after.target_sdk:
        lower = (
            before.target_sdk is not None
            and after.target_sdk is not None
            and after.target_sdk < before.target_sdk
        )
        yield Change(
            kind=ChangeKind.TARGET_SDK_CHANGED,
            subject="targetSdkVersion",
            old=before.target_sdk,
            new=after.target_sdk,
            severity=subject_severity(new, "targetSdkVersion") if lower else Severity.INFO,
        )
    if before.min_sdk != after.min_sdk:
        yield Change(
            kind=ChangeKind.MIN_SDK_CHANGED,
            subject="minSdkVersion",
            old=before.min_sdk,
            new=after.min_sdk,
        )


# --- findings not already explained by another change ------------------------------------


def _finding_changes(old: Report, new: Report, explained: set[str]) -> Iterable[Change]:
    """Findings that appear or go away, except those about a subject another change covers.

    Findings are matched by rule and subject (not fingerprint: that includes the package).
    """
    covered = {_normalise(s) for s in explained}
    before = {(f.rule, f.subject): f for f in old.findings}
    after = {(f.rule, f.subject): f for f in new.findings}
    for key in sorted(after.keys() - before.keys()):
        finding = after[key]
        if _normalise(finding.subject) not in covered:
            yield Change(
                kind=ChangeKind.FINDING_ADDED,
                subject=finding.subject,
                new=f"{finding.rule}: {finding.title}",
                severity=finding.severity,
            )
    for key in sorted(before.keys() - after.keys()):
        finding = before[key]
        if _normalise(finding.subject) not in covered:
            yield Change(
                kind=ChangeKind.FINDING_RESOLVED,
                subject=finding.subject,
                old=f"{finding.rule}: {finding.title}",
            )
