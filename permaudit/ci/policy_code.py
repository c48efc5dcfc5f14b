"""Policy targets over code evidence: checking their names, and the report subjects they match.

``tracker: NAME`` (a tracker SDK of the shipped table, any case), ``tracker_category: CAT``
(``advertisement``, ...), ``server_country: CC`` (ISO 3166-1 alpha-2) and ``server_owner:
NAME`` (the domain owner table). A target matches subjects of the report's code evidence:
``tracker:<name>`` for trackers the app ships, ``owner:<name>`` (and ``country:<CC>``) for
the owners of servers its code names; the same subjects the default rules
(``rules/code.yml``) and ``check --against`` give their findings and changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from permaudit._infra.records import record
from permaudit.datafiles.yaml_nodes import Diagnostics, Origin, did_you_mean
from permaudit.errors import RulesError
from permaudit.model import Report
from permaudit.rules.model import RuleSet
from permaudit.rules.ruleset import default_ruleset_paths
from permaudit.rules.vocabulary import COUNTRY_CODE, TRACKER_CATEGORIES, tracker_category


class _PolicyEntries(Protocol):
    """What ``needs_code`` reads of a ``ci.policy.Policy`` (structural: policy imports this
    module, so naming the class here would close an import cycle)."""

    @property
    def source(self) -> str | None: ...
    @property
    def allow(self) -> Sequence[Any]: ...
    @property
    def deny(self) -> Sequence[Any]: ...

TRACKER_SUBJECT = "tracker:"
OWNER_SUBJECT = "owner:"
COUNTRY_SUBJECT = "country:"


@record
class Problem:
    """Why a policy target's name is not acceptable."""

    text: str


def code_target_name(kind: str, name: str) -> str | Problem:
    """``name`` as the tables spell it, or the problem with it."""
    from permaudit.rules.yaml_code_conditions import known_owners, known_tracker_names

    if kind == "tracker_category":
        if name in TRACKER_CATEGORIES:
            return name
        return Problem(text=f"unknown tracker category '{name}'"
                            f"{did_you_mean(name, TRACKER_CATEGORIES)}; use one of "
                            + ", ".join(TRACKER_CATEGORIES))
    if kind == "server_country":
        if COUNTRY_CODE.match(name):
            return name
        hint = f" (did you mean '{name.upper()}'?)" if COUNTRY_CODE.match(name.upper()) else ""
        return Problem(text=f"'{name}' is not an ISO 3166-1 alpha-2 country code such as RU "
                            f"or US{hint}")
    known = known_tracker_names() if kind == "tracker" else known_owners()
    by_fold = {k.casefold(): k for k in known}
    found = by_fold.get(name.strip().casefold())
    if found is not None:
        return found
    what = "tracker" if kind == "tracker" else "server owner"
    return Problem(text=f"unknown {what} '{name}'{did_you_mean(name, known)} (names as "
                        "`permaudit scan` shows them)")


def code_subjects(report: Report, kind: str, name: str) -> tuple[str, ...]:
    """The report subjects target ``kind: name`` matches, sorted; ``()`` without code."""
    evidence = report.code_evidence
    if evidence is None:
        return ()
    subjects: set[str] = set()
    if kind in ("tracker", "tracker_category"):
        for hit in evidence.trackers:
            if hit.strength != "defined":
                continue
            if (hit.name.casefold() == name.casefold() if kind == "tracker"
                    else any(tracker_category(c) == name for c in hit.categories)):
                subjects.add(TRACKER_SUBJECT + hit.name)
    else:
        for host in evidence.hosts:
            if host.owner is None:
                continue
            if kind == "server_country" and host.country == name:
                subjects.update((OWNER_SUBJECT + host.owner, COUNTRY_SUBJECT + name))
            elif kind == "server_owner" and host.owner.casefold() == name.casefold():
                subjects.add(OWNER_SUBJECT + host.owner)
    return tuple(sorted(subjects))


def needs_code(policy: _PolicyEntries, ruleset: RuleSet, default_files: frozenset[str]) -> tuple[
    list[str], tuple[str, ...]
]:
    """What ``check --no-code`` could not judge.

    Returns the located errors for what the user asked for explicitly (policy entries over
    code evidence, rules of their own files with a code condition): judging them without
    the code would pass silently, so ``--no-code`` with them is an error (exit 2). And the
    ids of the default ruleset's code rules, which are only noted as not evaluated.
    """
    diagnostics = Diagnostics()
    fallback = Origin(path=policy.source or "<policy>", line=1, column=1)
    for entry, verb in ((*((a.target, "allowed") for a in policy.allow),
                         *((d.target, "denied") for d in policy.deny))):
        if entry.needs_code:
            diagnostics.error_at(entry.origin or fallback,
                                 f"{entry} is {verb} by the policy, which needs the app's "
                                 "code: --no-code cannot judge it (drop --no-code)")
    defaults = []
    for rule in ruleset.rules:
        if not rule.needs_code:
            continue
        if rule.origin.path in default_files:
            defaults.append(rule.id)
        else:
            diagnostics.error_at(rule.origin, f"rule '{rule.id}' matches the app's code: "
                                              "--no-code cannot judge it (drop --no-code)")
    return diagnostics.lines(), tuple(defaults)


def refuse_without_code(policy: _PolicyEntries, ruleset: RuleSet) -> str | None:
    """``--no-code``: what needs code and was asked for is an error (``RulesError``); the
    default code rules only a note, returned for the caller to print."""
    defaults = frozenset(str(p) for p in default_ruleset_paths())
    errors, unevaluated = needs_code(policy, ruleset, defaults)
    if errors:
        raise RulesError(errors)
    if not unevaluated:
        return None
    return ("permaudit: note: --no-code: not evaluated (they need the app's code): "
            + ", ".join((*unevaluated, "diff.tracker_added", "diff.server_country_added")))
