"""The terminal report of ``permaudit scan``: each app's report, then the ruleset used."""

from __future__ import annotations

from permaudit.formatters.text.report import WIDTH, render_report
from permaudit.model import ScanResult


def render(result: ScanResult, *, color: bool = False, width: int = WIDTH) -> str:
    """Render every report of ``result`` for ``width`` columns, separated by a rule line."""
    separator = "\n\n" + "=" * min(78, width - 2) + "\n\n"
    footer = (
        f"\n\nruleset {result.ruleset.id} (sha256 {result.ruleset.sha256[:12]}), "
        f"permaudit {result.tool_version}\n"
    )
    body = separator.join(
        render_report(r, result.device_sdk, color, width) for r in result.reports
    )
    return body + footer
