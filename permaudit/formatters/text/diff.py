"""The terminal view of ``permaudit diff``: what changed between two builds, worst first."""

from __future__ import annotations

from tabulate import tabulate

from permaudit.formatters.compare_rows import (
    change_counts,
    change_label,
    change_subject,
    column_header,
    ruleset_text,
    value_text,
    wrap_lines,
)
from permaudit.formatters.labels import bold, paint, risk_severity
from permaudit.model import Report, sdk_text
from permaudit.views.diff import Diff

VALUE_WIDTH = 56


def _side(name: str, diff: Diff, report: Report, *, color: bool) -> str:
    app = diff.old if name == "old" else diff.new
    manifest = report.app.manifest
    risk = paint(
        f"{report.risk.score} ({report.risk.level})",
        risk_severity(report.risk.level),
        color=color,
    )
    return (
        f"  {name}: {' '.join(filter(None, column_header(app)))}  "
        f"minSdk {sdk_text(manifest.min_sdk)}  targetSdk {sdk_text(manifest.target_sdk)}  "
        f"risk {risk}  ({app.path})"
    )


def render(result: Diff, *, color: bool = False) -> str:
    """Render ``result`` for a terminal; ANSI colour only when ``color`` is true."""
    title = (
        f"permaudit diff: {result.old.title} {result.old.version} -> "
        f"{result.new.title} {result.new.version} on a device with API level "
        f"{result.device_sdk}; ruleset {ruleset_text(result.ruleset)}"
    )
    lines = [
        bold(title, color=color),
        _side("old", result, result.old_report, color=color),
        _side("new", result, result.new_report, color=color),
        "",
    ]
    if not result.same_package:
        lines += ["note: the two inputs are different packages, not two builds of one app", ""]
    if not result.changes:
        lines.append("No changes in permissions, capabilities, components, flags or SDK levels.")
        return "\n".join(lines) + "\n"
    lines.append(bold(f"{len(result.changes)} changes ({change_counts(result)})", color=color))
    rows = [
        [
            paint(change.severity.label, change.severity, color=color),
            change_label(change.kind),
            change_subject(change),
            "\n".join(wrap_lines([value_text(change.old)], VALUE_WIDTH)),
            "\n".join(wrap_lines([value_text(change.new)], VALUE_WIDTH)),
        ]
        for change in result.changes
    ]
    lines += tabulate(
        rows,
        headers=["severity", "change", "subject", "old", "new"],
        tablefmt="simple",
        maxcolwidths=[None, None, 72, None, None],
    ).splitlines()
    return "\n".join(lines) + "\n"
