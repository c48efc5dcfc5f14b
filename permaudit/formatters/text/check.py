"""The terminal report of ``permaudit check``: the scan report, then the verdict and why."""

from __future__ import annotations

import textwrap

from permaudit.ci.gate import (
    ACCEPTED,
    BASELINED,
    BELOW,
    DISABLED,
    FAIL,
    UNCHANGED,
    CheckResult,
    Item,
    Verdict,
)
from permaudit.formatters.labels import short_permission
from permaudit.formatters.summary import summary_line
from permaudit.formatters.text.layout import DEFAULT_WIDTH
from permaudit.formatters.text.report import Painter, render_report

#: Order of the verdict rows: what failed first, then what passed and why.
STATUS_ORDER = (FAIL, ACCEPTED, BASELINED, UNCHANGED, DISABLED)
STATUS_WIDTH = 10
SEVERITY_WIDTH = 10
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


def item_lines(item: Item, paint: Painter) -> list[str]:
    """``STATUS  severity  rule  subject`` then the reason, wrapped and indented."""
    status = STATUS_LABEL[item.status].ljust(STATUS_WIDTH)
    severity = paint.severity(item.severity, item.severity.label.ljust(SEVERITY_WIDTH))
    head = f"{paint.bold(status) if item.failed else status}{severity}{item.rule}"
    indent = " " * (STATUS_WIDTH + SEVERITY_WIDTH)
    lines = [head]
    subject = short_permission(item.subject)
    if subject not in item.rule:
        if len(item.rule) + len(subject) + 2 + len(indent) <= paint.width - 2:
            lines[0] += f"  {subject}"
        else:
            lines.append(indent + subject)
    why = textwrap.wrap(
        _why(item), width=paint.width - 2, initial_indent=indent, subsequent_indent=indent,
        break_long_words=False, break_on_hyphens=False,
    )
    return [*lines, *why]


def verdict_block(verdict: Verdict, paint: Painter) -> list[str]:
    """The verdict of one app: every failing or passed-for-a-reason item, with the reason."""
    state = "PASS" if verdict.passed else "FAIL"
    title = f"Verdict: {state} (fail on {verdict.fail_on.label}"
    if verdict.compared_to:
        title += f", compared with {verdict.compared_to}"
    title += ")"
    lines = [paint.bold(title)]
    for status in STATUS_ORDER:
        for item in verdict.items:
            if item.status == status:
                lines.extend(item_lines(item, paint))
    below = verdict.count(BELOW)
    if below:
        noun = "finding" if below == 1 else "findings"
        lines.append(f"{below} {noun} below {verdict.fail_on.label} (not gated)")
    if len(lines) == 1:
        lines.append("no findings")
    return lines


def render(result: CheckResult, *, color: bool = False, width: int = DEFAULT_WIDTH) -> str:
    """Each app's scan report followed by its verdict; the overall summary at the end."""
    paint = Painter(color, width)
    separator = "\n\n" + "=" * min(78, width - 2) + "\n\n"
    parts = [
        render_report(verdict.report, result.scan.device_sdk, color, width)
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
