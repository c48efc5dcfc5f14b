"""How a report's risk score divides: its findings in groups of alike ones, with the points."""

from __future__ import annotations

from permaudit._infra.records import record
from permaudit.engine.risk import pool_of
from permaudit.model import Finding, Report, ScorePool, Severity

#: What each pool means, in plain words.
POOL_TITLES = {
    ScorePool.REACH: "what the app can reach",
    ScorePool.SURFACE: "ways in for other apps",
}


@record
class FindingGroup:
    """Alike findings of one report and the whole points they add (``None``: info, none)."""

    severity: Severity
    #: ``None`` for the info findings, which add nothing whatever their pool.
    pool: ScorePool | None
    points: int | None
    findings: tuple[Finding, ...]

    @property
    def title(self) -> str:
        """``high, what the app can reach``; ``info`` for the info findings."""
        if self.pool is None:
            return self.severity.label
        return f"{self.severity.label}, {POOL_TITLES[self.pool]}"


def finding_groups(report: Report) -> list[FindingGroup]:
    """The report's findings grouped as ``Risk.groups`` counts them, most severe first,
    the reach pool before the surface pool, then the info findings; within a group the
    report's order."""
    members: dict[tuple[Severity, ScorePool], list[Finding]] = {}
    for finding in report.findings:
        members.setdefault((finding.severity, pool_of(finding)), []).append(finding)
    groups = sorted(
        report.risk.groups, key=lambda g: (-int(g.severity), g.pool is ScorePool.SURFACE)
    )
    result = [
        FindingGroup(severity=g.severity, pool=g.pool, points=g.points,
                     findings=tuple(members.get((g.severity, g.pool), ())))
        for g in groups
    ]
    counted = {(g.severity, g.pool) for g in groups}
    rest = tuple(f for f in report.findings if (f.severity, pool_of(f)) not in counted)
    if rest:
        result.append(FindingGroup(severity=Severity.INFO, pool=None, points=None, findings=rest))
    return result
