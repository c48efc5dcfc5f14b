"""Merge parsed ruleset files in order, by id: new items, then overrides, then disables."""

from __future__ import annotations

from typing import Any

from permaudit._infra.records import record, replace
from permaudit.datafiles.origin import Origin
from permaudit.datafiles.yaml_nodes import (
    Diagnostics,
    did_you_mean,
)
from permaudit.rules.model import (
    CAPABILITY_PREFIX,
    AllCapabilities,
    Capability,
    PermissionGrant,
    Rule,
    RuleSet,
    RulesFile,
)
from permaudit.rules.vocabulary import (
    CAPABILITY_ONLY,
    RULE_ONLY,
)


@record
class Change:
    """One key of an ``override`` entry, already parsed."""

    key: str
    value: object
    origin: Origin


@record
class Override:
    """An ``override`` entry: the id it targets and its changes."""

    id: str
    origin: Origin
    changes: tuple[Change, ...]


@record
class ParsedFile:
    """What one file contributes, before merging."""

    info: RulesFile
    capabilities: tuple[Capability, ...] = ()
    rules: tuple[Rule, ...] = ()
    overrides: tuple[Override, ...] = ()
    disable: tuple[tuple[str, Origin], ...] = ()
    #: Capability ids defined in the file, including those of invalid definitions (so a
    #: reference to them is not reported a second time).
    declared_capabilities: frozenset[str] = frozenset()



class Merger:
    """Applies parsed files in order: new items, then overrides, then disables, by id.

    ``base`` is a valid ruleset with nothing disabled that the files apply on top of.
    """

    def __init__(self, diagnostics: Diagnostics, base: RuleSet | None = None) -> None:
        self.diagnostics = diagnostics
        self.capabilities = {c.id: c for c in base.capabilities} if base else {}
        self.rules = {r.id: r for r in base.rules} if base else {}
        self.disabled: dict[str, tuple[Capability | Rule, Origin]] = {}
        #: Capability ids whose definition had errors (already reported).
        self.broken: set[str] = set()

    def error(self, origin: Origin, message: str) -> None:
        """Record an error."""
        self.diagnostics.error_at(origin, message)

    def known_ids(self) -> list[str]:
        """Every id a user can name, for "did you mean"."""
        return [*self.capabilities, *self.rules, *(c.rule_id for c in self.capabilities.values())]

    def add(self, parsed: ParsedFile) -> None:
        """Merge one file."""
        valid = {cap.id for cap in parsed.capabilities}
        self.broken |= set(parsed.declared_capabilities - valid)
        for cap in parsed.capabilities:
            first = self.capabilities.get(cap.id) or self.disabled_item(cap.id)
            if first is not None:
                self.error(cap.origin, f"duplicate capability id '{cap.id}' (first defined at "
                                       f"{first.origin}); use 'override' to change it")
            else:
                self.capabilities[cap.id] = cap
        for rule in parsed.rules:
            first = self.rules.get(rule.id) or self.disabled_item(rule.id)
            if first is not None:
                self.error(rule.origin, f"duplicate rule id '{rule.id}' (first defined at "
                                        f"{first.origin}); use 'override' to change it")
            else:
                self.rules[rule.id] = rule
        for override in parsed.overrides:
            self.apply(override)
        for item_id, origin in parsed.disable:
            self.disable(item_id, origin)

    def disabled_item(self, item_id: str) -> Capability | Rule | None:
        """The disabled capability or rule ``item_id``."""
        entry = self.disabled.get(item_id)
        return entry[0] if entry else None

    def resolve(self, item_id: str, origin: Origin, verb: str) -> Capability | Rule | None:
        """The enabled capability or rule a user names; errors name the closest id."""
        key = item_id.removeprefix(CAPABILITY_PREFIX)
        if key in self.capabilities:
            return self.capabilities[key]
        if item_id in self.rules:
            return self.rules[item_id]
        if key in self.disabled or item_id in self.disabled:
            self.error(origin, f"cannot {verb} '{item_id}': it is disabled")
        else:
            self.error(origin, f"cannot {verb} '{item_id}': no capability or rule has this id"
                               f"{did_you_mean(item_id, self.known_ids())}")
        return None

    def apply(self, override: Override) -> None:
        """Apply one override."""
        target = self.resolve(override.id, override.origin, "override")
        if target is None:
            return
        # Values were typed by FileParser.override; Any lets replace take them.
        changes: dict[str, Any] = {}
        is_rule = isinstance(target, Rule)
        for change in override.changes:
            if is_rule and change.key in CAPABILITY_ONLY:
                self.error(change.origin, f"'{change.key}' applies to capabilities, and "
                                          f"'{override.id}' is a rule")
            elif not is_rule and change.key in RULE_ONLY:
                self.error(change.origin, f"'{change.key}' applies to rules, and "
                                          f"'{override.id}' is a capability")
            elif change.key == "add_permissions" and isinstance(target, Capability):
                changes["permissions"] = self.added_permissions(
                    target, change, changes.get("permissions", target.permissions)
                )
            elif change.key == "add_features" and isinstance(target, Capability):
                features = changes.get("features", target.features)
                if isinstance(features, tuple) and isinstance(change.value, tuple):
                    changes["features"] = features + change.value
            else:
                changes[change.key] = change.value
        updated = replace(
            target, **changes, overridden_at=(*target.overridden_at, override.origin)
        )
        if isinstance(updated, Capability):
            self.capabilities[updated.id] = updated
        else:
            self.rules[updated.id] = updated

    def added_permissions(
        self, target: Capability, change: Change, current: object
    ) -> tuple[PermissionGrant, ...]:
        """``current`` plus the new permissions; one already there is an error."""
        result = [g for g in current if isinstance(g, PermissionGrant)] if isinstance(
            current, tuple) else []
        added = change.value if isinstance(change.value, tuple) else ()
        for grant in added:
            if not isinstance(grant, PermissionGrant):
                continue
            if any(g.name == grant.name for g in result):
                self.error(change.origin, f"capability '{target.id}' already has permission "
                                          f"'{grant.name}'")
            else:
                result.append(grant)
        return tuple(result)

    def disable(self, item_id: str, origin: Origin) -> None:
        """Switch one capability or rule off."""
        target = self.resolve(item_id, origin, "disable")
        if isinstance(target, Capability):
            del self.capabilities[target.id]
            self.disabled[target.id] = (target, origin)
        elif isinstance(target, Rule):
            del self.rules[target.id]
            self.disabled[target.id] = (target, origin)

    def check_references(self) -> None:
        """Every ``all_capabilities`` id names an enabled capability."""
        needed_by: dict[str, list[str]] = {}
        for rule in self.rules.values():
            if not isinstance(rule.when, AllCapabilities):
                continue
            origins = rule.when.origins or (rule.origin,) * len(rule.when.ids)
            for cap_id, origin in zip(rule.when.ids, origins, strict=True):
                if cap_id in self.capabilities or cap_id in self.broken:
                    continue
                if cap_id in self.disabled:
                    needed_by.setdefault(cap_id, []).append(rule.id)
                else:
                    self.error(origin, f"rule '{rule.id}' refers to unknown capability "
                                       f"'{cap_id}'{did_you_mean(cap_id, self.capabilities)}")
        for cap_id, rule_ids in needed_by.items():
            names = ", ".join(f"'{r}'" for r in rule_ids)
            self.error(self.disabled[cap_id][1],
                       f"cannot disable capability '{cap_id}': {names} "
                       f"{'needs' if len(rule_ids) == 1 else 'need'} it; disable "
                       f"{'that rule' if len(rule_ids) == 1 else 'those rules'} too")

