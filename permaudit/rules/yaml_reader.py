"""Read YAML ruleset files into validated values and merge them by id; errors as file:line:col.

Imported only when YAML is read: user files, a default ruleset edited since it was compiled,
``rules validate``, ``make compiled``. The values and the loading API are in
``permaudit.rules.ruleset``.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from permaudit._infra.records import record, replace
from permaudit.datafiles.origin import Origin
from permaudit.datafiles.yaml_nodes import (
    FAST_LOADER,
    Diagnostics,
    NodeReader,
    did_you_mean,
    read_text,
)
from permaudit.errors import RulesError
from permaudit.model import COMPONENT_KINDS, PROTECTION_CLASSES, Severity
from permaudit.rules.model import (
    CAPABILITY_PREFIX,
    AllCapabilities,
    AppFlags,
    Capability,
    CleartextTraffic,
    ComponentFeature,
    DeclaredPermission,
    ExportedComponent,
    Feature,
    IgnoredElement,
    Match,
    PermissionClass,
    PermissionGrant,
    QueriesFeature,
    RequestedPermission,
    Rule,
    RuleSet,
    RulesFile,
    SharedUserId,
    SigningCondition,
    Tamper,
    TargetSdkBelow,
)

# --- the vocabulary ------------------------------------------------------------------------

CAPABILITY_ID = re.compile(r"^[a-z][a-z0-9_]*$")
RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
#: A Java package-qualified name: ``android.permission.CAMERA``, ``com.example.READ``.
QUALIFIED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
XML_TAG = re.compile(r"^[a-z][a-z0-9-]*$")
SEVERITIES = tuple(s.label for s in Severity)

FOREGROUND_SERVICE_TYPES = (
    "camera", "connectedDevice", "dataSync", "fileManagement", "health", "location",
    "mediaPlayback", "mediaProcessing", "mediaProjection", "microphone", "phoneCall",
    "remoteMessaging", "shortService", "specialUse", "systemExempted",
)
#: ``app_flags`` names: ``model.Application`` fields that are booleans.
APP_FLAGS = (
    "allow_backup", "data_extraction_rules", "debuggable", "full_backup_content", "has_code",
    "network_security_config", "request_legacy_external_storage", "test_only",
    "uses_cleartext_traffic",
)
PROTECTION_LEVELS = ("normal", "dangerous", "signature", "signatureOrSystem", "internal")
MESSAGE_FIELDS = ("package", "subject", "detail", "target_sdk")

TOP_KEYS = ("ruleset", "version", "description", "capabilities", "rules", "override", "disable")
CAPABILITY_KEYS = ("id", "title", "severity", "rationale", "references", "permissions", "features")
PERMISSION_KEYS = ("name", "access", "needs_other")
FEATURE_KINDS = ("component", "queries")
FEATURE_KEYS = (*FEATURE_KINDS, "access", "needs_other")
COMPONENT_FEATURE_KEYS = ("kinds", "permission", "actions", "foreground_service_types")
QUERIES_KEYS = ("action", "category")
RULE_KEYS = (
    "id", "title", "severity", "category", "rationale", "message", "references", "when",
)
WHEN_KEYS = (
    "app_flags", "cleartext_traffic", "target_sdk_below", "exported_component",
    "declared_permission", "shared_user_id", "permission_class", "requested_permission",
    "ignored_element", "all_capabilities", "signing", "tamper",
)
OVERRIDE_KEYS = (
    "id", "severity", "title", "rationale", "message", "references", "when",
    "add_permissions", "add_features",
)
RULE_ONLY = ("message", "when")
CAPABILITY_ONLY = ("add_permissions", "add_features")
#: ``signing`` conditions: what about the APK's signer identity the rule fires on.
SIGNING_CONDITIONS = ("unsigned", "debug_certificate", "ambiguous")
#: A tamper evidence id (``zip.multiple_eocd``) or a family of them (``zip.*``).
TAMPER_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$")


# --- parsing one file ----------------------------------------------------------------------


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


class FileParser:
    """Turns the nodes of one file into ruleset values, recording every problem."""

    def __init__(self, reader: NodeReader) -> None:
        self.r = reader
        #: Every well-formed id seen in this file, valid item or not: (kind, id) -> origin.
        self.seen: dict[tuple[str, str], Origin] = {}

    def claim(self, kind: str, item_id: str, node: Node) -> bool:
        """Record ``item_id``; a second definition in the same file is an error."""
        first = self.seen.get((kind, item_id))
        if first is not None:
            self.r.error(node, f"duplicate {kind} id '{item_id}' (first defined at line "
                               f"{first.line}); use one definition")
            return False
        self.seen[(kind, item_id)] = self.r.origin(node)
        return True

    # -- small typed values --

    def severity(self, node: Node) -> Severity | None:
        """``info|low|medium|high|critical``."""
        text = self.r.string(node, "'severity'")
        if text is None:
            return None
        if text not in SEVERITIES:
            self.r.error(
                node,
                f"unknown severity '{text}'{did_you_mean(text, SEVERITIES)}; "
                f"use one of {', '.join(SEVERITIES)}",
            )
            return None
        return Severity.parse(text)

    def qualified(self, node: Node, what: str) -> str | None:
        """A package-qualified name such as ``android.permission.CAMERA``."""
        text = self.r.string(node, what)
        if text is None:
            return None
        if not QUALIFIED_NAME.match(text):
            hint = f" such as android.permission.{text}" if re.match(r"^[A-Z_]+$", text) else ""
            self.r.error(
                node,
                f"malformed {what.strip(chr(39))} '{text}' (expected a package-qualified "
                f"name{hint or ' such as android.permission.CAMERA'})",
            )
            return None
        return text

    def qualified_list(self, node: Node, what: str) -> tuple[str, ...]:
        """A list of package-qualified names (duplicates are errors)."""
        names: list[str] = []
        for text, item in self.r.strings(node, what):
            if not QUALIFIED_NAME.match(text):
                self.r.error(item, f"malformed name '{text}' in {what} (expected a "
                                   "package-qualified name such as android.permission.CAMERA)")
            elif text in names:
                self.r.error(item, f"'{text}' is listed twice in {what}")
            else:
                names.append(text)
        return tuple(names)

    def choices(
        self, node: Node, what: str, allowed: Sequence[str], *, allow_single: bool = False
    ) -> tuple[str, ...]:
        """A list of words from a closed set."""
        values: list[str] = []
        for text, item in self.r.strings(node, what, allow_single=allow_single):
            if text not in allowed:
                self.r.error(item, f"unknown value '{text}' in {what}{did_you_mean(text, allowed)}"
                                   f"; use one of {', '.join(allowed)}")
            elif text not in values:
                values.append(text)
        return tuple(values)

    def references(self, node: Node) -> tuple[str, ...]:
        """A list of https URLs."""
        urls = []
        for text, item in self.r.strings(node, "'references'"):
            if not text.startswith("https://") or " " in text:
                self.r.error(item, f"reference '{text}' must be an https:// URL")
            else:
                urls.append(text)
        return tuple(urls)

    def message(self, node: Node) -> str | None:
        """A ``str.format`` template over ``MESSAGE_FIELDS``."""
        text = self.r.string(node, "'message'")
        if text is None:
            return None
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        except ValueError as exc:
            self.r.error(node, f"malformed message template ({exc}); write {{{{ for a brace")
            return None
        ok = True
        for name in names:
            if name not in MESSAGE_FIELDS:
                self.r.error(node, f"unknown placeholder '{{{name}}}' in 'message'"
                                   f"{did_you_mean(name, MESSAGE_FIELDS)}; use "
                                   + ", ".join(f"{{{n}}}" for n in MESSAGE_FIELDS))
                ok = False
        return text if ok else None

    def text(self, node: Node, what: str) -> str | None:
        """A string with runs of whitespace folded."""
        value = self.r.string(node, what)
        return " ".join(value.split()) if value is not None else None

    # -- capabilities --

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

    def when(self, node: Node) -> Match | None:
        """A ``when`` mapping with exactly one match key."""
        entries = self.r.mapping(node, "'when'", WHEN_KEYS)
        if entries is None:
            return None
        if len(entries) > 1 or (isinstance(node, MappingNode) and not node.value):
            self.r.error(node, "'when' needs exactly one condition, one of "
                               + ", ".join(WHEN_KEYS))
            return None
        if not entries:
            return None  # its only key was unknown, already reported
        ((key, (_, value)),) = entries.items()
        parse = getattr(self, f"when_{key}")
        result: Match | None = parse(value)
        return result

    def when_app_flags(self, node: Node) -> Match | None:
        entries = self.r.mapping(node, "'app_flags'", APP_FLAGS)
        if entries is None:
            return None
        if not entries:
            if isinstance(node, MappingNode) and not node.value:
                self.r.error(node, "'app_flags' needs at least one flag")
            return None
        flags = []
        for key, (_, value) in entries.items():
            flag = self.r.boolean(value, f"'{key}'")
            if flag is None:
                return None
            flags.append((key, flag))
        return AppFlags(flags=tuple(flags))

    def when_cleartext_traffic(self, node: Node) -> Match | None:
        entries = self.r.mapping(node, "'cleartext_traffic'", ("default_when_target_below",),
                                 required=("default_when_target_below",))
        if not entries:
            return None
        level = self.r.integer(entries["default_when_target_below"][1],
                               "'default_when_target_below'", minimum=1)
        return CleartextTraffic(default_when_target_below=level) if level is not None else None

    def when_target_sdk_below(self, node: Node) -> Match | None:
        level = self.r.integer(node, "'target_sdk_below'", minimum=1)
        return TargetSdkBelow(level=level) if level is not None else None

    def when_exported_component(self, node: Node) -> Match | None:
        keys = ("kinds", "without_permission", "exclude_launcher")
        entries = self.r.mapping(node, "'exported_component'", keys, required=("kinds",))
        if entries is None or "kinds" not in entries:
            return None
        kinds = self.choices(entries["kinds"][1], "'kinds'", COMPONENT_KINDS)
        flags = {}
        for key in keys[1:]:
            if key in entries:
                value = self.r.boolean(entries[key][1], f"'{key}'")
                if value is None:
                    return None
                flags[key] = value
        return ExportedComponent(kinds=kinds, **flags) if kinds else None

    def when_declared_permission(self, node: Node) -> Match | None:
        entries = self.r.mapping(node, "'declared_permission'", ("protection", "guards_exported"),
                                 required=("protection",))
        if entries is None or "protection" not in entries:
            return None
        levels = self.choices(entries["protection"][1], "'protection'", PROTECTION_LEVELS)
        guards = True
        if "guards_exported" in entries:
            value = self.r.boolean(entries["guards_exported"][1], "'guards_exported'")
            if value is None:
                return None
            guards = value
        return DeclaredPermission(protection=levels, guards_exported=guards) if levels else None

    def when_shared_user_id(self, node: Node) -> Match | None:
        value = self.r.boolean(node, "'shared_user_id'")
        if value is False:
            self.r.error(node, "'shared_user_id' can only be true")
        return SharedUserId() if value else None

    def when_permission_class(self, node: Node) -> Match | None:
        classes = self.choices(node, "'permission_class'", PROTECTION_CLASSES, allow_single=True)
        return PermissionClass(classes=classes) if classes else None

    def when_requested_permission(self, node: Node) -> Match | None:
        names = self.qualified_list(node, "'requested_permission'")
        return RequestedPermission(names=names) if names else None

    def when_ignored_element(self, node: Node) -> Match | None:
        entries = self.r.mapping(node, "'ignored_element'", ("tags",))
        if entries is None:
            return None
        tags = []
        if "tags" in entries:
            for text, item in self.r.strings(entries["tags"][1], "'tags'"):
                if XML_TAG.match(text):
                    tags.append(text)
                else:
                    self.r.error(item, f"'{text}' is not an element name")
        return IgnoredElement(tags=tuple(tags))

    def when_signing(self, node: Node) -> Match | None:
        entries = self.r.mapping(node, "'signing'", SIGNING_CONDITIONS)
        if entries is None:
            return None
        if len(entries) != 1:
            if len(entries) > 1 or (isinstance(node, MappingNode) and not node.value):
                self.r.error(node, "'signing' needs exactly one of "
                                   + ", ".join(SIGNING_CONDITIONS))
            return None
        ((key, (_, value)),) = entries.items()
        flag = self.r.boolean(value, f"'{key}'")
        if flag is False:
            self.r.error(value, f"'{key}' can only be true")
        return SigningCondition(condition=key) if flag else None

    def when_tamper(self, node: Node) -> Match | None:
        entries = self.r.mapping(node, "'tamper'", ("ids",))
        if entries is None:
            return None
        ids = []
        if "ids" in entries:
            for text, item in self.r.strings(entries["ids"][1], "'ids'"):
                if TAMPER_ID.match(text):
                    ids.append(text)
                else:
                    self.r.error(item, f"'{text}' is not a tamper evidence id such as "
                                       "'zip.multiple_eocd' or 'axml.*'")
        return Tamper(ids=tuple(ids))

    def when_all_capabilities(self, node: Node) -> Match | None:
        items = self.r.strings(node, "'all_capabilities'")
        if isinstance(node, SequenceNode) and not node.value:
            self.r.error(node, "'all_capabilities' needs at least one capability id")
        if not items:
            return None
        return AllCapabilities(
            ids=tuple(text for text, _ in items),
            origins=tuple(self.r.origin(item) for _, item in items),
        )

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
    data = yaml.load(text, Loader=FAST_LOADER)  # noqa: S506 -- a safe loader (C or pure)
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


# --- merging -------------------------------------------------------------------------------


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


# --- loading ---------------------------------------------------------------------------------


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
