"""The versioned JSON contract of ``permaudit compare`` (documented in README.md).

The scan document's fields (``schema_version``, ``tool``, ``ruleset``, ``device_sdk``, and
``apps`` with each app's scan data, in input order) plus the blocks: ``capability_matrix``,
``findings_matrix`` (every non-capability finding, one list of findings per app),
``permission_matrix``, ``exclusives`` and ``counts``. Every list is
in column order (apps) or in the comparison's defined row order; keys are sorted; no
timestamps, so the same inputs give byte-identical output.
"""

from __future__ import annotations

import json
from typing import Any

from permaudit.formatters.json.report import column_json, finding_json, provenance, report_json
from permaudit.views.code import CodeColumn
from permaudit.views.compare import (
    AppColumn,
    CapabilityCell,
    Comparison,
    PermissionCell,
    PermissionCounts,
)


def _capability_cell(cell: CapabilityCell) -> dict[str, Any]:
    return {
        "level": cell.level if cell.reached else None,
        "access": list(cell.access),
        "severity": None if cell.severity is None else cell.severity.label,
        "via": list(cell.via),
        "notes": list(cell.notes),
        "code": cell.code,
    }


def _code_column(app: AppColumn, column: CodeColumn) -> dict[str, Any]:
    return {
        "app": app.label,
        "read": column.read,
        "trackers": [
            {
                "name": t.name, "maker": t.maker, "categories": list(t.categories),
                "strength": t.strength,
            }
            for t in column.trackers
        ],
        "server_owners": [
            {
                "owner": g.owner, "country": g.country,
                "domains": [d.domain for d in g.domains],
                "strings": sum(d.strings for d in g.domains),
            }
            for g in column.servers
        ],
        "capability_use": [
            {
                "capability": u.capability, "asks": u.asks, "verdict": u.verdict,
                "references": list(u.references),
            }
            for u in column.uses
        ],
        "notes": list(column.notes),
    }


def _permission_cell(cell: PermissionCell) -> dict[str, Any]:
    return {
        "requested": cell.requested,
        "applies": cell.applies,
        "text": cell.text,
        "elements": [
            {
                "element": e.element,
                "max_sdk": e.max_sdk,
                "reason": e.reason,
                "applies": e.applies,
            }
            for e in cell.entries
        ],
    }


def _counts(counts: PermissionCounts) -> dict[str, int]:
    return {
        "uses_permission": counts.uses_permission,
        "uses_permission_sdk_23": counts.uses_permission_sdk_23,
        "implied": counts.implied,
        "total": counts.total,
        "applies": counts.applies,
    }


def comparison_document(result: Comparison) -> dict[str, Any]:
    """The whole compare document as plain data."""
    document = provenance(result.tool_version, result.ruleset, result.device_sdk)
    document["apps"] = [
        {**report_json(report), "column": column_json(app)}
        for app, report in zip(result.apps, result.reports, strict=True)
    ]
    document["capability_matrix"] = [
        {
            "capability": row.id,
            "title": row.title,
            "severity": row.severity.label,
            "cells": [_capability_cell(cell) for cell in row.cells],
        }
        for row in result.capability_rows
    ]
    document["findings_matrix"] = [
        {
            "rule": row.rule,
            "title": row.title,
            "category": row.category,
            "severity": row.severity.label,
            "cells": [[finding_json(f) for f in cell.findings] for cell in row.cells],
        }
        for row in result.finding_rows
    ]
    document["permission_matrix"] = [
        {
            "permission": row.name,
            "group": row.group,
            "capabilities": list(row.capabilities),
            "class": row.protection_class,
            "protection": list(row.protection),
            "cells": [_permission_cell(cell) for cell in row.cells],
        }
        for row in result.permission_rows
    ]
    document["exclusives"] = [
        {
            "app": app.label,
            "capabilities": list(only.capabilities),
            "permissions": list(only.permissions),
        }
        for app, only in zip(result.apps, result.exclusives, strict=True)
    ]
    # Empty when no app's code was read (``--no-code``), else one entry per app.
    document["code"] = [
        _code_column(app, column)
        for app, column in zip(result.apps, result.code, strict=True)
    ] if result.code else []
    document["counts"] = [
        {"app": app.label, **_counts(counts)}
        for app, counts in zip(result.apps, result.counts, strict=True)
    ]
    return document


def render(result: Comparison, *, color: bool = False) -> str:
    """Render ``result`` as the compare JSON contract (``color`` is ignored)."""
    del color
    text = json.dumps(comparison_document(result), indent=2, sort_keys=True, ensure_ascii=False)
    return text + "\n"
