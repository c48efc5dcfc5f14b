"""Read YAML ruleset files into validated values and merge them by id; errors as file:line:col.

Imported only when YAML is read: user files, a default ruleset edited since it was compiled,
``rules validate``, ``make compiled``. The values and the loading API are in
``permaudit.rules.ruleset``.

The pieces: ``vocabulary`` (the closed key sets), ``yaml_values`` (small typed values),
``yaml_conditions`` (``when:``), this module (capabilities, rules, overrides, one file) and
``merge`` (applying files by id).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from permaudit.datafiles.yaml_nodes import (
    FAST_LOADER,
    Diagnostics,
    NodeReader,
    read_text,
)
from permaudit.errors import RulesError
from permaudit.model import COMPONENT_KINDS
from permaudit.rules.merge import Change, Merger, Override, ParsedFile
from permaudit.rules.model import (
    CAPABILITY_PREFIX,
    Capability,
    ComponentFeature,
    Feature,
    PermissionGrant,
    QueriesFeature,
    Rule,
    RuleSet,
    RulesFile,
)
from permaudit.rules.vocabulary import (
    CAPABILITY_ID,
    CAPABILITY_KEYS,
    COMPONENT_FEATURE_KEYS,
    FEATURE_KEYS,
    FEATURE_KINDS,
    FOREGROUND_SERVICE_TYPES,
    OVERRIDE_KEYS,
    PERMISSION_KEYS,
    QUERIES_KEYS,
    RULE_ID,
    RULE_KEYS,
    TOP_KEYS,
)
from permaudit.rules.yaml_conditions import ConditionParser


class FileParser(ConditionParser):
    """Turns the nodes of one file into ruleset values, recording every problem."""

    def permission(self, node: Node) -> PermissionGrant | None:
        """``NAME`` or ``{name: NAME, access: LABEL, needs_other: BOOL}``."""
        if isinstance(node, ScalarNode):
            name = self.qualified(node, "'permission name'")
            return PermissionGrant(name=name) if name else None
        entries = self.r.mapping(node, "a permission", PERMISSION_KEYS, required=("name",))
        if entries is None or "name" not in entries:
            return None
        name = self.qualified(entries["name"][1], "'permission name'")
        access = self.text(entries["access"][1], "'access'") if "access" in entries else None
        needs_other = (
            self.r.boolean(entries["needs_other"][1], "'needs_other'")
            if "needs_other" in entries else False
        )
        if name is None or ("access" in entries and access is None) or needs_other is None:
            return None
        return PermissionGrant(name=name, access=access, needs_other=needs_other)

    def permissions(self, node: Node, what: str) -> tuple[PermissionGrant, ...]:
        """A list of permission entries; a name listed twice is an error."""
        grants: list[PermissionGrant] = []
        for item in self.r.sequence(node, what) or []:
            grant = self.permission(item)
            if grant is None:
                continue
            if any(g.name == grant.name for g in grants):
                self.r.error(item, f"permission '{grant.name}' is listed twice in {what}")
                continue
            grants.append(grant)
        return tuple(grants)

    def feature(self, node: Node) -> Feature | None:
        """One entry of ``features``: exactly one of ``component`` or ``queries``."""
        entries = self.r.mapping(node, "a feature", FEATURE_KEYS)
        if entries is None:
            return None
        kinds = [key for key in FEATURE_KINDS if key in entries]
        if len(kinds) != 1:
            self.r.error(node, "a feature needs exactly one of 'component' or 'queries'")
            return None
        access = self.text(entries["access"][1], "'access'") if "access" in entries else None
        needs_other = (
            self.r.boolean(entries["needs_other"][1], "'needs_other'")
            if "needs_other" in entries else False
        )
        if needs_other is None or ("access" in entries and access is None):
            return None
        body = entries[kinds[0]][1]
        if kinds[0] == "queries":
            return self.queries_feature(body, access, needs_other)
        return self.component_feature(body, access, needs_other)

    def queries_feature(self, node: Node, access: str | None, needs_other: bool) -> Feature | None:
        """``queries: {action: NAME, category: NAME}``."""
        entries = self.r.mapping(node, "'queries'", QUERIES_KEYS)
        if entries is None:
            return None
        if not entries:
            self.r.error(node, "'queries' needs an 'action' or a 'category'")
            return None
        action = self.qualified(entries["action"][1], "'action'") if "action" in entries else None
        category = (
            self.qualified(entries["category"][1], "'category'") if "category" in entries else None
        )
        if ("action" in entries and action is None) or ("category" in entries and category is None):
            return None
        return QueriesFeature(action=action, category=category, access=access,
                              needs_other=needs_other)

    def component_feature(
        self, node: Node, access: str | None, needs_other: bool
    ) -> Feature | None:
        """``component: {kinds: [...], permission | actions | foreground_service_types}``."""
        entries = self.r.mapping(node, "'component'", COMPONENT_FEATURE_KEYS, required=("kinds",))
        if entries is None or "kinds" not in entries:
            return None
        kinds = self.choices(entries["kinds"][1], "'kinds'", COMPONENT_KINDS)
        if len(entries) == 1:
            self.r.error(node, "'component' needs 'permission', 'actions' or "
                               "'foreground_service_types' besides 'kinds'")
            return None
        permission = (
            self.qualified(entries["permission"][1], "'permission'")
            if "permission" in entries else None
        )
        actions = (
            self.qualified_list(entries["actions"][1], "'actions'") if "actions" in entries else ()
        )
        types = (
            self.choices(entries["foreground_service_types"][1], "'foreground_service_types'",
                         FOREGROUND_SERVICE_TYPES)
            if "foreground_service_types" in entries else ()
        )
        return ComponentFeature(
            kinds=kinds, permission=permission, actions=actions,
            foreground_service_types=types, access=access, needs_other=needs_other,
        )

    def features(self, node: Node, what: str) -> tuple[Feature, ...]:
        """A list of features."""
        result = []
        for item in self.r.sequence(node, what) or []:
            feature = self.feature(item)
            if feature is not None:
                result.append(feature)
        return tuple(result)

    def capability(self, node: Node) -> Capability | None:
        """One entry of ``capabilities``."""
        entries = self.r.mapping(
            node, "a capability", CAPABILITY_KEYS,
            required=("id", "title", "severity", "rationale"),
        )
        if entries is None:
            return None
        cap_id = None
        if "id" in entries:
            cap_id = self.r.string(entries["id"][1], "'id'")
            if cap_id is not None and not CAPABILITY_ID.match(cap_id):
                self.r.error(entries["id"][1], f"capability id '{cap_id}' must be lower-case "
                                               "letters, digits and '_' (no dots)")
                cap_id = None
            elif cap_id is not None and not self.claim("capability", cap_id, entries["id"][1]):
                cap_id = None
        title = self.text(entries["title"][1], "'title'") if "title" in entries else None
        severity = self.severity(entries["severity"][1]) if "severity" in entries else None
        rationale = (
            self.text(entries["rationale"][1], "'rationale'") if "rationale" in entries else None
        )
        references = self.references(entries["references"][1]) if "references" in entries else ()
        permissions = (
            self.permissions(entries["permissions"][1], "'permissions'")
            if "permissions" in entries else ()
        )
        features = (
            self.features(entries["features"][1], "'features'") if "features" in entries else ()
        )
        if "permissions" not in entries and "features" not in entries:
            self.r.error(node, "a capability needs 'permissions' or 'features'")
            return None
        if cap_id is None or title is None or severity is None or rationale is None:
            return None
        return Capability(
            id=cap_id, title=title, severity=severity, rationale=rationale,
            references=references, permissions=permissions, features=features,
            origin=self.r.origin(node),
        )

    # -- rules --
    def rule(self, node: Node) -> Rule | None:
        """One entry of ``rules``."""
        entries = self.r.mapping(
            node, "a rule", RULE_KEYS, required=("id", "title", "severity", "rationale", "when")
        )
        if entries is None:
            return None
        rule_id = None
        if "id" in entries:
            rule_id = self.r.string(entries["id"][1], "'id'")
            if rule_id is not None and (
                not RULE_ID.match(rule_id) or rule_id.startswith(CAPABILITY_PREFIX)
            ):
                self.r.error(entries["id"][1], f"rule id '{rule_id}' must be dotted lower-case "
                                               "words such as 'hardening.debuggable' (and not "
                                               "start with 'capability.')")
                rule_id = None
            elif rule_id is not None and not self.claim("rule", rule_id, entries["id"][1]):
                rule_id = None
        title = self.text(entries["title"][1], "'title'") if "title" in entries else None
        severity = self.severity(entries["severity"][1]) if "severity" in entries else None
        rationale = (
            self.text(entries["rationale"][1], "'rationale'") if "rationale" in entries else None
        )
        category: str | None = None
        if "category" in entries:
            category = self.r.string(entries["category"][1], "'category'")
            if category is not None and not CAPABILITY_ID.match(category):
                self.r.error(entries["category"][1], f"category '{category}' must be one "
                                                     "lower-case word")
                category = None
        message = self.message(entries["message"][1]) if "message" in entries else "{detail}"
        references = self.references(entries["references"][1]) if "references" in entries else ()
        when = self.when(entries["when"][1]) if "when" in entries else None
        if rule_id is None or title is None or severity is None or rationale is None:
            return None
        if when is None or message is None or ("category" in entries and category is None):
            return None
        return Rule(
            id=rule_id, title=title, severity=severity,
            category=category or rule_id.split(".", 1)[0], rationale=rationale,
            message=message, references=references, when=when, origin=self.r.origin(node),
        )

    # -- overrides and disable --

    def override(self, node: Node) -> Override | None:
        """One entry of ``override``."""
        entries = self.r.mapping(node, "an override", OVERRIDE_KEYS, required=("id",))
        if entries is None or "id" not in entries:
            return None
        target = self.r.string(entries["id"][1], "'id'")
        parsers: dict[str, Callable[[Node], object]] = {
            "severity": self.severity,
            "title": lambda n: self.text(n, "'title'"),
            "rationale": lambda n: self.text(n, "'rationale'"),
            "message": self.message,
            "references": self.references,
            "when": self.when,
            "add_permissions": lambda n: self.permissions(n, "'add_permissions'") or None,
            "add_features": lambda n: self.features(n, "'add_features'") or None,
        }
        changes = []
        for key, (key_node, value_node) in entries.items():
            if key == "id":
                continue
            value = parsers[key](value_node)
            if value is not None:
                changes.append(Change(key=key, value=value, origin=self.r.origin(key_node)))
        if len(entries) == 1:
            self.r.error(node, f"override of '{target}' changes nothing")
        if target is None:
            return None
        return Override(id=target, origin=self.r.origin(entries["id"][1]), changes=tuple(changes))

    def file(self, root: Node, path: str, sha256: str) -> ParsedFile:
        """The whole file."""
        entries = self.r.mapping(root, "the ruleset file", TOP_KEYS) or {}
        file_id = Path(path).stem
        if "ruleset" in entries:
            node = entries["ruleset"][1]
            value = self.r.string(node, "'ruleset'")
            if value is not None and not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", value):
                self.r.error(node, f"ruleset id '{value}' must be letters, digits, '.', '_', '-'")
            elif value is not None:
                file_id = value
        version = None
        if "version" in entries:
            node = entries["version"][1]
            if isinstance(node, ScalarNode) and node.tag.endswith(":int"):
                number = self.r.integer(node, "'version'")
                version = None if number is None else str(number)
            else:
                version = self.r.string(node, "'version'")
        if "description" in entries:
            self.r.string(entries["description"][1], "'description'")
        if isinstance(root, MappingNode) and not any(
            key in entries for key in ("capabilities", "rules", "override", "disable")
        ):
            self.r.error(root, "the file has none of 'capabilities', 'rules', 'override', "
                               "'disable'")
        capabilities = [
            cap for item in self.items(entries, "capabilities")
            if (cap := self.capability(item)) is not None
        ]
        rules = [
            rule for item in self.items(entries, "rules") if (rule := self.rule(item)) is not None
        ]
        overrides = [
            o for item in self.items(entries, "override") if (o := self.override(item)) is not None
        ]
        disable = []
        if "disable" in entries:
            for text, item in self.r.strings(entries["disable"][1], "'disable'", allow_single=True):
                disable.append((text, self.r.origin(item)))
        return ParsedFile(
            info=RulesFile(path=path, id=file_id, version=version, sha256=sha256),
            capabilities=tuple(capabilities), rules=tuple(rules),
            overrides=tuple(overrides), disable=tuple(disable),
            declared_capabilities=frozenset(i for k, i in self.seen if k == "capability"),
        )

    def items(self, entries: dict[str, tuple[ScalarNode, Node]], key: str) -> list[Node]:
        """The list under a top-level key, or ``[]``."""
        if key not in entries:
            return []
        return self.r.sequence(entries[key][1], f"'{key}'") or []


def canonical_sha256(text: str) -> str:
    """sha256 of the file's data as canonical JSON: comments, layout and key order do not count."""
    # bounds_problem() already refused aliases, tags, complex keys and deep nesting, so the
    # tree is linear in the text; a value the constructor rejects (a date 2001-13-45) is left
    # to the node reader, and the file is then identified by its bytes.
    try:
        data = yaml.load(text, Loader=FAST_LOADER)  # noqa: S506 -- a safe loader (C or pure)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                           default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_file(path: Path, diagnostics: Diagnostics) -> ParsedFile | None:
    """Read and parse one ruleset file; ``None`` when it cannot be read or composed."""
    text = read_text(path, diagnostics)
    if text is None:
        return None
    reader = NodeReader(str(path), diagnostics)
    root = reader.compose(text)
    if root is None:
        return None
    return FileParser(reader).file(root, str(path), canonical_sha256(text))



def load_files(paths: Sequence[Path], *, base: RuleSet | None = None) -> RuleSet:
    """``paths`` read, validated and applied in order, by id, on top of ``base`` (if any).

    ``base`` is a valid ruleset without disabled items (the compiled default). Raises
    ``RulesError`` carrying every diagnostic of every file at once.
    """
    diagnostics = Diagnostics()
    merger = Merger(diagnostics, base)
    files = list(base.files) if base is not None else []
    for path in paths:
        parsed = parse_file(path, diagnostics)
        if parsed is None:
            continue
        files.append(parsed.info)
        merger.add(parsed)
    merger.check_references()
    if diagnostics:
        raise RulesError(diagnostics.lines())
    digest = hashlib.sha256()
    for info in files:
        digest.update(info.sha256.encode("ascii") + b"\n")
    ids = list(dict.fromkeys(info.id for info in files))
    disabled = tuple(item for item, _ in merger.disabled.values())
    return RuleSet(
        id="+".join(ids) or "empty",
        version=files[0].version if files else None,
        sha256=digest.hexdigest(),
        files=tuple(files),
        capabilities=tuple(merger.capabilities.values()),
        rules=tuple(merger.rules.values()),
        disabled=disabled,
    )
