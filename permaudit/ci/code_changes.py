"""What ``check --against`` counts as widening in the code: a tracker SDK added, a new country.

Pure. Between the old and the new build's code evidence (compared only when both were read,
as ``views.code_changes.code_comparison`` decides for ``diff``: a build whose DEX could not
be read would otherwise make every tracker of the other look added): every
tracker SDK the new build ships and the old did not (by tracker id) is ``tracker_added``
(rule ``diff.tracker_added``, default ``high``: a release that brings in a new party
receiving data about its users fails the default gate); every country of a known server
owner the new code names that the old did not is ``server_country_added`` (``medium``).
The policy re-grades or disables them by rule id and accepts them with ``allow`` entries
(``tracker: NAME``, ``server_country: CC``), like any finding.
"""

from __future__ import annotations

from permaudit._infra.records import record
from permaudit.ci.policy_code import COUNTRY_SUBJECT, TRACKER_SUBJECT
from permaudit.ci.rule_docs import RuleDoc
from permaudit.model import Report, Severity
from permaudit.views.code_changes import code_comparison, server_countries

TRACKER_ADDED = "tracker_added"
SERVER_COUNTRY_ADDED = "server_country_added"
#: Default severities of the two change rules.
SEVERITIES = {TRACKER_ADDED: Severity.HIGH, SERVER_COUNTRY_ADDED: Severity.MEDIUM}


@record
class CodeChange:
    """A widening of the code between two builds (shaped like ``views.diff.Change``)."""

    kind: str
    subject: str
    old: str | None = None
    new: str | None = None
    severity: Severity = Severity.INFO


def code_changes(old: Report, new: Report) -> tuple[CodeChange, ...]:
    """Trackers added and server countries new in ``new``; ``()`` when either has no code."""
    before, after = old.code_evidence, new.code_evidence
    if before is None or after is None or not code_comparison(old, new).compared:
        return ()
    changes = []
    had = {t.tracker_id for t in before.trackers if t.strength == "defined"}
    for hit in after.trackers:
        if hit.strength == "defined" and hit.tracker_id not in had:
            maker = f"by {hit.owner}; " if hit.owner else ""
            changes.append(CodeChange(
                kind=TRACKER_ADDED, subject=TRACKER_SUBJECT + hit.name,
                new=f"{maker}{', '.join(hit.categories) or 'no category'}",
                severity=SEVERITIES[TRACKER_ADDED],
            ))
    was, now = server_countries(before), server_countries(after)
    for country in sorted(now.keys() - was.keys()):
        changes.append(CodeChange(
            kind=SERVER_COUNTRY_ADDED, subject=COUNTRY_SUBJECT + country,
            new="servers of " + ", ".join(now[country]),
            severity=SEVERITIES[SERVER_COUNTRY_ADDED],
        ))
    return tuple(changes)


CODE_CHANGE_DOCS = (
    RuleDoc(
        id="diff." + TRACKER_ADDED,
        title="A tracker SDK added in a release",
        severity=SEVERITIES[TRACKER_ADDED],
        help="The new build ships a tracker SDK (Exodus Privacy's list or permaudit's "
        "supplement) that the old build (check --against) did not: one more party receives "
        "data about the app's users. Accept it with an allow entry (tracker: NAME) and a "
        "justification, or re-grade the rule in the policy.",
    ),
    RuleDoc(
        id="diff." + SERVER_COUNTRY_ADDED,
        title="Servers in a new country",
        severity=SEVERITIES[SERVER_COUNTRY_ADDED],
        help="The new build's code names servers of an owner based in a country no server "
        "named by the old build's code (check --against) was in. Named, not proof of traffic.",
    ),
)
