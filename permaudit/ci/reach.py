"""How a report's subjects meet the policy's ``allow`` entries and the baseline's scopes.

``accepting`` finds the entries that accept a finding; ``broadening`` says how a subject
reaches further than the baseline recorded (more API levels, more access, new permissions).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from permaudit.ci.baseline import Baseline, PermissionScope
from permaudit.ci.policy import CAPABILITY, CODE_KINDS, PERMISSION, Acceptance, Policy
from permaudit.ci.policy_code import code_subjects
from permaudit.model import USES_PERMISSION_SDK_23, PermissionAccess, Report, Severity

_ALL_LEVELS = 10_000  # stands for "no maxSdkVersion" in API-level spans


def accepting(report: Report, subject: str, policy: Policy) -> tuple[Acceptance, ...]:
    """The ``allow`` entries that accept ``subject`` in ``report``; ``()`` when none do.

    A subject is accepted when an entry names it, or when it is a capability reached through
    permissions that are all allowed, or a permission whose capabilities are all allowed.
    """
    if not policy.allow:
        return ()
    code = tuple(
        a for a in policy.allow
        if a.target.kind in CODE_KINDS and subject in code_subjects(report, a.target.kind,
                                                                    a.target.name)
    )
    if code:
        return code
    direct = tuple(
        a for a in policy.allow
        if a.target.kind not in CODE_KINDS and _same(a.target.name, subject)
    )
    if direct:
        return direct
    by_permission = {a.target.name: a for a in policy.allow if a.target.kind == PERMISSION}
    by_capability = {a.target.name: a for a in policy.allow if a.target.kind == CAPABILITY}
    requested = {p.name for p in report.permissions}
    for hit in report.capabilities:
        if hit.id == subject:
            # Every permission through which the app reaches it must be allowed; manifest
            # features (``service:...``) that only widen a permission's reach follow it.
            via = [v for v in hit.via if v in requested]
            if via and all(v in by_permission for v in via):
                return tuple(dict.fromkeys(by_permission[v] for v in via))
            return ()
    capabilities = {c for p in report.permissions if p.name == subject for c in p.capabilities}
    if capabilities and all(c in by_capability for c in capabilities):
        return tuple(by_capability[c] for c in sorted(capabilities))
    return ()


def _same(a: str, b: str) -> bool:
    return a.removeprefix("android:").lower() == b.removeprefix("android:").lower()


def is_related(report: Report, change_subject: str, finding_subject: str) -> bool:
    """Whether a change's subject and a finding's subject name the same thing."""
    if _same(change_subject, finding_subject):
        return True
    # Components: changes say "service com.x.Y", findings may say "com.x.Y".
    if " " in change_subject and _same(change_subject.split(" ", 1)[1], finding_subject):
        return True
    # A permission and the capability it gives.
    for row in report.permissions:
        if row.name == change_subject and finding_subject in row.capabilities:
            return True
        if row.name == finding_subject and change_subject in row.capabilities:
            return True
    return False


def reaches(report: Report, kind: str, name: str) -> bool:
    """Whether the app requests permission ``name`` or reaches capability ``name``."""
    if kind == PERMISSION:
        return any(p.name == name and p.applies for p in report.permissions)
    return any(hit.id == name for hit in report.capabilities)


def reach_verb(kind: str) -> str:
    """``requests`` for a permission, ``reaches`` for a capability, ``ships``/``names`` for code."""
    if kind in ("tracker", "tracker_category"):
        return "ships"
    if kind in CODE_KINDS:
        return "names servers of"
    return "requests" if kind == PERMISSION else "reaches"


def subject_severity(report: Report, subject: str) -> Severity:
    """The highest severity the report gives ``subject`` (HIGH when it gives none)."""
    severities = [f.severity for f in report.findings if _same(f.subject, subject)]
    severities += [h.severity for h in report.capabilities if h.id == subject or subject in h.via]
    return max(severities, default=Severity.HIGH)


# --- broadening against a baseline ---------------------------------------------------------

Span = tuple[int, int]


def _span(element: str, max_sdk: int | None) -> Span:
    low = 23 if element == USES_PERMISSION_SDK_23 else 1
    return (low, _ALL_LEVELS if max_sdk is None else max_sdk)


def _covered(new: Iterable[Span], old: Sequence[Span]) -> bool:
    """Whether every API level of ``new`` lies in some span of ``old``."""
    merged: list[list[int]] = []
    for low, high in sorted(old):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return all(any(m[0] <= low and high <= m[1] for m in merged) for low, high in new)


def _spans_text(spans: Iterable[Span]) -> str:
    parts = []
    for low, high in sorted(set(spans)):
        if high >= _ALL_LEVELS:
            parts.append("all API levels" if low <= 1 else f"API {low}+")
        else:
            parts.append(f"API {low}-{high}")
    return ", ".join(parts) or "not requested"


def _permission_broadening(
    package: str, name: str, rows: Sequence[PermissionAccess], old: Sequence[PermissionScope]
) -> str | None:
    new_spans = [_span(r.element, r.max_sdk) for r in rows]
    old_spans = [_span(s.element, s.max_sdk) for s in old]
    if _covered(new_spans, old_spans):
        return None
    return f"{name} requested on {_spans_text(new_spans)} (was {_spans_text(old_spans)})"


def broadening(report: Report, subject: str, baseline: Baseline) -> str | None:
    """How ``subject`` reaches further than the baseline recorded, or ``None``."""
    package = report.app.manifest.package
    rows = [p for p in report.permissions if p.name == subject]
    if rows:
        return _permission_broadening(
            package, subject, rows, baseline.permission_scopes(package, subject)
        )
    for hit in report.capabilities:
        if hit.id != subject:
            continue
        old = baseline.capability_scope(package, subject)
        if old is None:
            return f"{subject} newly reached"
        wider = sorted(set(hit.access) - set(old.access))
        if wider:
            return f"{subject} now reaches {', '.join(wider)}"
        added = sorted(set(hit.via) - set(old.via))
        if added:
            return f"{subject} now also through {', '.join(added)}"
        for via in hit.via:
            via_rows = [p for p in report.permissions if p.name == via]
            if via_rows:
                text = _permission_broadening(
                    package, via, via_rows, baseline.permission_scopes(package, via)
                )
                if text:
                    return text
    return None
