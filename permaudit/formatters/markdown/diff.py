"""``permaudit diff`` as GitHub-flavoured markdown, ready for a release pull request."""

from __future__ import annotations

from permaudit.formatters.compare_rows import (
    change_counts,
    change_label,
    change_subject,
    column_header,
    md_code,
    md_escape,
    md_table,
    no_changes_text,
    ruleset_text,
    value_text,
)
from permaudit.model import Severity, sdk_text
from permaudit.views.diff import Diff


def _sides(result: Diff) -> list[str]:
    rows = []
    for name, app, report in (
        ("old", result.old, result.old_report),
        ("new", result.new, result.new_report),
    ):
        manifest = report.app.manifest
        rows.append(
            [
                name,
                md_escape(" ".join(filter(None, column_header(app)))),
                sdk_text(manifest.min_sdk),
                sdk_text(manifest.target_sdk),
                f"{report.risk.score} ({md_escape(report.risk.level)})",
                md_code(app.path),
            ]
        )
    return md_table(["", "app", "minSdk", "targetSdk", "risk", "input"], rows)


def render(result: Diff, *, color: bool = False) -> str:
    """Render ``result`` as markdown (``color`` is ignored)."""
    del color
    lines = [
        f"## permaudit diff: {md_escape(result.old.title)} {md_escape(result.old.version)}"
        f" → {md_escape(result.new.version)}",
        "",
        f"Device API level {result.device_sdk}; ruleset {md_escape(ruleset_text(result.ruleset))}; "
        f"permaudit {md_escape(result.tool_version)}.",
        "",
        *_sides(result),
        "",
    ]
    if not result.same_package:
        lines += ["> **Note:** the two inputs are different packages.", ""]
    note = ["", f"> **Note:** {md_escape(result.code_note)}"] if result.code_note else []
    if not result.changes:
        lines.append(no_changes_text(result))
        return "\n".join([*lines, *note]) + "\n"
    lines += [f"### {len(result.changes)} changes ({change_counts(result)})", ""]
    rows = [
        [
            f"**{change.severity.label}**"
            if change.severity > Severity.INFO
            else change.severity.label,
            md_escape(change_label(change.kind)),
            md_code(change_subject(change)),
            md_escape(value_text(change.old)),
            md_escape(value_text(change.new)),
        ]
        for change in result.changes
    ]
    lines += md_table(["severity", "change", "subject", "old", "new"], rows)
    return "\n".join([*lines, *note]) + "\n"
