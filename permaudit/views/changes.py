"""Which way a diff change goes: the new build ``gained`` something, ``dropped`` it, or neither."""

from __future__ import annotations

from permaudit.views.diff import ChangeKind

#: Change kinds that give the new build more (access, exposure, findings): ``gained``.
GAINED_KINDS = frozenset((
    ChangeKind.CAPABILITY_GAINED, ChangeKind.PERMISSION_ADDED, ChangeKind.IMPLIED_ADDED,
    ChangeKind.PERMISSION_MAX_SDK_WIDENED, ChangeKind.COMPONENT_EXPORTED_ADDED,
    ChangeKind.COMPONENT_UNPROTECTED, ChangeKind.FINDING_ADDED,
))
#: Change kinds that take something away in the new build: ``dropped``.
DROPPED_KINDS = frozenset((
    ChangeKind.CAPABILITY_LOST, ChangeKind.PERMISSION_REMOVED, ChangeKind.IMPLIED_REMOVED,
    ChangeKind.PERMISSION_MAX_SDK_NARROWED, ChangeKind.COMPONENT_EXPORTED_REMOVED,
    ChangeKind.COMPONENT_PROTECTED, ChangeKind.FINDING_RESOLVED,
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
