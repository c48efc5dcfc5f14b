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
    ScoreGroup,
    ScorePool,
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


def pool_of(finding: Finding) -> ScorePool:
    """The pool ``finding`` counts in: attack surface (capped) or what the app reaches."""
    return ScorePool.SURFACE if is_surface(finding) else ScorePool.REACH


def risk(findings: Sequence[Finding]) -> Risk:
    """The 0..100 risk score of ``findings``, its level and how the points divide.

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

    How the points divide does not depend on the order of the findings (see
    :func:`_shares`): alike findings (one severity, one pool) get equal shares
    (``contributions``, two decimals), and ``groups`` gives each set of alike findings
    whole points that add up to the score exactly (info findings are in no group).
    """
    ordered = sorted(findings, key=finding_order)
    counts: dict[tuple[Severity, ScorePool], int] = {}
    for finding in ordered:
        if WEIGHTS[finding.severity] > 0:  # info findings add nothing: in no group
            key = (finding.severity, pool_of(finding))
            counts[key] = counts.get(key, 0) + 1
    remaining = math.prod(
        (1.0 - WEIGHTS[s]) ** n for (s, pool), n in counts.items() if pool is ScorePool.REACH
    )
    surface_left = math.prod(
        (1.0 - WEIGHTS[s]) ** n for (s, pool), n in counts.items() if pool is ScorePool.SURFACE
    )
    critical = (Severity.CRITICAL, ScorePool.REACH) in counts
    score = _score(remaining, surface_left, critical)
    exact = _shares(counts, remaining, surface_left, critical, score)
    whole = _apportion(exact, score)
    groups = tuple(
        ScoreGroup(severity=s, pool=pool, findings=counts[s, pool], points=whole[s, pool])
        for s, pool in counts
    )
    contributions = tuple(
        ScoreContribution(rule=f.rule, subject=f.subject, points=round(share, 2))
        for f in ordered
        if WEIGHTS[f.severity] > 0 and (share := _per_finding(f, exact, counts)) > 0
    )
    level = next(name for floor, name in LEVELS if score >= floor)
    return Risk(score=score, level=level, contributions=contributions, groups=groups)


def _per_finding(
    finding: Finding, exact: dict[tuple[Severity, ScorePool], float],
    counts: dict[tuple[Severity, ScorePool], int],
) -> float:
    key = (finding.severity, pool_of(finding))
    return exact[key] / counts[key]


def _shares(
    counts: dict[tuple[Severity, ScorePool], int], remaining: float, surface_left: float,
    critical: bool, score: int,
) -> dict[tuple[Severity, ScorePool], float]:
    """Each group's exact share of ``score``, independent of the findings' order.

    The headroom left is a product, ``remaining * (1 - SURFACE_SHARE * surface)``, so its
    logarithm is a sum with one term per factor: each group gets the part of ``score``
    (above 75 for a critical app, whose base 75 goes to the critical findings) that its
    term is of the whole; the surface term divides among the surface groups by their own
    logarithms. Marginal points (what each finding adds after the ones before it) would
    give two alike findings different points only because one is listed first.
    """
    mass = {key: -n * math.log1p(-WEIGHTS[key[0]]) for key, n in counts.items()}
    surface_mass = sum(m for (_, pool), m in mass.items() if pool is ScorePool.SURFACE)
    surface_term = -math.log1p(-SURFACE_SHARE * (1.0 - surface_left))
    reach_terms = -math.log(remaining) if remaining > 0 else math.inf
    base = 75.0 if critical else 0.0
    total_log = reach_terms + surface_term
    shares: dict[tuple[Severity, ScorePool], float] = {}
    for key, m in mass.items():
        if total_log <= 0 or m <= 0:
            part = 0.0
        elif key[1] is ScorePool.SURFACE:
            part = surface_term / total_log * (m / surface_mass)
        else:
            part = m / total_log
        shares[key] = part * (score - base)
    if critical:
        shares[Severity.CRITICAL, ScorePool.REACH] += base
    return shares


def _apportion(exact: dict[tuple[Severity, ScorePool], float], total: int) -> dict[
    tuple[Severity, ScorePool], int
]:
    """Whole points per group adding up to ``total``: largest remainders (Hamilton's
    method); ties go to the more severe group, then to the reach pool."""
    floors = {key: math.floor(value) for key, value in exact.items()}
    left = total - sum(floors.values())
    by_remainder = sorted(
        exact, key=lambda k: (-(exact[k] - floors[k]), -int(k[0]), k[1] is ScorePool.SURFACE)
    )
    for key in by_remainder[:max(left, 0)]:
        floors[key] += 1
    return floors
