"""The ``when:`` conditions over code evidence (trackers, servers, API references), from YAML.

Names are checked against the shipped knowledge tables where one exists (tracker names,
domain owners, the API table's capabilities), so a misspelt name is an error with a "did
you mean" hint instead of a rule that can never fire. The tables are loaded only when a
file uses these keys.
"""

from __future__ import annotations

from collections.abc import Iterable

from yaml.nodes import MappingNode, Node, SequenceNode

from permaudit.datafiles.yaml_nodes import did_you_mean
from permaudit.rules.model import (
    CodeReference,
    Match,
    ServerCountry,
    ServerOwner,
    TrackerCondition,
)
from permaudit.rules.vocabulary import (
    CODE_REFERENCE_KEYS,
    COUNTRY_CODE,
    TRACKER_CATEGORIES,
    TRACKER_KEYS,
    TRACKER_STRENGTHS,
)
from permaudit.rules.yaml_values import ValueParser


def known_tracker_names() -> frozenset[str]:
    """Every tracker name of the shipped table (Exodus plus the supplement)."""
    from permaudit.knowledge.trackers import load_trackers

    return frozenset(t.name for t in load_trackers())


def known_owners() -> frozenset[str]:
    """Every owner name of the shipped domain owner table."""
    from permaudit.knowledge.domains import shipped_owners

    return frozenset(owner.name for owner in shipped_owners().domains.values())


def code_capabilities() -> frozenset[str]:
    """The capabilities the API table can find code references for."""
    from permaudit.knowledge.code_evidence import load_api_rules

    return frozenset(rule.capability for rule in load_api_rules())


class CodeConditionParser(ValueParser):
    """Reads ``tracker``, ``server_country``, ``server_owner`` and ``code_reference``."""

    def _empty(self, node: Node, what: str) -> None:
        """An empty list matches nothing: an error, not a rule that never fires."""
        if isinstance(node, SequenceNode) and not node.value:
            self.r.error(node, f"{what} needs at least one value")

    def _named(self, node: Node, what: str, known: Iterable[str], kind: str) -> tuple[str, ...]:
        """Names from ``known`` (one or a list, any case), as the table spells them."""
        self._empty(node, what)
        by_fold = {name.casefold(): name for name in known}
        names: list[str] = []
        for text, item in self.r.strings(node, what, allow_single=True):
            name = by_fold.get(text.strip().casefold())
            if name is None:
                self.r.error(item, f"unknown {kind} '{text}'{did_you_mean(text, by_fold.values())}"
                                   f" (names as `permaudit scan` shows them)")
            elif name in names:
                self.r.error(item, f"'{text}' is listed twice in {what}")
            else:
                names.append(name)
        return tuple(names)

    def when_tracker(self, node: Node) -> Match | None:
        entries = self.r.mapping(node, "'tracker'", TRACKER_KEYS)
        if entries is None:
            return None
        given = [key for key in ("name", "category") if key in entries]
        if len(given) != 1:
            if len(given) > 1 or entries or (isinstance(node, MappingNode) and not node.value):
                self.r.error(node, "'tracker' needs exactly one of 'name' or 'category'")
            return None
        shipped_only = True
        if "strength" in entries:
            strength = self.choices(entries["strength"][1], "'strength'", TRACKER_STRENGTHS,
                                    allow_single=True)
            if len(strength) != 1:
                if strength:
                    self.r.error(entries["strength"][1], "'strength' takes one value")
                return None
            shipped_only = strength[0] == "defined"
        value = entries[given[0]][1]
        if given[0] == "name":
            names = self._named(value, "'name'", known_tracker_names(), "tracker")
            return TrackerCondition(names=names, shipped_only=shipped_only) if names else None
        self._empty(value, "'category'")
        categories = self.choices(value, "'category'", TRACKER_CATEGORIES, allow_single=True)
        return (TrackerCondition(categories=categories, shipped_only=shipped_only)
                if categories else None)

    def when_server_country(self, node: Node) -> Match | None:
        countries: list[str] = []
        self._empty(node, "'server_country'")
        for text, item in self.r.strings(node, "'server_country'", allow_single=True):
            if not COUNTRY_CODE.match(text):
                hint = (f" (did you mean '{text.upper()}'?)"
                        if COUNTRY_CODE.match(text.upper()) else "")
                self.r.error(item, f"'{text}' is not an ISO 3166-1 alpha-2 country code such "
                                   f"as RU or US{hint}")
            elif text not in countries:
                countries.append(text)
        return ServerCountry(countries=tuple(countries)) if countries else None

    def when_server_owner(self, node: Node) -> Match | None:
        owners = self._named(node, "'server_owner'", known_owners(), "server owner")
        return ServerOwner(owners=owners) if owners else None

    def when_code_reference(self, node: Node) -> Match | None:
        entries = self.r.mapping(node, "'code_reference'", CODE_REFERENCE_KEYS)
        if entries is None:
            return None
        capabilities: tuple[str, ...] = ()
        ok = True
        if "capability" in entries:
            value = entries["capability"][1]
            if isinstance(value, SequenceNode) and not value.value:
                self.r.error(value, "'capability' needs at least one capability id "
                                    "(leave it out for any)")
            known = sorted(code_capabilities())
            capabilities = self.choices(value, "'capability'", known, allow_single=True)
            ok = bool(capabilities)
        requested = None
        if "requested" in entries:
            requested = self.r.boolean(entries["requested"][1], "'requested'")
            ok = ok and requested is not None
        return CodeReference(capabilities=capabilities, requested=requested) if ok else None
