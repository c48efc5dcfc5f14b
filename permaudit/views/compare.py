"""Compare several apps' reports side by side: capabilities, permissions, findings, exclusives.

Pure: ``compare(reports) -> Comparison`` reads only the reports (made by the engine on one
device level with one ruleset) and never does I/O. Columns are the apps in input order;
rows are ordered by a fixed capability order and by name, never by input order, so
permuting the inputs only permutes the columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from permaudit._infra.records import record
from permaudit.errors import PermauditError
from permaudit.model import (
    IMPLIED,
    USES_PERMISSION,
    USES_PERMISSION_SDK_23,
    CapabilityHit,
    PermissionAccess,
    Report,
    RulesetInfo,
    Severity,
)
from permaudit.version import __version__
from permaudit.views.code import CodeColumn, cell_verdicts, code_columns
from permaudit.views.columns import AppColumn as AppColumn
from permaudit.views.columns import app_columns as app_columns
from permaudit.views.columns import signer_summary as signer_summary
from permaudit.views.findings import FindingRow, finding_rows
from permaudit.views.order import CAPABILITY_ORDER as CAPABILITY_ORDER
from permaudit.views.order import capability_sort_key as capability_sort_key
from permaudit.views.reach import Ask, hit_reach
from permaudit.views.summary import summary_sentences

#: Level text of a capability an app does not reach.
NOT_REACHED = "-"
#: Level text of a capability reached without any access label from the ruleset.
REACHED = "yes"
#: Group id of permissions that map to no capability.
OTHER_GROUP = "other"
OTHER_TITLE = "Other permissions"


@record
class CapabilityCell:
    """How far one app reaches one capability; ``level`` is ``-`` when it does not."""

    level: str
    access: tuple[str, ...] = ()
    severity: Severity | None = None
    via: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: How far it reaches, a ``ReachLevel.key`` (``none`` when it does not).
    reach: str = "none"
    #: What Android asks the user for each ``via`` entry, in ``via`` order.
    asks: tuple[Ask, ...] = ()
    #: What the code shows for it (``views.code`` verdict), ``None`` when code was not read
    #: or the API table does not cover the capability.
    code: str | None = None

    @property
    def reached(self) -> bool:
        """Whether the app reaches the capability at all."""
        return self.severity is not None


@record
class CapabilityRow:
    """One capability reached by at least one app, with one cell per app."""

    id: str
    title: str
    #: The highest severity among the cells (the ruleset's severity of the capability).
    severity: Severity
    cells: tuple[CapabilityCell, ...]
    #: What reaching it means, in plain words (the ruleset's rationale); empty if unknown.
    rationale: str = ""
    #: What Android asks the user, over every app's ``via`` entries, each subject once.
    asks: tuple[Ask, ...] = ()


@record
class PermissionEntry:
    """One element through which an app requests (or is implied) a permission."""

    element: str
    max_sdk: int | None = None
    reason: str | None = None
    applies: bool = True


@record
class PermissionCell:
    """Whether and how one app requests one permission; ``entries`` is empty when it does not."""

    entries: tuple[PermissionEntry, ...] = ()

    @property
    def requested(self) -> bool:
        """Whether the app has the permission at all (requested or implied)."""
        return bool(self.entries)

    @property
    def applies(self) -> bool:
        """Whether any of its elements is granted on the report's device level."""
        return any(entry.applies for entry in self.entries)

    @property
    def text(self) -> str:
        """Short text: ``yes``, ``sdk-23``, ``max API 28``, ``implied``, joined by ``; ``.

        ``(inactive)`` marks an element Android does not grant on the device level.
        """
        if not self.entries:
            return NOT_REACHED
        return "; ".join(_entry_text(entry) for entry in self.entries)


def _entry_text(entry: PermissionEntry) -> str:
    parts = []
    if entry.element == USES_PERMISSION_SDK_23:
        parts.append("sdk-23")
    elif entry.element == IMPLIED:
        parts.append("implied")
    if entry.max_sdk is not None:
        parts.append(f"max API {entry.max_sdk}")
    if not parts:
        parts.append("yes")
    if not entry.applies:
        parts.append("(inactive)")
    return " ".join(parts)


@record
class PermissionRow:
    """One permission requested by at least one app, grouped under one capability."""

    name: str
    #: Capability id the row is grouped under (the first in capability order), or ``other``.
    group: str
    group_title: str
    #: Every capability the permission maps to in any of the reports, in capability order.
    capabilities: tuple[str, ...]
    #: Protection class on the device level; distinct classes joined by ``/`` if apps disagree.
    protection_class: str
    protection: tuple[str, ...]
    cells: tuple[PermissionCell, ...]


@record
class PermissionCounts:
    """How many permission elements an app has, by kind, and how many apply on the device."""

    uses_permission: int
    uses_permission_sdk_23: int
    implied: int
    applies: int

    @property
    def requested(self) -> int:
        """Elements in the manifest: ``uses-permission`` plus ``uses-permission-sdk-23``."""
        return self.uses_permission + self.uses_permission_sdk_23

    @property
    def total(self) -> int:
        """Requested plus implied."""
        return self.requested + self.implied


@record
class Exclusives:
    """What only one app has among the compared ones: capabilities, then requested permissions."""

    capabilities: tuple[str, ...]
    permissions: tuple[str, ...]


@record
class Comparison:
    """Several apps side by side on one device level; every tuple is in column order."""

    tool_version: str
    ruleset: RulesetInfo | None
    device_sdk: int
    reports: tuple[Report, ...]
    apps: tuple[AppColumn, ...]
    capability_rows: tuple[CapabilityRow, ...]
    permission_rows: tuple[PermissionRow, ...]
    exclusives: tuple[Exclusives, ...]
    counts: tuple[PermissionCounts, ...]
    #: Per app, the top summary in sentences, generated from its report.
    summaries: tuple[tuple[str, ...], ...] = ()
    #: Hardening, exported-component, signing and tamper findings (every category but
    #: ``capability``), most severe first, then by rule id.
    finding_rows: tuple[FindingRow, ...] = ()
    #: Per app, in column order; empty when no app's code was read.
    code: tuple[CodeColumn, ...] = ()


def compare(
    reports: Sequence[Report],
    *,
    ruleset: RulesetInfo | None = None,
    tool_version: str = __version__,
) -> Comparison:
    """Put ``reports`` side by side; they must describe one device level.

    Raises ``PermauditError`` for fewer than two reports or mixed device levels.
    """
    reports = tuple(reports)
    if len(reports) < 2:
        raise PermauditError(f"compare needs at least two apps, got {len(reports)}")
    return overview(reports, ruleset=ruleset, tool_version=tool_version)


def overview(
    reports: Sequence[Report],
    *,
    ruleset: RulesetInfo | None = None,
    tool_version: str = __version__,
) -> Comparison:
    """The comparison of one app or more (``scan``'s page is that of one app).

    Raises ``PermauditError`` for no report or mixed device levels.
    """
    reports = tuple(reports)
    if not reports:
        raise PermauditError("nothing to show: no app was read")
    levels = sorted({r.device_sdk for r in reports})
    if len(levels) > 1:
        raise PermauditError(f"cannot compare reports made for different device levels {levels}")
    titles = _capability_titles(reports)
    apps = app_columns(reports)
    return Comparison(
        tool_version=tool_version,
        ruleset=ruleset,
        device_sdk=levels[0],
        reports=reports,
        apps=apps,
        summaries=tuple(
            summary_sentences(report, app.label)
            for report, app in zip(reports, apps, strict=True)
        ),
        capability_rows=_capability_rows(reports, titles),
        code=code_columns(reports),
        permission_rows=_permission_rows(reports, titles),
        exclusives=_exclusives(reports),
        counts=tuple(permission_counts(r) for r in reports),
        finding_rows=finding_rows(reports),
    )


def _capability_titles(reports: Iterable[Report]) -> dict[str, str]:
    titles: dict[str, set[str]] = {}
    for report in reports:
        for hit in report.capabilities:
            titles.setdefault(hit.id, set()).add(hit.title)
    # One ruleset gives one title per id; min() keeps the choice independent of input order.
    return {cap: min(names) for cap, names in titles.items()}


def capability_title(capability_id: str, titles: dict[str, str]) -> str:
    """The ruleset's title when a report names it, else the id made readable."""
    return titles.get(capability_id) or capability_id.replace("_", " ").capitalize()


def level_text(hit: CapabilityHit) -> str:
    """The ruleset's access labels joined by `` + ``, or ``yes`` when it gives none."""
    return " + ".join(hit.access) if hit.access else REACHED


def _capability_rows(
    reports: Sequence[Report], titles: dict[str, str]
) -> tuple[CapabilityRow, ...]:
    by_app = [{hit.id: hit for hit in r.capabilities} for r in reports]
    uses = [cell_verdicts(r) for r in reports]
    rows = []
    for cap in sorted(titles, key=capability_sort_key):
        cells = tuple(
            capability_cell(report, hits.get(cap), verdicts.get(cap))
            for report, hits, verdicts in zip(reports, by_app, uses, strict=True)
        )
        severity = max(c.severity for c in cells if c.severity is not None)
        rationales = sorted({h[cap].rationale for h in by_app if cap in h and h[cap].rationale})
        asks = {ask.subject: ask for cell in cells for ask in cell.asks}
        rows.append(
            CapabilityRow(
                id=cap, title=titles[cap], severity=severity, cells=cells,
                rationale=rationales[0] if rationales else "",
                asks=tuple(asks[k] for k in sorted(asks, key=lambda v: (":" in v, v))),
            )
        )
    return tuple(rows)


def capability_cell(
    report: Report, hit: CapabilityHit | None, code: str | None = None
) -> CapabilityCell:
    """One app's cell of a capability row (``hit`` is ``None`` when it does not reach it;
    ``code``: what its code shows for the capability, see ``views.code``)."""
    if hit is None:
        return CapabilityCell(level=NOT_REACHED, code=code)
    reach, asks = hit_reach(report, hit)
    return CapabilityCell(
        level=level_text(hit),
        access=hit.access,
        severity=hit.severity,
        via=hit.via,
        notes=hit.notes,
        reach=reach,
        asks=asks,
        code=code,
    )


def _permission_rows(
    reports: Sequence[Report], titles: dict[str, str]
) -> tuple[PermissionRow, ...]:
    by_app: list[dict[str, list[PermissionAccess]]] = []
    for report in reports:
        rows: dict[str, list[PermissionAccess]] = {}
        for access in report.permissions:
            rows.setdefault(access.name, []).append(access)
        by_app.append(rows)
    names = sorted({name for rows in by_app for name in rows})
    result = []
    for name in names:
        accesses = [a for rows in by_app for a in rows.get(name, ())]
        capabilities = tuple(
            sorted({c for a in accesses for c in a.capabilities}, key=capability_sort_key)
        )
        group = capabilities[0] if capabilities else OTHER_GROUP
        protections = sorted({a.protection for a in accesses})
        result.append(
            PermissionRow(
                name=name,
                group=group,
                group_title=OTHER_TITLE
                if group == OTHER_GROUP
                else capability_title(group, titles),
                capabilities=capabilities,
                protection_class="/".join(sorted({a.protection_class for a in accesses})),
                protection=protections[-1],
                cells=tuple(_permission_cell(rows.get(name, ())) for rows in by_app),
            )
        )
    order = {cap: capability_sort_key(cap) for cap in {row.group for row in result}}
    order[OTHER_GROUP] = (len(CAPABILITY_ORDER) + 1, "")
    return tuple(sorted(result, key=lambda row: (order[row.group], row.name)))


_ELEMENT_ORDER = {USES_PERMISSION: 0, USES_PERMISSION_SDK_23: 1, IMPLIED: 2}


def _permission_cell(accesses: Iterable[PermissionAccess]) -> PermissionCell:
    entries = {
        PermissionEntry(element=a.element, max_sdk=a.max_sdk, reason=a.reason, applies=a.applies)
        for a in accesses
    }
    return PermissionCell(
        entries=tuple(
            sorted(
                entries,
                key=lambda e: (
                    _ELEMENT_ORDER.get(e.element, 3),
                    e.element,
                    -1 if e.max_sdk is None else e.max_sdk,
                    e.reason or "",
                    e.applies,
                ),
            )
        )
    )


def requested_permissions(report: Report) -> frozenset[str]:
    """Names the manifest itself asks for (``uses-permission`` or ``-sdk-23``), not implied."""
    return frozenset(p.name for p in report.permissions if p.element != IMPLIED)


def _exclusives(reports: Sequence[Report]) -> tuple[Exclusives, ...]:
    capabilities = [frozenset(hit.id for hit in r.capabilities) for r in reports]
    permissions = [requested_permissions(r) for r in reports]
    result = []
    for index in range(len(reports)):
        other_caps = frozenset().union(*(c for i, c in enumerate(capabilities) if i != index))
        other_perms = frozenset().union(*(p for i, p in enumerate(permissions) if i != index))
        result.append(
            Exclusives(
                capabilities=tuple(
                    sorted(capabilities[index] - other_caps, key=capability_sort_key)
                ),
                permissions=tuple(sorted(permissions[index] - other_perms)),
            )
        )
    return tuple(result)


def permission_counts(report: Report) -> PermissionCounts:
    """Count the report's permission elements by kind, and those that apply on its device."""
    elements = [p.element for p in report.permissions]
    return PermissionCounts(
        uses_permission=elements.count(USES_PERMISSION),
        uses_permission_sdk_23=elements.count(USES_PERMISSION_SDK_23),
        implied=elements.count(IMPLIED),
        applies=sum(1 for p in report.permissions if p.applies),
    )

