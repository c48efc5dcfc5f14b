"""The ``when:`` conditions of a rule, read from YAML nodes into ``Match`` records."""

from __future__ import annotations

from yaml.nodes import MappingNode, Node, SequenceNode

from permaudit.model import COMPONENT_KINDS, PROTECTION_CLASSES
from permaudit.rules.model import (
    AllCapabilities,
    AppFlags,
    BackupCondition,
    CleartextTraffic,
    DeclaredPermission,
    ExportedComponent,
    IgnoredElement,
    Match,
    NetworkSecurityCondition,
    PermissionClass,
    RequestedPermission,
    SharedUserId,
    SigningCondition,
    Tamper,
    TargetSdkBelow,
)
from permaudit.rules.vocabulary import (
    APP_FLAGS,
    BACKUP_CONDITIONS,
    NETWORK_SECURITY_CONDITIONS,
    PROTECTION_LEVELS,
    SIGNING_CONDITIONS,
    TAMPER_ID,
    WHEN_KEYS,
    XML_TAG,
)
from permaudit.rules.yaml_code_conditions import CodeConditionParser


class ConditionParser(CodeConditionParser):
    """Reads ``when`` mappings: exactly one match key, each with its own shape."""

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
        keys = ("kinds", "without_permission", "exclude_launcher", "isolated_process")
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
        key = self._one_true(node, "signing", SIGNING_CONDITIONS)
        return SigningCondition(condition=key) if key else None

    def when_network_security(self, node: Node) -> Match | None:
        key = self._one_true(node, "network_security", NETWORK_SECURITY_CONDITIONS)
        return NetworkSecurityCondition(condition=key) if key else None

    def when_backup(self, node: Node) -> Match | None:
        key = self._one_true(node, "backup", BACKUP_CONDITIONS)
        return BackupCondition(condition=key) if key else None

    def _one_true(self, node: Node, what: str, choices: tuple[str, ...]) -> str | None:
        """A mapping with exactly one of ``choices`` set to true: that key."""
        entries = self.r.mapping(node, f"'{what}'", choices)
        if entries is None:
            return None
        if len(entries) != 1:
            if len(entries) > 1 or (isinstance(node, MappingNode) and not node.value):
                self.r.error(node, f"'{what}' needs exactly one of " + ", ".join(choices))
            return None
        ((key, (_, value)),) = entries.items()
        flag = self.r.boolean(value, f"'{key}'")
        if flag is False:
            self.r.error(value, f"'{key}' can only be true")
        return key if flag else None

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

