"""The vocabulary of a diff: change kinds (the JSON contract), ``Change``, which way each goes."""

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
    TRACKER_ADDED = "tracker_added"
    TRACKER_REMOVED = "tracker_removed"
    SERVER_COUNTRY_ADDED = "server_country_added"
    SERVER_COUNTRY_REMOVED = "server_country_removed"
    SERVER_OWNER_ADDED = "server_owner_added"
    SERVER_OWNER_REMOVED = "server_owner_removed"
    CODE_UNREQUESTED_ADDED = "unrequested_code_use"
    CODE_REFERENCE_ADDED = "code_reference_added"
    CODE_REFERENCE_REMOVED = "code_reference_removed"
    NATIVE_LIBRARY_ADDED = "native_library_added"
    NATIVE_LIBRARY_REMOVED = "native_library_removed"
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
    ChangeKind.TRACKER_ADDED: (
        "subject: tracker name; new: 'categories; by maker; ships packages' (views.code_changes)"
    ),
    ChangeKind.TRACKER_REMOVED: "subject: tracker name; old: as for tracker_added",
    ChangeKind.SERVER_COUNTRY_ADDED: (
        "subject: country name; new: 'servers of owner, ...' (owners based there)"
    ),
    ChangeKind.SERVER_COUNTRY_REMOVED: "subject: country name; old: 'servers of owner, ...'",
    ChangeKind.SERVER_OWNER_ADDED: "subject: owner name; new: 'country: domain, ...'",
    ChangeKind.SERVER_OWNER_REMOVED: "subject: owner name; old: 'country: domain, ...'",
    ChangeKind.CODE_UNREQUESTED_ADDED: (
        "subject: capability id; old: API references before (None: none); new: API "
        "references the code now makes without the manifest asking"
    ),
    ChangeKind.CODE_REFERENCE_ADDED: "subject: capability id; new: API references (first few)",
    ChangeKind.CODE_REFERENCE_REMOVED: "subject: capability id; old: API references",
    ChangeKind.NATIVE_LIBRARY_ADDED: "subject: lib*.so file name; new: 'ABIs; size'",
    ChangeKind.NATIVE_LIBRARY_REMOVED: "subject: lib*.so file name; old: 'ABIs; size'",
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


#: Change kinds that give the new build more (access, exposure, findings): ``gained``.
GAINED_KINDS = frozenset((
    ChangeKind.CAPABILITY_GAINED, ChangeKind.PERMISSION_ADDED, ChangeKind.IMPLIED_ADDED,
    ChangeKind.PERMISSION_MAX_SDK_WIDENED, ChangeKind.COMPONENT_EXPORTED_ADDED,
    ChangeKind.COMPONENT_UNPROTECTED, ChangeKind.FINDING_ADDED, ChangeKind.TRACKER_ADDED,
    ChangeKind.SERVER_COUNTRY_ADDED, ChangeKind.SERVER_OWNER_ADDED,
    ChangeKind.CODE_UNREQUESTED_ADDED, ChangeKind.CODE_REFERENCE_ADDED,
    ChangeKind.NATIVE_LIBRARY_ADDED,
))
#: Change kinds that take something away in the new build: ``dropped``.
DROPPED_KINDS = frozenset((
    ChangeKind.CAPABILITY_LOST, ChangeKind.PERMISSION_REMOVED, ChangeKind.IMPLIED_REMOVED,
    ChangeKind.PERMISSION_MAX_SDK_NARROWED, ChangeKind.COMPONENT_EXPORTED_REMOVED,
    ChangeKind.COMPONENT_PROTECTED, ChangeKind.FINDING_RESOLVED, ChangeKind.TRACKER_REMOVED,
    ChangeKind.SERVER_COUNTRY_REMOVED, ChangeKind.SERVER_OWNER_REMOVED,
    ChangeKind.CODE_REFERENCE_REMOVED, ChangeKind.NATIVE_LIBRARY_REMOVED,
))
#: Change kinds about the app's code (``views.code_changes``).
CODE_KINDS = frozenset((
    ChangeKind.TRACKER_ADDED, ChangeKind.TRACKER_REMOVED, ChangeKind.SERVER_COUNTRY_ADDED,
    ChangeKind.SERVER_COUNTRY_REMOVED, ChangeKind.SERVER_OWNER_ADDED,
    ChangeKind.SERVER_OWNER_REMOVED, ChangeKind.CODE_UNREQUESTED_ADDED,
    ChangeKind.CODE_REFERENCE_ADDED, ChangeKind.CODE_REFERENCE_REMOVED,
    ChangeKind.NATIVE_LIBRARY_ADDED, ChangeKind.NATIVE_LIBRARY_REMOVED,
))
#: Change kinds whose subject is a capability id (shown by its title where known).
CAPABILITY_SUBJECT_KINDS = frozenset((
    ChangeKind.CODE_UNREQUESTED_ADDED, ChangeKind.CODE_REFERENCE_ADDED,
    ChangeKind.CODE_REFERENCE_REMOVED,
))
CAPABILITY_KINDS = frozenset((
    ChangeKind.CAPABILITY_GAINED, ChangeKind.CAPABILITY_LOST,
    ChangeKind.CAPABILITY_ACCESS_CHANGED,
))


def direction(kind: ChangeKind | str) -> str:
    """``gained``, ``dropped`` or ``changed`` (neither: an access level, a flag, an SDK)."""
    if kind in GAINED_KINDS:
        return "gained"
    if kind in DROPPED_KINDS:
        return "dropped"
    return "changed"
