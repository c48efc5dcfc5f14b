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
#: Categories of findings about how an app could be attacked or misused (attack surface),
#: as opposed to what it can reach itself (capabilities, combinations, tampering).
SURFACE_CATEGORIES = frozenset({"exported", "hardening", "permissions", "signing", "manifest"})
#: The largest share of the headroom attack-surface findings take together: an exported
#: component or a weak flag exposes at most what the app itself holds, so an app that
#: reaches nothing sensitive stays in the low band (74 * 0.3 = 22) however many it has.
SURFACE_SHARE = 0.3


def _score(remaining: float, surface_left: float, critical: bool) -> int:
    """The score of findings whose headroom left is ``remaining`` (see :func:`risk`)."""
    reach = 1.0 - remaining * (1.0 - SURFACE_SHARE * (1.0 - surface_left))
    if critical:
        return 75 + math.floor(25 * reach + 0.5)
    return math.floor(NON_CRITICAL_CEILING * reach + 0.5)


def is_surface(finding: Finding) -> bool:
    """Whether ``finding`` counts in the capped attack-surface share (see :func:`risk`)."""
    return finding.category in SURFACE_CATEGORIES and finding.severity is not Severity.CRITICAL


def risk(findings: Sequence[Finding]) -> Risk:
    """The 0..100 risk score of ``findings``, its level and each finding's points.

    Each finding takes a share of what is left, by severity: critical 50 %, high 25 %,
    medium 8 %, low 2 %, info nothing. Attack-surface findings (``SURFACE_CATEGORIES``,
    not critical) combine the same way among themselves, ``surface = 1 - prod(1 - w)``,
    but together take at most ``SURFACE_SHARE`` of the headroom: they say how others
    could get at what the app holds, which the capabilities measure. With
    ``reach = 1 - prod(1 - weight) * (1 - SURFACE_SHARE * surface)`` over the others::

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
    remaining = surface_left = 1.0
    critical = False
    # One pass: the score of each prefix from the running products (linear in the findings).
    for finding in ordered:
        if is_surface(finding):
            surface_left *= 1.0 - WEIGHTS[finding.severity]
        else:
            remaining *= 1.0 - WEIGHTS[finding.severity]
        critical = critical or finding.severity is Severity.CRITICAL
        score = _score(remaining, surface_left, critical)
        if score > total:
            contributions.append(
                ScoreContribution(rule=finding.rule, subject=finding.subject, points=score - total)
            )
            total = score
    level = next(name for floor, name in LEVELS if total >= floor)
    return Risk(score=total, level=level, contributions=tuple(contributions))




