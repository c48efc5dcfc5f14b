"""The Markdown report of ``permaudit check``, for pull-request comments and job summaries."""

from __future__ import annotations

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
from permaudit.formatters.escape import markdown, markdown_code
from permaudit.formatters.summary import summary_line
from permaudit.model import sdk_text

STATUS_ORDER = (FAIL, ACCEPTED, BASELINED, UNCHANGED, DISABLED, BELOW)
STATUS_LABEL = {
    FAIL: "**FAIL**",
    ACCEPTED: "accepted",
    BASELINED: "baseline",
    UNCHANGED: "unchanged",
    DISABLED: "disabled",
    BELOW: "below threshold",
}


def cell(text: str) -> str:
    """Text inert inside a Markdown table cell: the markdown family's escaper, one line."""
    return " ".join(markdown(text).split())


def _why(item: Item) -> str:
    if item.justification:
        return f"{item.reason}: *{cell(item.justification)}*"
    return cell(item.reason)


def app_section(verdict: Verdict) -> list[str]:
    """One app: identity, what it can reach, and the judged items."""
    report = verdict.report
    manifest = report.app.manifest
    state = "PASS" if verdict.passed else "FAIL"
    version = manifest.version_name or "?"
    lines = [
        f"## {'✅' if verdict.passed else '❌'} {state}: "
        + (f"{cell(manifest.label)} ({markdown_code(manifest.package)})" if manifest.label
           else markdown_code(manifest.package))
        + f" {cell(version)}",
        "",
        f"Input {markdown_code(report.app.input.path)}, targetSdk {sdk_text(manifest.target_sdk)}, "
        f"risk score {report.risk.score} ({report.risk.level}), fail on "
        f"{verdict.fail_on.label}"
        + (f", compared with {markdown_code(verdict.compared_to)}" if verdict.compared_to else "")
        + ".",
        "",
    ]
    if report.capabilities:
        reach = ", ".join(f"{hit.title} ({hit.severity.label})" for hit in report.capabilities)
        lines += [f"Can reach: {cell(reach)}.", ""]
    rows = [
        f"| {STATUS_LABEL[item.status]} | {item.severity.label} | `{item.rule}` | "
        f"{cell(item.subject)} | {_why(item)} |"
        for status in STATUS_ORDER
        for item in verdict.items
        if item.status == status
    ]
    if rows:
        lines += ["| status | severity | rule | subject | why |", "|---|---|---|---|---|", *rows]
    else:
        lines.append("No findings.")
    return lines


def render(result: CheckResult, *, color: bool = False) -> str:
    """Render ``result`` as Markdown (``color`` is ignored)."""
    del color
    lines = ["# permaudit check", "", summary_line(result).removeprefix("permaudit: "), ""]
    for verdict in result.verdicts:
        lines += [*app_section(verdict), ""]
    lines.append(
        f"<sub>ruleset {result.scan.ruleset.id} (sha256 {result.scan.ruleset.sha256[:12]}), "
        f"permaudit {result.scan.tool_version}, device API level {result.scan.device_sdk}</sub>"
    )
    return "\n".join(lines) + "\n"
