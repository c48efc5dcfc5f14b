"""One-line summaries written to standard error after a command's report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from permaudit.ci.baseline import Baseline
from permaudit.ci.gate import (
    ACCEPTED,
    BASELINED,
    FAIL,
    KIND_CHANGE,
    KIND_DENY,
    KIND_FINDING,
    KIND_SCORE,
    UNCHANGED,
    CheckResult,
)
from permaudit.rules.model import RuleSet


def check_summary(result: CheckResult, *, exit_zero: bool = False) -> str:
    """The summary line of ``check``, saying when ``--exit-zero`` hides a failure."""
    text = summary_line(result)
    if exit_zero and not result.passed:
        text += " (--exit-zero: exit status 0)"
    return text


def summary_line(result: CheckResult) -> str:
    """``permaudit: FAIL 2 findings at or above high (1 new since baseline)`` and the like."""
    verdicts = result.verdicts
    at_or_above = [
        i
        for v in verdicts
        for i in v.items
        if i.kind in (KIND_FINDING, KIND_CHANGE)
        and i.status in (FAIL, ACCEPTED, BASELINED, UNCHANGED)
    ]
    failing = [i for i in at_or_above if i.status == FAIL]
    noun = "finding" if len(at_or_above) == 1 else "findings"
    text = f"{len(at_or_above)} {noun} at or above {result.fail_on.label}"
    if result.baseline_source is not None:
        fail_label = "new since baseline"
    elif result.against:
        fail_label = f"new since {', '.join(result.against)}"
    else:
        fail_label = "not accepted"
    details = []
    if failing or result.baseline_source is not None or result.against:
        details.append(f"{len(failing)} {fail_label}")
    for status, label in (
        (ACCEPTED, "accepted by policy"),
        (BASELINED, "in baseline"),
        (UNCHANGED, "unchanged"),
    ):
        count = sum(1 for i in at_or_above if i.status == status)
        if count:
            details.append(f"{count} {label}")
    if details:
        text += f" ({', '.join(details)})"
    extra = [
        f"{i.subject} denied by policy" if i.kind == KIND_DENY else i.reason
        for v in verdicts
        for i in v.items
        if i.failed and i.kind in (KIND_DENY, KIND_SCORE)
    ]
    if extra:
        text += "; " + "; ".join(extra)
    return f"permaudit: {'PASS' if result.passed else 'FAIL'} {text}"


def baseline_summary(action: str, path: Path, value: Baseline) -> str:
    """``permaudit: wrote FILE: N findings of M apps``."""
    packages = len(value.packages)
    return (
        f"permaudit: {action} {path}: {len(value.findings)} findings of {packages} "
        f"app{'s' if packages != 1 else ''}"
    )


def validated_summary(files: Sequence[Path], ruleset: RuleSet) -> str:
    """``ok: FILES: ruleset ID with N capabilities and M rules (sha256 ...)``."""
    checked = ", ".join(str(f) for f in files) if files else "the default ruleset"
    return (
        f"ok: {checked}: ruleset {ruleset.id} with {len(ruleset.capabilities)} capabilities "
        f"and {len(ruleset.rules)} rules (sha256 {ruleset.sha256[:12]})"
    )
