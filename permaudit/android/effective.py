"""Effective access: which requested and implied permissions Android grants on one device level."""

from __future__ import annotations

from types import MappingProxyType

from permaudit.android.catalog import Catalog
from permaudit.android.implied import ImpliedPermission, implied_from
from permaudit.android.platform import Platform
from permaudit.model import (
    IMPLIED,
    USES_PERMISSION_SDK_23,
    Manifest,
    PermissionAccess,
    UsesPermission,
)

#: Marketing version of each API level (developer.android.com/tools/releases/platforms).
ANDROID_VERSIONS = MappingProxyType(
    {
        1: "1.0", 2: "1.1", 3: "1.5", 4: "1.6", 5: "2.0", 6: "2.0.1", 7: "2.1", 8: "2.2",
        9: "2.3", 10: "2.3.3", 11: "3.0", 12: "3.1", 13: "3.2", 14: "4.0", 15: "4.0.3",
        16: "4.1", 17: "4.2", 18: "4.3", 19: "4.4", 20: "4.4W", 21: "5.0", 22: "5.1",
        23: "6.0", 24: "7.0", 25: "7.1", 26: "8.0", 27: "8.1", 28: "9", 29: "10", 30: "11",
        31: "12", 32: "12L", 33: "13", 34: "14", 35: "15", 36: "16",
    }
)  # fmt: skip

_NO_LIMIT = 1 << 30


def describe_device(device_sdk: int) -> str:
    """``"Android 14 (API 34)"``; ``"API 40 (unknown Android version)"`` beyond the table."""
    version = ANDROID_VERSIONS.get(device_sdk)
    if version is None:
        return f"API {device_sdk} (unknown Android version)"
    return f"Android {version} (API {device_sdk})"


def requested_applies(entry: UsesPermission, device_sdk: int) -> bool:
    """Whether the package parser keeps this request on a device of ``device_sdk``.

    ParsingPackageUtils.parseUsesPermission skips an entry when
    ``maxSdkVersion != 0 && maxSdkVersion < Build.VERSION.RESOURCES_SDK_INT``;
    ``uses-permission-sdk-23`` is only read on API 23 and newer.
    """
    if entry.max_sdk is not None and entry.max_sdk != 0 and entry.max_sdk < device_sdk:
        return False
    return not (entry.element == USES_PERMISSION_SDK_23 and device_sdk < 23)


def implied_applies(item: ImpliedPermission, device_sdk: int) -> bool:
    """Whether the platform of ``device_sdk`` adds ``item``: it must know the rule, and the
    requested permission the chain starts from must apply there."""
    if device_sdk < item.device_min_sdk:
        return False
    if item.max_sdk is not None and item.max_sdk != 0 and item.max_sdk < device_sdk:
        return False
    return not (item.element == USES_PERMISSION_SDK_23 and device_sdk < 23)


def effective_permissions(manifest: Manifest, platform: Platform) -> tuple[PermissionAccess, ...]:
    """One row per requested entry and per implied permission, as on ``platform``.

    Protection is the device's, never the app's target SDK's. ``capabilities`` stays empty.
    """
    device_sdk, catalog = platform.api_level, platform.catalog
    requested = manifest.uses_permissions
    rows = [
        _row(catalog, entry.name, entry.element, entry.max_sdk, None,
             applies=requested_applies(entry, device_sdk))
        for entry in requested
    ]  # fmt: skip
    kept = frozenset(e.name for e in requested if requested_applies(e, device_sdk))
    all_requested = frozenset(e.name for e in requested)
    implied = implied_from(
        requested, manifest.target_sdk, platform.implied_rules, exclude=kept
    )
    by_name: dict[str, list[ImpliedPermission]] = {}
    for item in implied:
        by_name.setdefault(item.name, []).append(item)
    for name, group in by_name.items():
        applying = [item for item in group if implied_applies(item, device_sdk)]
        if name in all_requested and not applying:
            continue  # the manifest's own (inactive) request already has a row
        chosen = applying or group
        reason = "; ".join(dict.fromkeys(item.reason for item in chosen))
        if not applying:
            reason += _why_not(group, device_sdk)
        limits = [item.max_sdk for item in chosen]
        max_sdk = None if None in limits else max(x for x in limits if x is not None)
        rows.append(_row(catalog, name, IMPLIED, max_sdk, reason, applies=bool(applying)))
    return tuple(sorted(rows, key=_order))


def _why_not(group: list[ImpliedPermission], device_sdk: int) -> str:
    first = min(item.device_min_sdk for item in group)
    if device_sdk < first:
        return f"; not on this device: Android applies it from API {first} on"
    return "; not on this device: the permission it comes from does not apply here"


def _row(
    catalog: Catalog,
    name: str,
    element: str,
    max_sdk: int | None,
    reason: str | None,
    *,
    applies: bool,
) -> PermissionAccess:
    info = catalog.get(name)
    protection_class, note = catalog.classify(name)
    return PermissionAccess(
        name=name,
        element=element,
        max_sdk=max_sdk,
        reason=reason,
        # A platform permission newer than the device does not exist there: Android
        # records the request but no such permission can be granted.
        applies=applies and not catalog.is_newer_than_device(name),
        protection=info.protection if info is not None else (),
        protection_class=protection_class,
        note=note,
    )


def _order(row: PermissionAccess) -> tuple[str, str, int]:
    return (row.name, row.element, row.max_sdk if row.max_sdk is not None else _NO_LIMIT)
