"""The versioned JSON contract of ``permaudit diff`` (documented in README.md).

Provenance as in the scan contract, ``old`` and ``new`` with each build's scan data, and
``changes``: ``{"kind", "subject", "old", "new", "severity"}`` with ``kind`` from the closed
set ``diff.CHANGE_KINDS``, ordered worst first. ``code_compared`` says whether both builds'
code was read and compared (``code_note``: why not, else ``null``); only then do the code
change kinds appear. Full permission names; no timestamps.
"""

from __future__ import annotations

import json
from typing import Any

from permaudit.formatters.json.report import SCHEMA_VERSION, column_json, provenance, report_json
from permaudit.views.diff import Change, Diff

__all__ = ["SCHEMA_VERSION", "change_json", "diff_document", "render"]


def change_json(change: Change) -> dict[str, Any]:
    """One change; ``old``/``new`` are ``null`` when the thing is absent on that side."""
    return {
        "kind": change.kind,
        "subject": change.subject,
        "old": change.old,
        "new": change.new,
        "severity": change.severity.label,
    }


def diff_document(result: Diff) -> dict[str, Any]:
    """The whole diff document as plain data."""
    document = provenance(result.tool_version, result.ruleset, result.device_sdk)
    document["old"] = {**report_json(result.old_report), "column": column_json(result.old)}
    document["new"] = {**report_json(result.new_report), "column": column_json(result.new)}
    document["same_package"] = result.same_package
    document["code_compared"] = result.code_compared
    document["code_note"] = result.code_note
    document["changes"] = [change_json(change) for change in result.changes]
    return document


def render(result: Diff, *, color: bool = False) -> str:
    """Render ``result`` as the diff JSON contract (``color`` is ignored)."""
    del color
    text = json.dumps(diff_document(result), indent=2, sort_keys=True, ensure_ascii=False)
    return text + "\n"
