"""Tests for permaudit.android.effective: what applies on one device level, and why."""

from __future__ import annotations

import pytest

from permaudit.android.effective import (
    describe_device,
    effective_permissions,
    requested_applies,
)
from permaudit.android.platform import platform_for
from permaudit.model import (
    CLASS_INSTALL,
    CLASS_RUNTIME,
    CLASS_SPECIAL,
    CLASS_UNKNOWN,
    IMPLIED,
    USES_PERMISSION,
    USES_PERMISSION_SDK_23,
    Manifest,
    PermissionAccess,
    UsesPermission,
)

P = "android.permission."


def app(target: int, *entries: UsesPermission) -> Manifest:
    return Manifest(package="t.app", min_sdk=min(target, 21), target_sdk=target,
                    uses_permissions=tuple(entries))  # fmt: skip


def perm(name: str, **kw: object) -> UsesPermission:
    return UsesPermission(name=name if "." in name else P + name, **kw)  # type: ignore[arg-type]


def rows(m: Manifest, device: int) -> dict[tuple[str, str], PermissionAccess]:
    result = effective_permissions(m, platform_for(device))
    return {(r.name.removeprefix(P), r.element): r for r in result}


@pytest.mark.parametrize(("device", "applies"), [(29, True), (30, True), (31, False)])
def test_max_sdk_boundary(device: int, applies: bool) -> None:
    got = rows(app(33, perm("READ_PHONE_STATE", max_sdk=30)), device)
    row = got[("READ_PHONE_STATE", USES_PERMISSION)]
    assert (row.applies, row.max_sdk) == (applies, 30)


@pytest.mark.parametrize(("device", "applies"), [(22, False), (23, True)])
def test_uses_permission_sdk_23(device: int, applies: bool) -> None:
    got = rows(app(33, perm("CAMERA", element=USES_PERMISSION_SDK_23)), device)
    assert got[("CAMERA", USES_PERMISSION_SDK_23)].applies is applies


def test_max_sdk_zero_means_no_limit() -> None:
    """ParsingPackageUtils skips only when maxSdkVersion != 0."""
    assert requested_applies(perm("CAMERA", max_sdk=0), 36)


@pytest.mark.parametrize(("device", "applies"), [(30, False), (31, True)])
def test_bluetooth_split_exists_only_on_devices_that_know_it(device: int, applies: bool) -> None:
    got = rows(app(30, perm("BLUETOOTH")), device)
    row = got[("BLUETOOTH_CONNECT", IMPLIED)]
    assert row.applies is applies
    assert row.reason is not None
    assert row.reason.startswith("targetSdk 30 < 31: split from BLUETOOTH")
    if not applies:
        assert "Android applies it from API 31 on" in row.reason
        assert row.protection_class == CLASS_UNKNOWN  # not a permission on API 30
    else:
        assert row.protection_class == CLASS_RUNTIME


def test_split_not_implied_when_target_is_new_enough() -> None:
    got = rows(app(31, perm("BLUETOOTH")), 34)
    assert set(got) == {("BLUETOOTH", USES_PERMISSION)}


def test_implied_row_inherits_source_max_sdk() -> None:
    got = rows(app(33, perm("WRITE_EXTERNAL_STORAGE", max_sdk=28)), 30)
    read = got[("READ_EXTERNAL_STORAGE", IMPLIED)]
    assert (read.applies, read.max_sdk) == (False, 28)
    assert read.reason is not None
    assert "does not apply here" in read.reason


def test_implied_from_sdk_23_entry_needs_api_23() -> None:
    m = app(28, perm("WRITE_EXTERNAL_STORAGE", element=USES_PERMISSION_SDK_23))
    assert rows(m, 23)[("READ_EXTERNAL_STORAGE", IMPLIED)].applies
    assert not rows(m, 22)[("READ_EXTERNAL_STORAGE", IMPLIED)].applies


def test_split_restores_a_request_dropped_by_max_sdk() -> None:
    """READ_EXTERNAL_STORAGE maxSdk 32 is dropped on 34, but WRITE still splits into it."""
    m = app(30, perm("READ_EXTERNAL_STORAGE", max_sdk=32), perm("WRITE_EXTERNAL_STORAGE"))
    on_34 = rows(m, 34)
    assert not on_34[("READ_EXTERNAL_STORAGE", USES_PERMISSION)].applies
    assert on_34[("READ_EXTERNAL_STORAGE", IMPLIED)].applies
    on_30 = rows(m, 30)
    assert on_30[("READ_EXTERNAL_STORAGE", USES_PERMISSION)].applies
    assert ("READ_EXTERNAL_STORAGE", IMPLIED) not in on_30


def test_several_sources_merge_into_one_row() -> None:
    m = app(30, perm("BLUETOOTH"), perm("BLUETOOTH_ADMIN", max_sdk=30))
    scan = [r for r in effective_permissions(m, platform_for(34))
            if r.name == P + "BLUETOOTH_SCAN"]  # fmt: skip
    assert len(scan) == 1
    assert scan[0].applies
    assert scan[0].reason == "targetSdk 30 < 31: split from BLUETOOTH"  # ADMIN stops at 30


def test_protection_comes_from_the_device_level_not_the_target() -> None:
    m = app(33, perm("USE_FULL_SCREEN_INTENT"))
    assert rows(m, 33)[("USE_FULL_SCREEN_INTENT", USES_PERMISSION)].protection_class == (
        CLASS_INSTALL
    )
    on_34 = rows(m, 34)[("USE_FULL_SCREEN_INTENT", USES_PERMISSION)]
    assert on_34.protection_class == CLASS_SPECIAL
    assert on_34.protection == ("normal", "appop")


def test_rows_carry_class_note_and_empty_capabilities() -> None:
    m = app(34, perm("com.example.app.DYNAMIC_RECEIVER_NOT_EXPORTED_PERMISSION"), perm("CAMERA"))
    got = effective_permissions(m, platform_for(34))
    assert [r.name for r in got] == [
        P + "CAMERA",
        "com.example.app.DYNAMIC_RECEIVER_NOT_EXPORTED_PERMISSION",
    ]
    camera, receiver = got
    assert (camera.protection_class, camera.protection[0], camera.note) == (
        CLASS_RUNTIME,
        "dangerous",
        None,
    )
    assert receiver.protection_class == CLASS_UNKNOWN
    assert receiver.protection == ()
    assert receiver.note is not None
    assert "benign" in receiver.note
    assert all(r.capabilities == () for r in got)


def test_order_is_name_element_max_sdk() -> None:
    m = app(
        22,
        perm("CAMERA", element=USES_PERMISSION_SDK_23),
        perm("CAMERA", max_sdk=22),
        perm("ACCESS_FINE_LOCATION"),
    )
    got = [(r.name.removeprefix(P), r.element, r.max_sdk)
           for r in effective_permissions(m, platform_for(30))]  # fmt: skip
    assert got == [
        ("ACCESS_BACKGROUND_LOCATION", IMPLIED, None),
        ("ACCESS_COARSE_LOCATION", IMPLIED, None),
        ("ACCESS_FINE_LOCATION", USES_PERMISSION, None),
        ("CAMERA", USES_PERMISSION, 22),
        ("CAMERA", USES_PERMISSION_SDK_23, None),
    ]


def test_old_target_compat_permissions_apply() -> None:
    got = rows(app(3), 30)
    assert got[("WRITE_EXTERNAL_STORAGE", IMPLIED)].applies
    assert got[("READ_PHONE_STATE", IMPLIED)].applies
    assert got[("READ_EXTERNAL_STORAGE", IMPLIED)].applies
    assert got[("ACCESS_MEDIA_LOCATION", IMPLIED)].applies


@pytest.mark.parametrize(
    ("level", "text"),
    [
        (34, "Android 14 (API 34)"),
        (32, "Android 12L (API 32)"),
        (20, "Android 4.4W (API 20)"),
        (1, "Android 1.0 (API 1)"),
        (36, "Android 16 (API 36)"),
        (40, "API 40 (unknown Android version)"),
    ],
)
def test_describe_device(level: int, text: str) -> None:
    assert describe_device(level) == text


# --- permissions newer than the device ------------------------------------------------


def test_first_level_table_matches_androguard_data() -> None:
    from permaudit.android.catalog import androguard_data_dir, load_first_levels
    from tools.android_levels import first_levels_from

    assert load_first_levels() == first_levels_from(androguard_data_dir()), (
        "permission_levels.json is stale: run 'make android-data'"
    )


@pytest.mark.parametrize(
    ("name", "device", "applies"),
    [
        ("android.permission.READ_MEDIA_IMAGES", 32, False),
        ("android.permission.READ_MEDIA_IMAGES", 33, True),
        ("android.permission.POST_NOTIFICATIONS", 22, False),
        ("android.permission.POST_NOTIFICATIONS", 33, True),
        ("android.permission.RECORD_AUDIO", 4, True),
    ],
)
def test_a_permission_newer_than_the_device_grants_nothing(
    name: str, device: int, applies: bool
) -> None:
    manifest = Manifest(
        package="com.example", min_sdk=21, target_sdk=34,
        uses_permissions=(UsesPermission(name=name),),
    )
    (row,) = effective_permissions(manifest, platform_for(device))
    assert row.applies is applies
    if not applies:
        assert row.note is not None
        assert row.note.startswith("added in API ")
