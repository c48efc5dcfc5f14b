"""Tests for permaudit.android.catalog: level selection, protection data, classification."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from permaudit.android.catalog import (
    NEWEST_API_LEVEL,
    Catalog,
    PermissionInfo,
    available_levels,
    classify,
    load_known_permissions,
)
from permaudit.errors import PermauditError
from permaudit.model import (
    CLASS_INSTALL,
    CLASS_RUNTIME,
    CLASS_SIGNATURE,
    CLASS_SPECIAL,
    CLASS_UNKNOWN,
)

P = "android.permission."


@pytest.fixture(scope="module")
def newest() -> Catalog:
    return Catalog.for_api_level(NEWEST_API_LEVEL)


def test_newest_level_matches_androguard_files(newest: Catalog) -> None:
    from permaudit.android.catalog import androguard_data_dir

    levels = available_levels(androguard_data_dir())
    assert levels[-1] == NEWEST_API_LEVEL
    assert {11, 12, 20}.isdisjoint(levels)
    assert newest.data_level == NEWEST_API_LEVEL


@pytest.mark.parametrize(
    ("level", "data_level"), [(11, 10), (12, 10), (20, 19), (21, 21), (1, 4), (3, 4), (36, 36)]
)
def test_missing_levels_use_nearest_lower_file(level: int, data_level: int) -> None:
    catalog = Catalog.for_api_level(level)
    assert (catalog.api_level, catalog.data_level) == (level, data_level)


@pytest.mark.parametrize("level", [0, -1, NEWEST_API_LEVEL + 1])
def test_level_out_of_range_is_a_clear_error(level: int) -> None:
    with pytest.raises(PermauditError, match=f"API level {level} is outside"):
        Catalog.for_api_level(level)


def test_missing_data_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PermauditError, match=r"no permissions_<N>\.json"):
        Catalog.for_api_level(30, data_dir=tmp_path)


def test_loading_does_not_import_androguard() -> None:
    code = (
        "import sys\n"
        "from permaudit.android.catalog import Catalog\n"
        "assert Catalog.for_api_level(36).get('android.permission.CAMERA') is not None\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('androguard', 'loguru')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_entry_fields(newest: Catalog) -> None:
    info = newest.get(P + "CAMERA")
    assert info is not None
    assert info.protection[0] == "dangerous"
    assert info.group is not None
    assert info.label
    assert newest.get("com.example.NOT_A_PERMISSION") is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("RECORD_AUDIO", CLASS_RUNTIME),
        ("INTERNET", CLASS_INSTALL),
        ("SYSTEM_ALERT_WINDOW", CLASS_SPECIAL),
        ("REQUEST_INSTALL_PACKAGES", CLASS_SPECIAL),
        ("MANAGE_EXTERNAL_STORAGE", CLASS_SPECIAL),
        ("SCHEDULE_EXACT_ALARM", CLASS_SPECIAL),
        ("PACKAGE_USAGE_STATS", CLASS_SPECIAL),
        ("WRITE_SETTINGS", CLASS_SPECIAL),
        ("USE_FULL_SCREEN_INTENT", CLASS_SPECIAL),
        ("ACCESS_NOTIFICATION_POLICY", CLASS_SPECIAL),  # override: normal in the data
        ("FOREGROUND_SERVICE_SPECIAL_USE", CLASS_INSTALL),  # override: normal|appop
        ("INSTALL_PACKAGES", CLASS_SIGNATURE),
        ("READ_LOGS", CLASS_SIGNATURE),
    ],
)
def test_classes_on_newest_level(newest: Catalog, name: str, expected: str) -> None:
    assert newest.classify(P + name)[0] == expected


def test_signature_note_mentions_development_flag(newest: Catalog) -> None:
    _, install_note = newest.classify(P + "INSTALL_PACKAGES")
    _, logs_note = newest.classify(P + "READ_LOGS")
    assert install_note == "not grantable to an ordinary app (signature/privileged)"
    assert logs_note is not None
    assert "adb" in logs_note


def test_vendor_permission_is_unknown_without_note(newest: Catalog) -> None:
    assert newest.classify("com.vendor.phone.permission.SECRET") == (CLASS_UNKNOWN, None)


def test_androidx_receiver_permission_is_unknown_with_benign_note(newest: Catalog) -> None:
    cls, note = newest.classify("com.example.app.DYNAMIC_RECEIVER_NOT_EXPORTED_PERMISSION")
    assert cls == CLASS_UNKNOWN
    assert note is not None
    assert "AndroidX" in note
    assert "benign" in note


def test_ad_id_is_flagged_as_tracking(newest: Catalog) -> None:
    cls, note = newest.classify("com.google.android.gms.permission.AD_ID")
    assert cls == CLASS_UNKNOWN
    assert note is not None
    assert "tracking" in note
    assert "not benign" in note


def test_unknown_android_name_gets_a_note(newest: Catalog) -> None:
    cls, note = newest.classify(P + "SYSTEM_OVERLAY_WINDOW")
    assert cls == CLASS_UNKNOWN
    assert note is not None
    assert "does not define" in note


def test_device_level_decides_protection() -> None:
    """USE_FULL_SCREEN_INTENT is normal on 29..33 and normal|appop from 34 (androguard#993:
    look up the device level, not the app's target SDK)."""
    name = P + "USE_FULL_SCREEN_INTENT"
    on_33 = Catalog.for_api_level(33)
    on_34 = Catalog.for_api_level(34)
    info_33, info_34 = on_33.get(name), on_34.get(name)
    assert info_33 is not None
    assert info_34 is not None
    assert info_33.protection == ("normal",)
    assert info_34.protection == ("normal", "appop")
    assert on_33.classify(name)[0] == CLASS_INSTALL
    assert on_34.classify(name)[0] == CLASS_SPECIAL


@pytest.mark.parametrize(
    ("name", "before", "after", "level"),
    [
        ("GET_ACCOUNTS", CLASS_INSTALL, CLASS_RUNTIME, 23),
        ("SYSTEM_ALERT_WINDOW", CLASS_RUNTIME, CLASS_SPECIAL, 23),
        ("REQUEST_INSTALL_PACKAGES", CLASS_INSTALL, CLASS_SPECIAL, 26),
    ],
)
def test_class_changes_across_levels(name: str, before: str, after: str, level: int) -> None:
    assert Catalog.for_api_level(level - 1).classify(P + name)[0] == before
    assert Catalog.for_api_level(level).classify(P + name)[0] == after


def test_dangerous_before_23_is_granted_at_install() -> None:
    cls, note = Catalog.for_api_level(22).classify(P + "CAMERA")
    assert cls == CLASS_RUNTIME
    assert note == "dangerous, but granted at install on API < 23"


def test_empty_protection_level_is_androids_default_normal() -> None:
    """androguard writes '' for BODY_SENSORS on 21/22 (no protectionLevel attribute)."""
    info = Catalog.for_api_level(21).get(P + "BODY_SENSORS")
    assert info is not None
    assert info.protection == ("normal",)


@pytest.mark.parametrize(
    ("protection", "expected"),
    [
        (("normal", "appop"), CLASS_SPECIAL),
        (("signature", "appop"), CLASS_SPECIAL),
        (("signatureOrSystem",), CLASS_SIGNATURE),
        (("internal",), CLASS_SIGNATURE),
        (("dangerous", "instant"), CLASS_RUNTIME),
        (("normal",), CLASS_INSTALL),
    ],
)
def test_classify_flags(protection: tuple[str, ...], expected: str) -> None:
    info = PermissionInfo(name="x.Y", protection=protection)
    assert classify(info, "x.Y")[0] == expected


def test_known_permission_table_is_cited_and_consistent(newest: Catalog) -> None:
    known = load_known_permissions()
    assert known.permissions
    for entry in known.permissions:
        assert entry.source.startswith("https://"), entry
        assert entry.kind in {"library", "launcher-badge", "tracking"}, entry
        if entry.name is not None:
            assert newest.get(entry.name) is None, f"{entry.name} is a platform permission"
    for override in known.overrides:
        assert override.source.startswith("https://"), override
        assert Catalog.for_api_level(override.from_api).get(override.name) is not None


def test_bad_known_table_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "known.yml"
    bad.write_text("version: 1\npermissions:\n  - name: a.B\n    kind: x\n", encoding="utf-8")
    with pytest.raises(PermauditError, match="missing keys"):
        load_known_permissions(bad)
