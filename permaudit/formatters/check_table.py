"""The terminal report of ``permaudit check``: the scan report, then the verdict and why."""

from __future__ import annotations

from permaudit.formatters.scan_table import Painter, render_report, short_permission, table
from permaudit.gate import (
    ACCEPTED,
    BASELINED,
    BELOW,
    DISABLED,
    FAIL,
    UNCHANGED,
    CheckResult,
    Item,
    Verdict,
    summary_line,
)

#: Order of the verdict rows: what failed first, then what passed and why.
STATUS_ORDER = (FAIL, ACCEPTED, BASELINED, UNCHANGED, DISABLED)
STATUS_LABEL = {
    FAIL: "FAIL",
    ACCEPTED: "accepted",
    BASELINED: "baseline",
    UNCHANGED: "unchanged",
    DISABLED: "disabled",
}


def _why(item: Item) -> str:
    if item.justification:
        return f"{item.reason}: {item.justification}"
    return item.reason


def verdict_block(verdict: Verdict, paint: Painter) -> list[str]:
    """The verdict of one app: every failing or passed-for-a-reason item, with the reason."""
    state = "PASS" if verdict.passed else "FAIL"
    title = f"Verdict: {state} (fail on {verdict.fail_on.label}"
    if verdict.compared_to:
        title += f", compared with {verdict.compared_to}"
    title += ")"
    lines = [paint.bold(title)]
    rows = [
        (
            STATUS_LABEL[item.status],
            paint.severity(item.severity),
            item.rule,
            short_permission(item.subject),
            _why(item),
        )
        for status in STATUS_ORDER
        for item in verdict.items
        if item.status == status
    ]
    if rows:
        lines.append(
            table(rows, ("status", "severity", "rule", "subject", "why"), (None, None, 24, 22, 30))
        )
    below = verdict.count(BELOW)
    if below:
        noun = "finding" if below == 1 else "findings"
        lines.append(f"{below} {noun} below {verdict.fail_on.label} (not gated)")
    if not rows and not below:
        lines.append("no findings")
    return lines


def render(result: CheckResult, *, color: bool = False) -> str:
    """Each app's scan report followed by its verdict; the overall summary at the end."""
    paint = Painter(color)
    separator = "\n\n" + "=" * 78 + "\n\n"
    parts = [
        render_report(verdict.report, result.scan.device_sdk, color)
        + "\n\n"
        + "\n".join(verdict_block(verdict, paint))
        for verdict in result.verdicts
    ]
    footer = (
        f"\n\n{summary_line(result).removeprefix('permaudit: ')}\n"
        f"ruleset {result.scan.ruleset.id} (sha256 {result.scan.ruleset.sha256[:12]}), "
        f"permaudit {result.scan.tool_version}\n"
    )
    return separator.join(parts) + footer
