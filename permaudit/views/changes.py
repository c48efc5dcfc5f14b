"""The vocabulary of a diff: the closed set of change kinds (the JSON contract) and ``Change``."""

from __future__ import annotations

from permaudit._infra.records import record
from permaudit.model import Severity, TextEnum


#: The closed set of change kinds, in display order within one severity, with what
#: ``subject``, ``old`` and ``new`` hold for each. ``None`` means "absent".
class ChangeKind(TextEnum):
    """What kind of difference a ``Change`` is; the values are the JSON contract's ``kind``."""

    CAPABILITY_GAINED = "capability_gained"
    CAPABILITY_LOST = "capability_lost"
    CAPABILITY_ACCESS_CHANGED = "capability_access_changed"
    PERMISSION_ADDED = "permission_added"
    PERMISSION_REMOVED = "permission_removed"
    PERMISSION_ELEMENT_CHANGED = "permission_element_changed"
    PERMISSION_MAX_SDK_WIDENED = "permission_max_sdk_widened"
    PERMISSION_MAX_SDK_NARROWED = "permission_max_sdk_narrowed"
    PERMISSION_PROTECTION_CHANGED = "permission_protection_changed"
    IMPLIED_ADDED = "implied_added"
    IMPLIED_REMOVED = "implied_removed"
    COMPONENT_EXPORTED_ADDED = "component_exported_added"
    COMPONENT_EXPORTED_REMOVED = "component_exported_removed"
    COMPONENT_UNPROTECTED = "component_unprotected"
    COMPONENT_PROTECTED = "component_protected"
    COMPONENT_ENABLED_CHANGED = "component_enabled_changed"
    FLAG_CHANGED = "flag_changed"
    TARGET_SDK_CHANGED = "target_sdk_changed"
    MIN_SDK_CHANGED = "min_sdk_changed"
    FINDING_ADDED = "finding_added"
    FINDING_RESOLVED = "finding_resolved"


#: Every change kind with what its ``subject``, ``old`` and ``new`` hold (the JSON contract).
CHANGE_KINDS: dict[ChangeKind, str] = {
    ChangeKind.CAPABILITY_GAINED: "subject: capability id; new: access level text",
    ChangeKind.CAPABILITY_LOST: "subject: capability id; old: access level text",
    ChangeKind.CAPABILITY_ACCESS_CHANGED: "subject: capability id; old/new: access level text",
    ChangeKind.PERMISSION_ADDED: "subject: permission; new: elements (uses-permission, -sdk-23)",
    ChangeKind.PERMISSION_REMOVED: "subject: permission; old: elements",
    ChangeKind.PERMISSION_ELEMENT_CHANGED: (
        "subject: permission; old/new: elements, e.g. sdk-23 only"
    ),
    ChangeKind.PERMISSION_MAX_SDK_WIDENED: (
        "subject: permission; old/new: maxSdkVersion (None: all levels)"
    ),
    ChangeKind.PERMISSION_MAX_SDK_NARROWED: "subject: permission; old/new: maxSdkVersion",
    ChangeKind.PERMISSION_PROTECTION_CHANGED: (
        "subject: permission; old/new: protection class on device"
    ),
    ChangeKind.IMPLIED_ADDED: "subject: permission; new: why the platform implies it",
    ChangeKind.IMPLIED_REMOVED: "subject: permission; old: why it was implied",
    ChangeKind.COMPONENT_EXPORTED_ADDED: (
        "subject: 'kind:name'; old: None or 'not exported'; new: guard"
    ),
    ChangeKind.COMPONENT_EXPORTED_REMOVED: (
        "subject: 'kind:name'; old: guard; new: None or 'not exported'"
    ),
    ChangeKind.COMPONENT_UNPROTECTED: "subject: 'kind:name'; old: permission; new: None",
    ChangeKind.COMPONENT_PROTECTED: "subject: 'kind:name'; old: None; new: permission",
    ChangeKind.COMPONENT_ENABLED_CHANGED: (
        "subject: 'kind:name' (exported in both); old/new: 'enabled' or 'disabled in the "
        "manifest (the app can enable it)'"
    ),
    ChangeKind.FLAG_CHANGED: (
        "subject: manifest attribute (debuggable, allowBackup, ...); old/new: value"
    ),
    ChangeKind.TARGET_SDK_CHANGED: "subject: targetSdkVersion; old/new: API level",
    ChangeKind.MIN_SDK_CHANGED: "subject: minSdkVersion; old/new: API level",
    ChangeKind.FINDING_ADDED: "subject: the finding's subject; new: 'rule: title'",
    ChangeKind.FINDING_RESOLVED: "subject: the finding's subject; old: 'rule: title'",
}
KIND_ORDER = {kind: index for index, kind in enumerate(CHANGE_KINDS)}

Value = str | int | bool | None


@record
class Change:
    """One difference between the old and the new build."""

    kind: ChangeKind
    subject: str
    old: Value = None
    new: Value = None
    severity: Severity = Severity.INFO

    def __post_init__(self) -> None:
        ChangeKind(self.kind)  # a bare string must still name a kind: ValueError otherwise
