"""Helpers shared by the compare and diff renderers: short names, cell texts, colours, escaping."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence

from permaudit.formatters.escape import markdown, markdown_code
from permaudit.formatters.labels import short_permission
from permaudit.model import COMPONENT_KINDS, IMPLIED, Finding, RulesetInfo
from permaudit.views.compare import (
    NOT_REACHED,
    AppColumn,
    CapabilityCell,
    Comparison,
    PermissionCell,
    PermissionCounts,
)
from permaudit.views.diff import Change, Diff
from permaudit.views.findings import FindingCell, FindingRow


def short_via(name: str) -> str:
    """A ``via`` entry for tables: no permission prefix; ``kind:a.b.Class`` -> ``kind:Class``."""
    kind, sep, component = name.partition(":")
    if sep and kind in COMPONENT_KINDS:
        return f"{kind}:{component.rsplit('.', 1)[-1]}"
    return short_permission(name)


def is_component(subject: str) -> bool:
    """Whether a finding's subject names a component (``service:a.b.C``)."""
    kind, sep, _ = subject.partition(":")
    return bool(sep) and kind in COMPONENT_KINDS


def finding_text(finding: Finding) -> str:
    """What one finding says in a comparison cell: the component, or the message."""
    if is_component(finding.subject):
        return short_via(finding.subject)
    return finding.message or short_permission(finding.subject)


def finding_lines(cell: FindingCell) -> list[str]:
    """A findings cell as lines, one per finding; ``-`` when the rule did not fire."""
    return [finding_text(f) for f in cell.findings] or [NOT_REACHED]


def finding_row_title(row: FindingRow) -> tuple[str, str]:
    """The row's title and ``(rule id, severity)``."""
    return row.title, f"({row.rule}, {row.severity.label})"


def short_list(names: Sequence[str]) -> str:
    """Short names joined by commas."""
    return ", ".join(short_permission(n) for n in names)


def ruleset_text(ruleset: RulesetInfo | None) -> str:
    """``id (sha256 0123456789ab)``, or ``unknown`` without provenance."""
    if ruleset is None:
        return "unknown"
    return f"{ruleset.id} (sha256 {ruleset.sha256[:12]})"


def column_header(app: AppColumn) -> tuple[str, str]:
    """The two header lines of an app column: its label, and its version unless in the label."""
    version = app.version
    if app.version_name and app.version_name in app.label:
        version = f"versionCode {app.version_code}" if app.version_code is not None else ""
    return app.label, version


def capability_lines(cell: CapabilityCell) -> list[str]:
    """A capability cell as lines: the level, ``via ...`` and each note."""
    if not cell.reached:
        return [cell.level]
    lines = [cell.level]
    if cell.via:
        lines.append("via " + ", ".join(short_via(v) for v in cell.via))
    lines.extend(f"note: {note}" for note in cell.notes)
    return lines


def wrap_lines(lines: Sequence[str], width: int, indent: str = "  ") -> list[str]:
    """Wrap every line to ``width`` between words, continuation lines indented by ``indent``."""
    wrapped: list[str] = []
    for line in lines:
        wrapped.extend(
            textwrap.wrap(
                line,
                width=width,
                subsequent_indent=indent,
                break_on_hyphens=False,
                break_long_words=False,
            )
            or [""]
        )
    return wrapped


def permission_cell_text(cell: PermissionCell) -> str:
    """The permission-matrix cell: ``yes``, ``sdk-23``, ``max API 28``, ``implied``, ``-``."""
    return cell.text


def implied_reasons(cell: PermissionCell) -> tuple[str, ...]:
    """Why the permission is implied for this app, if it is."""
    return tuple(e.reason for e in cell.entries if e.element == IMPLIED and e.reason)


def counts_row(counts: PermissionCounts) -> list[int]:
    """uses-permission, uses-permission-sdk-23, implied, total, applying on the device."""
    return [
        counts.uses_permission,
        counts.uses_permission_sdk_23,
        counts.implied,
        counts.total,
        counts.applies,
    ]


COUNT_HEADERS = ("uses-permission", "uses-permission-sdk-23", "implied", "total")


def count_headers(device_sdk: int) -> list[str]:
    """Headers matching ``counts_row``."""
    return [*COUNT_HEADERS, f"applies on API {device_sdk}"]


def value_text(value: str | int | bool | None) -> str:
    """A diff value as text: ``-`` for absent, ``true``/``false`` for flags."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return short_permission(str(value))


def groups(comparison: Comparison) -> list[tuple[str, str, list[int]]]:
    """Permission rows grouped: ``(group id, group title, row indexes)`` in display order."""
    result: list[tuple[str, str, list[int]]] = []
    for index, row in enumerate(comparison.permission_rows):
        if not result or result[-1][0] != row.group:
            result.append((row.group, row.group_title, []))
        result[-1][2].append(index)
    return result


md_escape = markdown  # the markdown family's one escaper (permaudit.formatters.escape)
md_code = markdown_code


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GFM table from already-escaped cells."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(" --- " for _ in headers) + "|",
    ]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def change_label(kind: str) -> str:
    """``permission_added`` -> ``permission added``."""
    return kind.replace("_", " ")


def change_subject(change: Change) -> str:
    """The change's subject with the ``android.permission.`` prefix dropped."""
    return short_permission(change.subject)


def no_changes_text(diff: Diff) -> str:
    """What the diff compared when it found no change (the code only when it was compared)."""
    if diff.code_compared:
        return ("No changes in permissions, capabilities, components, flags, SDK levels or "
                "the code's trackers, servers, API use and native libraries.")
    return "No changes in permissions, capabilities, components, flags or SDK levels."


def change_counts(diff: Diff) -> str:
    """``2 high, 1 info``: how many changes of each severity, worst first."""
    counts = Counter(change.severity for change in diff.changes)
    return ", ".join(f"{counts[s]} {s.label}" for s in sorted(counts, reverse=True))
