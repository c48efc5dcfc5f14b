"""GitHub Actions workflow commands for ``permaudit check``: findings as annotations.

``::error file=app.apk,title=...::message`` for each failing item, ``::warning`` for a
medium-or-higher finding below the threshold, ``::notice`` for the rest (accepted with its
justification, in the baseline, disabled). Data is escaped as the runner expects
(``%`` ``\\r`` ``\\n``), property values additionally ``:`` and ``,``.
"""

from __future__ import annotations

from permaudit.ci.gate import BELOW, CheckResult, Item, Verdict
from permaudit.formatters.summary import summary_line
from permaudit.model import Severity


def escape_data(text: str) -> str:
    """Escape a command's message."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``file=``, ``title=``)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, str], message: str) -> str:
    """One workflow command line."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return (
        f"::{name} {props}::{escape_data(message)}"
        if props
        else f"::{name}::{escape_data(message)}"
    )


def annotation(item: Item, verdict: Verdict) -> str:
    """The annotation of one judged item."""
    if item.failed:
        name = "error"
    elif item.status == BELOW and item.severity >= Severity.MEDIUM:
        name = "warning"
    else:
        name = "notice"
    properties = {"file": verdict.report.app.input.path}
    if item.line is not None:
        properties["line"] = str(item.line)
    properties["title"] = f"permaudit {item.rule} ({item.severity.label}): {item.title}"
    message = item.message
    reason = item.reason
    if item.justification:
        reason += f": {item.justification}"
    message += f"\n{'FAIL' if item.failed else 'pass'}: {reason}"
    return command(name, properties, message)


def render(result: CheckResult, *, color: bool = False) -> str:
    """Render ``result`` as workflow commands, ending with the summary as a notice or error."""
    del color
    lines = [annotation(item, v) for v in result.verdicts for item in v.items]
    lines.append(
        command(
            "notice" if result.passed else "error",
            {"title": "permaudit check"},
            summary_line(result).removeprefix("permaudit: "),
        )
    )
    return "\n".join(lines) + "\n"
