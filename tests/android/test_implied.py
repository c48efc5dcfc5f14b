"""Tests for permaudit.android.implied: split/compat rules, their data, and aapt's oracle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from permaudit.android.catalog import Catalog
from permaudit.android.implied import (
    ImpliedRule,
    implied_from,
    implied_permissions,
    load_rules,
)
from permaudit.errors import PermauditError
from permaudit.model import USES_PERMISSION, USES_PERMISSION_SDK_23, Manifest, UsesPermission
from tests.conftest import corpus_files

P = "android.permission."

#: Independent expectation of the table (source, implied, targetSdk bound, device level),
#: written from platform.xml / PackageParser / aapt, so the YAML cannot drift unnoticed.
EXPECTED_SPLITS = {
    ("WRITE_EXTERNAL_STORAGE", "READ_EXTERNAL_STORAGE", None, 16),
    ("ACCESS_FINE_LOCATION", "ACCESS_COARSE_LOCATION", None, 29),
    ("READ_PRIVILEGED_PHONE_STATE", "READ_PHONE_STATE", None, 29),
    ("READ_CONTACTS", "READ_CALL_LOG", 16, 16),
    ("WRITE_CONTACTS", "WRITE_CALL_LOG", 16, 16),
    ("ACCESS_FINE_LOCATION", "ACCESS_BACKGROUND_LOCATION", 29, 29),
    ("ACCESS_COARSE_LOCATION", "ACCESS_BACKGROUND_LOCATION", 29, 29),
    ("READ_EXTERNAL_STORAGE", "ACCESS_MEDIA_LOCATION", 29, 29),
    ("WRITE_EXTERNAL_STORAGE", "ACCESS_MEDIA_LOCATION", 29, 29),
    ("BLUETOOTH", "BLUETOOTH_SCAN", 31, 31),
    ("BLUETOOTH", "BLUETOOTH_CONNECT", 31, 31),
    ("BLUETOOTH", "BLUETOOTH_ADVERTISE", 31, 31),
    ("BLUETOOTH_ADMIN", "BLUETOOTH_SCAN", 31, 31),
    ("BLUETOOTH_ADMIN", "BLUETOOTH_CONNECT", 31, 31),
    ("BLUETOOTH_ADMIN", "BLUETOOTH_ADVERTISE", 31, 31),
    ("BODY_SENSORS", "BODY_SENSORS_BACKGROUND", 33, 33),
    ("READ_EXTERNAL_STORAGE", "READ_MEDIA_AUDIO", 33, 33),
    ("READ_EXTERNAL_STORAGE", "READ_MEDIA_VIDEO", 33, 33),
    ("READ_EXTERNAL_STORAGE", "READ_MEDIA_IMAGES", 33, 33),
    ("WRITE_EXTERNAL_STORAGE", "READ_MEDIA_AUDIO", 33, 33),
    ("WRITE_EXTERNAL_STORAGE", "READ_MEDIA_VIDEO", 33, 33),
    ("WRITE_EXTERNAL_STORAGE", "READ_MEDIA_IMAGES", 33, 33),
}
EXPECTED_COMPAT = {("WRITE_EXTERNAL_STORAGE", 4), ("READ_PHONE_STATE", 4)}
#: Rules aapt's `dump badging` also applies (tools/aapt/Command.cpp).
EXPECTED_AAPT = {
    "compat-write-external-storage",
    "compat-read-phone-state",
    "split-write-external-read-external",
    "split-read-contacts-call-log",
    "split-write-contacts-call-log",
}


def manifest(target: int, *names: str, **max_sdk: int) -> Manifest:
    """A manifest requesting ``names`` (short names), with optional maxSdk per name."""
    return Manifest(
        package="t.app",
        min_sdk=min(target, 21),
        target_sdk=target,
        uses_permissions=tuple(
            UsesPermission(name=P + n, max_sdk=max_sdk.get(n)) for n in sorted(names)
        ),
    )


def implied_names(m: Manifest) -> set[str]:
    return {i.name.removeprefix(P) for i in implied_permissions(m)}


@pytest.fixture(scope="module")
def rules() -> tuple[ImpliedRule, ...]:
    return load_rules()


def test_table_matches_platform_sources(rules: tuple[ImpliedRule, ...]) -> None:
    splits = {
        (
            r.source_permission.removeprefix(P) if r.source_permission else "",
            r.implies.removeprefix(P),
            r.target_sdk_below,
            r.device_min_sdk,
        )
        for r in rules
        if r.kind == "split"
    }
    compat = {(r.implies.removeprefix(P), r.target_sdk_below) for r in rules if r.kind == "compat"}
    assert splits == EXPECTED_SPLITS
    assert compat == EXPECTED_COMPAT
    assert {r.id for r in rules if r.aapt} == EXPECTED_AAPT
    assert all(r.citation for r in rules)


def test_implied_permission_exists_on_the_device_level_that_applies_the_rule(
    rules: tuple[ImpliedRule, ...],
) -> None:
    """A split applies from the level that defines the new permission, and not before."""
    for rule in rules:
        assert Catalog.for_api_level(rule.device_min_sdk).get(rule.implies) is not None, rule.id
        if rule.target_sdk_below == rule.device_min_sdk and rule.device_min_sdk > 4:
            older = Catalog.for_api_level(rule.device_min_sdk - 1)
            assert older.get(rule.implies) is None, rule.id


@pytest.mark.parametrize(
    ("source", "implied", "bound"),
    sorted((s, i, b) for s, i, b, _ in EXPECTED_SPLITS if b is not None),
)
def test_split_boundary_both_sides(source: str, implied: str, bound: int) -> None:
    assert implied in implied_names(manifest(bound - 1, source))
    assert implied not in implied_names(manifest(bound, source))


def test_fine_location_implies_coarse_for_every_target() -> None:
    assert "ACCESS_COARSE_LOCATION" in implied_names(manifest(36, "ACCESS_FINE_LOCATION"))
    assert implied_names(manifest(36, "ACCESS_FINE_LOCATION", "ACCESS_COARSE_LOCATION")) == set()


def test_write_external_implies_read_external_for_every_target() -> None:
    assert implied_names(manifest(36, "WRITE_EXTERNAL_STORAGE")) == {"READ_EXTERNAL_STORAGE"}


def test_old_target_gets_compat_permissions_and_their_splits() -> None:
    got = {i.name.removeprefix(P): i for i in implied_permissions(manifest(3))}
    assert {"WRITE_EXTERNAL_STORAGE", "READ_PHONE_STATE", "READ_EXTERNAL_STORAGE"} <= set(got)
    assert got["WRITE_EXTERNAL_STORAGE"].source is None
    assert got["WRITE_EXTERNAL_STORAGE"].reason.startswith("targetSdk 3 < 4")
    assert got["READ_EXTERNAL_STORAGE"].source == P + "WRITE_EXTERNAL_STORAGE"
    assert "itself implied" in got["READ_EXTERNAL_STORAGE"].reason
    assert implied_names(manifest(4)) == set()


def test_already_requested_is_not_implied() -> None:
    names = implied_names(manifest(3, "WRITE_EXTERNAL_STORAGE", "READ_PHONE_STATE"))
    assert "WRITE_EXTERNAL_STORAGE" not in names
    assert "READ_PHONE_STATE" not in names
    assert "READ_EXTERNAL_STORAGE" in names


def test_implied_inherits_max_sdk_and_element() -> None:
    (item,) = implied_permissions(manifest(36, "WRITE_EXTERNAL_STORAGE", WRITE_EXTERNAL_STORAGE=18))
    assert (item.name, item.max_sdk, item.element) == (
        P + "READ_EXTERNAL_STORAGE",
        18,
        USES_PERMISSION,
    )
    sdk23 = Manifest(
        package="t.app",
        target_sdk=36,
        uses_permissions=(
            UsesPermission(name=P + "ACCESS_FINE_LOCATION", element=USES_PERMISSION_SDK_23),
        ),
    )
    (coarse,) = implied_permissions(sdk23)
    assert coarse.element == USES_PERMISSION_SDK_23
    assert coarse.reason == "split from ACCESS_FINE_LOCATION (every target SDK)"


def test_reason_names_target_and_source() -> None:
    items = implied_permissions(manifest(22, "ACCESS_FINE_LOCATION"))
    reasons = {(i.name.removeprefix(P), i.reason) for i in items}
    assert ("ACCESS_BACKGROUND_LOCATION", "targetSdk 22 < 29: split from ACCESS_FINE_LOCATION") in (
        reasons
    )


def test_several_paths_give_one_entry_each_in_a_stable_order() -> None:
    m = manifest(30, "BLUETOOTH", "BLUETOOTH_ADMIN")
    items = implied_permissions(m)
    scan = [i.source for i in items if i.name == P + "BLUETOOTH_SCAN"]
    assert scan == [P + "BLUETOOTH", P + "BLUETOOTH_ADMIN"]
    reversed_input = implied_from(tuple(reversed(m.uses_permissions)), 30, load_rules())
    assert reversed_input == items


def test_bad_rules_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "rules.yml"
    bad.write_text("version: 1\nrules:\n  - id: x\n    kind: split\n", encoding="utf-8")
    with pytest.raises(PermauditError, match="rule must have exactly the keys"):
        load_rules(bad)


# --- cross-check with aapt's badging over the corpus oracle ---------------------------------


CUR_DEVELOPMENT = 10000


def _sdk(value: object) -> int | None:
    if value is None:
        return None
    text = str(value)
    # Android reads a codename such as 'VanillaIceCream' as CUR_DEVELOPMENT (10000).
    return int(text) if text.isdigit() else CUR_DEVELOPMENT


def _aapt_target(target: int) -> int:
    """aapt's own idea of the target SDK: a codename leaves its targetSdk at 0.

    tools/aapt/Command.cpp only assigns targetSdk from integer values (and "Donut"), so
    a preview codename reads as "targetSdkVersion < 4" there -- an aapt quirk; Android
    applies CUR_DEVELOPMENT, so permaudit does not imply the compat permissions.
    """
    return 0 if target == CUR_DEVELOPMENT else target


def _oracle_case(path: Path) -> tuple[Manifest, dict[str, int | None]] | None:
    """The manifest facts aapt printed, and aapt's implied permissions with their maxSdk."""
    document = json.loads(path.read_text(encoding="utf-8"))
    badging = (document.get("aapt") or {}).get("badging") or {}
    parsed = badging.get("parsed")
    if not parsed or not badging.get("ok"):
        return None  # badging failed half-way (e.g. no resources.arsc): output incomplete
    aapt_implied = {i["name"]: _sdk(i["maxSdkVersion"]) for i in parsed["implied_permission"]}
    entries = [
        UsesPermission(name=u["name"], max_sdk=_sdk(u["maxSdkVersion"]))
        for u in parsed["uses_permission"]
        if u["name"] not in aapt_implied  # aapt also prints implied ones as uses-permission
    ] + [
        UsesPermission(
            name=u["name"], element=USES_PERMISSION_SDK_23, max_sdk=_sdk(u["maxSdkVersion"])
        )
        for u in parsed["uses_permission_sdk_23"]
    ]
    # aapt: targetSdk = targetSdkVersion, else sdkVersion, else 0 (Android: minSdk, else 1).
    target = _sdk(parsed["targetSdkVersion"]) or _sdk(parsed["sdkVersion"]) or 1
    unique = tuple(sorted(set(entries), key=lambda u: (u.name, u.element, u.max_sdk or 0)))
    return Manifest(package=parsed["package"], target_sdk=target, uses_permissions=unique), (
        aapt_implied
    )


def _badging_completed(path: Path) -> bool:
    badging = (json.loads(path.read_text(encoding="utf-8")).get("aapt") or {}).get("badging")
    return bool(badging and badging.get("ok") and badging.get("parsed"))


#: Only inputs whose aapt badging completed: elsewhere aapt's output is partial.
ORACLES = [p for p in corpus_files("oracle", "*.json") if _badging_completed(p)]


@pytest.mark.skipif(not ORACLES, reason="corpus oracle not found (set PERMAUDIT_CORPUS)")
@pytest.mark.parametrize("path", ORACLES, ids=lambda p: p.name)
def test_aapt_badging_implications_agree(path: Path, rules: tuple[ImpliedRule, ...]) -> None:
    """aapt applies only the pre-API-29 rules; with those we must match it exactly.

    Known, explained differences (recorded, not failures):
    - the platform's later splits (FINE->COARSE, background location, media location,
      Bluetooth, body sensors, READ_MEDIA_*) are unknown to aapt; Android applies them
      on devices of their level (see implied_permissions.yml) -- we keep them.
    - aapt ignores uses-permission-sdk-23 when implying; Android splits those too on
      API 23+ -- we follow Android, so the aapt-only comparison drops sdk-23 sources.
    """
    case = _oracle_case(path)
    assert case is not None
    m, aapt_implied = case
    aapt_rules = tuple(r for r in rules if r.aapt)
    plain = tuple(u for u in m.uses_permissions if u.element == USES_PERMISSION)
    ours = implied_from(plain, _aapt_target(m.target_sdk), aapt_rules)
    ours_max: dict[str, int | None] = {}
    for item in ours:
        ours_max.setdefault(item.name, item.max_sdk)
    assert ours_max == aapt_implied

    aapt_ids = {r.id for r in aapt_rules}
    for item in implied_permissions(m, rules):
        if item.name not in aapt_implied:
            # Only a platform-only rule, or a chain from uses-permission-sdk-23, may add more.
            assert item.rule not in aapt_ids or item.element == USES_PERMISSION_SDK_23, item
