"""What SARIF and JUnit say about each rule: its id, title, default severity and help."""

from __future__ import annotations

from permaudit._infra.records import record
from permaudit.model import Severity
from permaudit.rules.model import Capability, RuleSet


@record
class RuleDoc:
    """What SARIF and JUnit say about a rule: its title, default severity and help text."""

    id: str
    title: str
    severity: Severity
    help: str
    references: tuple[str, ...] = ()


def ruleset_docs(ruleset: RuleSet) -> tuple[RuleDoc, ...]:
    """A ``RuleDoc`` for every rule and capability of ``ruleset``, enabled or disabled."""
    docs = []
    for entry in (*ruleset.capabilities, *ruleset.rules, *ruleset.disabled):
        rule_id = entry.rule_id if isinstance(entry, Capability) else entry.id
        docs.append(
            RuleDoc(
                id=rule_id,
                title=entry.title,
                severity=entry.severity,
                help=" ".join(entry.rationale.split()),
                references=entry.references,
            )
        )
    return tuple(docs)


#: Rule ids of the gate's own code-change items (``ci.code_changes``), which a policy may
#: re-grade or disable like the ruleset's.
GATE_RULE_IDS = frozenset(("diff.tracker_added", "diff.server_country_added"))


def known_rule_ids(ruleset: RuleSet) -> frozenset[str]:
    """Every rule id findings of ``ruleset`` can carry (capabilities as ``capability.<id>``),
    and the gate's code-change rules."""
    return frozenset(doc.id for doc in ruleset_docs(ruleset)) | GATE_RULE_IDS


def known_capability_ids(ruleset: RuleSet) -> frozenset[str]:
    """Every capability id of ``ruleset``, enabled or disabled."""
    return frozenset(
        c.id for c in (*ruleset.capabilities, *ruleset.disabled) if isinstance(c, Capability)
    )
