"""The terminal view of ``permaudit diff``: what changed between two builds, worst first."""

from __future__ import annotations

from permaudit.formatters.compare_rows import (
    change_counts,
    change_label,
    change_subject,
    column_header,
    no_changes_text,
    ruleset_text,
    value_text,
)
from permaudit.formatters.labels import bold, paint, risk_severity
from permaudit.formatters.text.layout import DEFAULT_WIDTH, Cell, CellLike, Style, table, wrap
from permaudit.model import Report, Severity, sdk_text
from permaudit.views.diff import Diff


def _side(name: str, diff: Diff, report: Report, width: int, *, color: bool) -> list[str]:
    """``old: app version  minSdk ..  targetSdk ..  risk N (level)  (path)``, wrapped."""
    app = diff.old if name == "old" else diff.new
    manifest = report.app.manifest
    # Wrapped as one token (no-break space), painted after wrapping.
    risk = f"{report.risk.score}\u00a0({report.risk.level})"
    text = (
        f"{name}: {' '.join(filter(None, column_header(app)))}  "
        f"minSdk {sdk_text(manifest.min_sdk)}  targetSdk {sdk_text(manifest.target_sdk)}  "
        f"risk {risk}  ({app.path})"
    )
    painted = paint(risk.replace("\u00a0", " "), risk_severity(report.risk.level), color=color)
    return [line.replace(risk, painted) for line in wrap(text, width, indent="  ",
                                                          subsequent="      ")]


def _painter(severity: Severity, color: bool) -> Style | None:
    """A style painting text in ``severity``'s colour, or none without colour."""
    return (lambda text: paint(text, severity, color=True)) if color else None


def render(result: Diff, *, color: bool = False, width: int = DEFAULT_WIDTH) -> str:
    """Render ``result`` for a terminal ``width`` columns wide; ANSI colour when ``color``."""
    title = (
        f"permaudit diff: {result.old.title} {result.old.version} -> "
        f"{result.new.title} {result.new.version} on a device with API level "
        f"{result.device_sdk}; ruleset {ruleset_text(result.ruleset)}"
    )
    lines = [
        *(bold(line, color=color) for line in wrap(title, width)),
        *_side("old", result, result.old_report, width, color=color),
        *_side("new", result, result.new_report, width, color=color),
        "",
    ]
    if not result.same_package:
        lines += ["note: the two inputs are different packages, not two builds of one app", ""]
    note = ["", *wrap(result.code_note, width, subsequent="  ")] if result.code_note else []
    if not result.changes:
        lines.extend(wrap(no_changes_text(result), width, subsequent=""))
        return "\n".join([*lines, *note]) + "\n"
    lines.append(bold(f"{len(result.changes)} changes ({change_counts(result)})", color=color))
    rows: list[list[CellLike]] = [
        [
            Cell(change.severity.label, _painter(change.severity, color)),
            change_label(change.kind),
            change_subject(change),
            value_text(change.old),
            value_text(change.new),
        ]
        for change in result.changes
    ]
    headers = ["severity", "change", "subject", "old", "new"]
    lines += table(headers, rows, width, keys=(0, 1, 2)) or []
    return "\n".join([*lines, *note]) + "\n"
