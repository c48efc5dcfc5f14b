"""The 0..100 risk score: each finding takes a share of what is left, by severity."""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import MappingProxyType

from permaudit.engine.findings import finding_order
from permaudit.model import (
    Finding,
    Risk,
    ScoreContribution,
    Severity,
)

#: How much of the remaining headroom one finding of each severity takes (see :func:`risk`).
WEIGHTS = MappingProxyType({
    Severity.INFO: 0.0, Severity.LOW: 0.02, Severity.MEDIUM: 0.08, Severity.HIGH: 0.25,
    Severity.CRITICAL: 0.5,
})
#: Without a critical finding the score stays at or below this (the top of the high band).
NON_CRITICAL_CEILING = 74
#: (lowest score, level), highest first.
LEVELS = ((75, "critical"), (50, "high"), (25, "medium"), (1, "low"), (0, "none"))


def _score(remaining: float, critical: bool) -> int:
    """The score of findings whose headroom left is ``remaining`` (see :func:`risk`)."""
    reach = 1.0 - remaining
    if critical:
        return 75 + math.floor(25 * reach + 0.5)
    return math.floor(NON_CRITICAL_CEILING * reach + 0.5)


def risk(findings: Sequence[Finding]) -> Risk:
    """The 0..100 risk score of ``findings``, its level and each finding's points.

    Each finding takes a share of what is left, by severity: critical 50 %, high 25 %,
    medium 8 %, low 2 %, info nothing. With ``reach = 1 - prod(1 - weight)``::

        score = 75 + 25 * reach   if any finding is critical
        score = 74 * reach        otherwise          (rounded half up)

    Levels: 0 none, 1-24 low, 25-49 medium, 50-74 high, 75-100 critical. Only a critical
    finding reaches the critical band; below it, every further finding still moves the
    score (with diminishing steps), so apps with many capabilities stay comparable
    instead of all stopping at one cap. Adding a finding never lowers the score.
    ``contributions`` gives each finding, most severe first, the points it added, so
    they sum to the score (findings that added nothing are left out).
    """
    ordered = sorted(findings, key=finding_order)
    contributions = []
    total = 0
    remaining = 1.0
    critical = False
    # One pass: the score of each prefix from the running product (linear in the findings).
    for finding in ordered:
        remaining *= 1.0 - WEIGHTS[finding.severity]
        critical = critical or finding.severity is Severity.CRITICAL
        score = _score(remaining, critical)
        if score > total:
            contributions.append(
                ScoreContribution(rule=finding.rule, subject=finding.subject, points=score - total)
            )
            total = score
    level = next(name for floor, name in LEVELS if total >= floor)
    return Risk(score=total, level=level, contributions=tuple(contributions))




