"""The findings block of a comparison: hardening, exported-component and signing findings per app.

Pure: built from the reports alone. Capability findings are left out (the capability rows
show them); every other category is kept, so a new rule family appears without a change here.
"""

from __future__ import annotations

from collections.abc import Sequence

from permaudit._infra.records import record
from permaudit.model import Finding, Report, Severity

#: The finding category of capability findings: those are the capability rows already.
CAPABILITY_CATEGORY = "capability"


@record
class FindingCell:
    """One app's findings of one rule (hardening, exported components, signing, ...)."""

    findings: tuple[Finding, ...] = ()

    @property
    def found(self) -> bool:
        """Whether the rule fired on this app."""
        return bool(self.findings)


@record
class FindingRow:
    """One rule other than a capability that fired on at least one app, one cell per app."""

    rule: str
    title: str
    category: str
    #: The highest severity among the findings of the row.
    severity: Severity
    cells: tuple[FindingCell, ...]


def finding_rows(reports: Sequence[Report]) -> tuple[FindingRow, ...]:
    """One row per rule other than a capability that fired on any of ``reports``."""
    by_rule: dict[str, list[list[Finding]]] = {}
    for column, report in enumerate(reports):
        for found in report.findings:
            if found.category == CAPABILITY_CATEGORY:
                continue
            cells = by_rule.setdefault(found.rule, [[] for _ in reports])
            cells[column].append(found)
    rows = []
    for rule, cells in by_rule.items():
        every = [f for c in cells for f in c]
        rows.append(
            FindingRow(
                rule=rule,
                # One ruleset gives one title per rule; min() keeps it independent of order.
                title=min(f.title for f in every),
                category=min(f.category for f in every),
                severity=max(f.severity for f in every),
                cells=tuple(
                    FindingCell(findings=tuple(sorted(c, key=lambda f: f.subject)))
                    for c in cells
                ),
            )
        )
    return tuple(sorted(rows, key=lambda row: (-int(row.severity), row.rule)))
