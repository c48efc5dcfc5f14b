"""Tests of ``permaudit.views.diff``: hand-built reports, and the corpus versions end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES
from permaudit.errors import PermauditError
from permaudit.model import (
    IMPLIED,
    USES_PERMISSION_SDK_23,
    Application,
    Component,
    Severity,
)
from permaudit.views.changes import CODE_KINDS
from permaudit.views.diff import CHANGE_KINDS, Change, Diff, diff
from tests.views.test_compare import P, finding, hit, perm, report


def kinds(result: Diff) -> set[tuple[str, str]]:
    """(kind, subject) of every change, permission prefixes dropped."""
    return {(c.kind, c.subject.removeprefix(P)) for c in result.changes}


def change(result: Diff, kind: str, subject: str) -> Change:
    return next(
        c for c in result.changes if c.kind == kind and c.subject.removeprefix(P) == subject
    )


def test_identical_builds_have_no_changes() -> None:
    old = report("com.example", permissions=[perm("CAMERA", "camera")])
    assert diff(old, old).changes == ()


def test_permission_added_and_removed_carry_ruleset_severity() -> None:
    old = report("com.example", permissions=[perm("VIBRATE", cls="install")])
    new = report(
        "com.example",
        version="2.0",
        permissions=[perm("RECORD_AUDIO", "microphone")],
        capabilities=[hit("microphone", "RECORD_AUDIO", severity=Severity.HIGH)],
    )
    result = diff(old, new)
    assert kinds(result) == {
        ("permission_added", "RECORD_AUDIO"),
        ("permission_removed", "VIBRATE"),
        ("capability_gained", "microphone"),
    }
    # "gained microphone" stands above "removed VIBRATE".
    assert result.changes[0] == Change(
        kind="capability_gained", subject="microphone", new="yes", severity=Severity.HIGH
    )
    added = change(result, "permission_added", "RECORD_AUDIO")
    assert (added.old, added.new, added.severity) == (None, "uses-permission", Severity.HIGH)
    removed = change(result, "permission_removed", "VIBRATE")
    assert (removed.old, removed.new, removed.severity) == ("uses-permission", None, Severity.INFO)
    assert result.changes[-1] is removed


def test_a_permission_finding_sets_the_severity_of_its_change() -> None:
    old = report("com.example")
    new = report(
        "com.example",
        permissions=[perm("SYSTEM_ALERT_WINDOW", cls="special")],
        findings=[finding("special_access", P + "SYSTEM_ALERT_WINDOW", Severity.MEDIUM)],
    )
    result = diff(old, new)
    assert result.changes == (
        Change(
            kind="permission_added",
            subject=P + "SYSTEM_ALERT_WINDOW",
            new="uses-permission",
            severity=Severity.MEDIUM,
        ),
    )


def test_element_and_max_sdk_changes() -> None:
    old = report(
        "com.example",
        permissions=[
            perm("READ_SMS", "sms", element=USES_PERMISSION_SDK_23),
            perm("WRITE_EXTERNAL_STORAGE", "files", max_sdk=28),
            perm("READ_EXTERNAL_STORAGE", "files", max_sdk=32),
        ],
        capabilities=[hit("sms", "READ_SMS", severity=Severity.HIGH)],
    )
    new = report(
        "com.example",
        permissions=[
            perm("READ_SMS", "sms"),
            perm("WRITE_EXTERNAL_STORAGE", "files"),
            perm("READ_EXTERNAL_STORAGE", "files", max_sdk=29),
        ],
        capabilities=[hit("sms", "READ_SMS", severity=Severity.HIGH)],
    )
    result = diff(old, new)
    assert kinds(result) == {
        ("permission_element_changed", "READ_SMS"),
        ("permission_max_sdk_widened", "WRITE_EXTERNAL_STORAGE"),
        ("permission_max_sdk_narrowed", "READ_EXTERNAL_STORAGE"),
    }
    element = change(result, "permission_element_changed", "READ_SMS")
    assert (element.old, element.new, element.severity) == (
        USES_PERMISSION_SDK_23,
        "uses-permission",
        Severity.HIGH,
    )
    widened = change(result, "permission_max_sdk_widened", "WRITE_EXTERNAL_STORAGE")
    assert (widened.old, widened.new) == (28, None)
    narrowed = change(result, "permission_max_sdk_narrowed", "READ_EXTERNAL_STORAGE")
    assert (narrowed.old, narrowed.new, narrowed.severity) == (32, 29, Severity.INFO)


def test_protection_class_change_on_the_device_level() -> None:
    old = report("com.example", permissions=[perm("com.example.permission.X", cls="unknown")])
    new = report("com.example", permissions=[perm("com.example.permission.X", cls="install")])
    result = diff(old, new)
    assert [(c.kind, c.old, c.new) for c in result.changes] == [
        ("permission_protection_changed", "unknown", "install")
    ]


def test_implied_permissions_follow_the_target_sdk() -> None:
    old = report(
        "com.example",
        target_sdk=3,
        permissions=[
            perm("READ_PHONE_STATE", "phone", element=IMPLIED, reason="targetSdkVersion < 4"),
        ],
        capabilities=[hit("phone", "READ_PHONE_STATE", severity=Severity.MEDIUM)],
    )
    new = report(
        "com.example",
        target_sdk=28,
        permissions=[
            perm(
                "ACCESS_BACKGROUND_LOCATION",
                "background_location",
                element=IMPLIED,
                reason="targetSdkVersion < 29",
            ),
        ],
        capabilities=[
            hit("background_location", "ACCESS_BACKGROUND_LOCATION", severity=Severity.CRITICAL)
        ],
    )
    result = diff(old, new)
    assert kinds(result) == {
        ("implied_added", "ACCESS_BACKGROUND_LOCATION"),
        ("implied_removed", "READ_PHONE_STATE"),
        ("capability_gained", "background_location"),
        ("capability_lost", "phone"),
        ("target_sdk_changed", "targetSdkVersion"),
    }
    implied = change(result, "implied_added", "ACCESS_BACKGROUND_LOCATION")
    assert (implied.new, implied.severity) == ("targetSdkVersion < 29", Severity.CRITICAL)
    assert change(result, "implied_removed", "READ_PHONE_STATE").severity is Severity.INFO
    assert change(result, "capability_lost", "phone").old == "yes"
    target = change(result, "target_sdk_changed", "targetSdkVersion")
    assert (target.old, target.new, target.severity) == (3, 28, Severity.INFO)


def test_capability_access_widening_and_narrowing() -> None:
    def with_location(*access: str) -> object:
        return report(
            "com.example",
            capabilities=[hit("location", "X", severity=Severity.HIGH, access=access)],
        )

    wider = diff(with_location("approximate"), with_location("precise", "background"))
    assert wider.changes == (
        Change(
            kind="capability_access_changed",
            subject="location",
            old="approximate",
            new="precise + background",
            severity=Severity.HIGH,
        ),
    )
    narrower = diff(with_location("precise", "approximate"), with_location("approximate"))
    assert narrower.changes[0].severity is Severity.INFO


def test_exported_components() -> None:
    def svc(name: str, **kwargs: object) -> Component:
        return Component(kind="service", name=name, **kwargs)  # type: ignore[arg-type]

    old = report(
        "com.example",
        components=[
            svc("a.Guarded", exported=True, permission="a.P"),
            svc("a.Gone", exported=True),
            svc("a.Internal", exported=False),
            svc("a.Locked", exported=True),
        ],
    )
    new = report(
        "com.example",
        components=[
            svc("a.Guarded", exported=True),
            svc("a.Internal", exported=True),
            svc("a.Fresh", exported=True, permission="a.P"),
            svc("a.Locked", exported=True, permission="a.Q"),
        ],
        findings=[finding("exported.service", "service:a.Guarded", Severity.MEDIUM)],
    )
    result = diff(old, new)
    assert kinds(result) == {
        ("component_unprotected", "service:a.Guarded"),
        ("component_exported_removed", "service:a.Gone"),
        ("component_exported_added", "service:a.Internal"),
        ("component_exported_added", "service:a.Fresh"),
        ("component_protected", "service:a.Locked"),
    }
    unprotected = change(result, "component_unprotected", "service:a.Guarded")
    assert (unprotected.old, unprotected.new, unprotected.severity) == (
        "a.P",
        None,
        Severity.MEDIUM,
    )
    assert change(result, "component_exported_added", "service:a.Internal").old == "not exported"
    fresh = change(result, "component_exported_added", "service:a.Fresh")
    assert (fresh.old, fresh.new) == (None, "exported, requires a.P")
    # The finding about a.Guarded is explained by the component change, not listed twice.
    assert not any(c.kind == "finding_added" for c in result.changes)


def test_flags_and_sdk_levels() -> None:
    old = report("com.example", min_sdk=21, application=Application(allow_backup=False))
    new = report(
        "com.example",
        min_sdk=24,
        application=Application(allow_backup=False, debuggable=True, uses_cleartext_traffic=True),
        shared_user_id="android.uid.shared",
        findings=[finding("debuggable", "android:debuggable", Severity.HIGH)],
    )
    result = diff(old, new)
    assert kinds(result) == {
        ("flag_changed", "debuggable"),
        ("flag_changed", "usesCleartextTraffic"),
        ("flag_changed", "sharedUserId"),
        ("min_sdk_changed", "minSdkVersion"),
    }
    debuggable = change(result, "flag_changed", "debuggable")
    assert (debuggable.old, debuggable.new, debuggable.severity) == (False, True, Severity.HIGH)
    cleartext = change(result, "flag_changed", "usesCleartextTraffic")
    assert (cleartext.old, cleartext.new) == (None, True)
    assert change(result, "flag_changed", "sharedUserId").new == "android.uid.shared"
    assert result.changes[0] is debuggable


def test_findings_not_explained_by_another_change_are_listed() -> None:
    old = report("com.example", findings=[finding("old_rule", "com.example", Severity.LOW)])
    new = report(
        "com.example",
        findings=[finding("target_below_play_minimum", "com.example", Severity.MEDIUM)],
    )
    result = diff(old, new)
    assert [(c.kind, c.subject, c.old, c.new, c.severity) for c in result.changes] == [
        (
            "finding_added",
            "com.example",
            None,
            "target_below_play_minimum: target_below_play_minimum title",
            Severity.MEDIUM,
        ),
        ("finding_resolved", "com.example", "old_rule: old_rule title", None, Severity.INFO),
    ]


def test_changes_are_ordered_by_severity_then_kind_then_subject() -> None:
    old = report("com.example")
    new = report(
        "com.example",
        permissions=[perm("B_PERM"), perm("A_PERM"), perm("CAMERA", "camera")],
        capabilities=[hit("camera", "CAMERA", severity=Severity.MEDIUM)],
    )
    result = diff(old, new)
    assert [(c.kind, c.subject.removeprefix(P)) for c in result.changes] == [
        ("capability_gained", "camera"),
        ("permission_added", "CAMERA"),
        ("permission_added", "A_PERM"),
        ("permission_added", "B_PERM"),
    ]


def test_unknown_kind_is_rejected() -> None:
    with pytest.raises(ValueError, match="is not a valid ChangeKind"):
        Change(kind="permission_renamed", subject="x")


def test_kinds_are_documented_and_include_the_contract_ones() -> None:
    assert {"permission_added", "permission_removed"} <= CHANGE_KINDS.keys()
    assert all(CHANGE_KINDS.values())


def test_two_versions_are_labelled_by_version_and_different_packages_flagged() -> None:
    result = diff(report("com.example", version="1.0"), report("com.example", version="2.0"))
    assert (result.old.label, result.new.label) == ("com.example 1.0", "com.example 2.0")
    assert result.same_package
    assert not diff(report("a.b"), report("c.d")).same_package


def test_mixed_device_levels_are_an_error() -> None:
    with pytest.raises(PermauditError, match="different device levels 33 and 34"):
        diff(report("a.b", device_sdk=33), report("a.b", device_sdk=34))


# --- the corpus version series, end to end -----------------------------------------------
# Expected changes verified by hand with `aapt dump badging` / `dump xmltree`:
#   politedroid 3 -> 4: only versionCode/versionName; minSdk 3, no targetSdk (so 3).
#   politedroid 4 -> 5: <uses-sdk targetSdkVersion="10"> added; aapt's implied
#     WRITE_EXTERNAL_STORAGE and READ_PHONE_STATE (targetSdkVersion < 4) disappear, and with
#     them READ_EXTERNAL_STORAGE (implied by WRITE); allowBackup="true" made explicit
#     (the default, so no flag change). READ_CALENDAR and RECEIVE_BOOT_COMPLETED stay.
#   politedroid 5 -> 6: minSdk 3 -> 14, targetSdk 10 -> 21; the receiver gains a
#     PROVIDER_CHANGED filter (exported already); no permission change.
#   mirrormirror 1 -> 4: only versions and resources; CAMERA in all four.


def _engine_ready() -> bool:
    try:
        import permaudit.engine.evaluate  # noqa: F401
    except ImportError:
        return False
    return True


def _diff_corpus(corpus: Path, old: str, new: str) -> Diff:
    from permaudit.app import analyse, load_apps, load_rules

    paths = [str(corpus / "apk" / old), str(corpus / "apk" / new)]
    for path in paths:
        if not Path(path).is_file():
            pytest.skip(f"{path} not in the corpus")
    scanned = analyse(load_apps(paths, recursive=False), load_rules(()), None)
    return diff(*scanned.reports, ruleset=scanned.ruleset)


needs_engine = pytest.mark.skipif(
    not _engine_ready(), reason="permaudit.engine.evaluate not built yet"
)


@needs_engine
def test_politedroid_4_to_5_loses_the_old_target_sdk_implications(corpus: Path) -> None:
    result = _diff_corpus(corpus, "com.politedroid_4.apk", "com.politedroid_5.apk")
    found = kinds(result)
    assert ("target_sdk_changed", "targetSdkVersion") in found
    target = change(result, "target_sdk_changed", "targetSdkVersion")
    assert (target.old, target.new) == (3, 10)
    assert ("implied_removed", "WRITE_EXTERNAL_STORAGE") in found
    assert ("implied_removed", "READ_PHONE_STATE") in found
    assert ("implied_removed", "READ_EXTERNAL_STORAGE") in found
    assert not {k for k, _ in found} & {"permission_added", "permission_removed"}
    assert not any(k == "flag_changed" for k, _ in found)


@needs_engine
def test_politedroid_3_to_4_changes_nothing_but_the_version(corpus: Path) -> None:
    result = _diff_corpus(corpus, "com.politedroid_3.apk", "com.politedroid_4.apk")
    assert result.changes == ()
    # The label is aapt's application-label ('Polite Droid'), resolved through resources.arsc.
    assert (result.old.label, result.new.label) == (
        "Polite Droid (com.politedroid) 1.2",
        "Polite Droid (com.politedroid) 1.3",
    )


@needs_engine
def test_politedroid_5_to_6_raises_the_sdk_levels_only(corpus: Path) -> None:
    result = _diff_corpus(corpus, "com.politedroid_5.apk", "com.politedroid_6.apk")
    levels = {(c.kind, c.old, c.new) for c in result.changes if c.kind.endswith("sdk_changed")}
    assert levels == {("target_sdk_changed", 10, 21), ("min_sdk_changed", 3, 14)}
    assert not any(c.kind.startswith("permission_") for c in result.changes)


@needs_engine
def test_mirrormirror_1_to_4_keeps_the_camera(corpus: Path) -> None:
    result = _diff_corpus(
        corpus,
        "org.bitbucket.tickytacky.mirrormirror_1.apk",
        "org.bitbucket.tickytacky.mirrormirror_4.apk",
    )
    assert not any(c.kind.startswith(("permission_", "capability_")) for c in result.changes)
    assert [p.name for p in result.new_report.permissions if p.element != IMPLIED] == [P + "CAMERA"]


@pytest.mark.skipif(shutil.which("aapt") is None, reason="aapt not installed")
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("com.politedroid_4.apk", "com.politedroid_5.apk"),
        (
            "org.bitbucket.tickytacky.mirrormirror_1.apk",
            "org.bitbucket.tickytacky.mirrormirror_4.apk",
        ),
    ],
)
@needs_engine
def test_requested_permission_changes_agree_with_aapt(corpus: Path, old: str, new: str) -> None:
    def aapt_permissions(name: str) -> set[str]:
        out = subprocess.run(
            ["aapt", "dump", "permissions", str(corpus / "apk" / name)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return {
            line.split("'")[1] for line in out.splitlines() if line.startswith("uses-permission")
        }

    result = _diff_corpus(corpus, old, new)
    before, after = aapt_permissions(old), aapt_permissions(new)
    added = {c.subject for c in result.changes if c.kind == "permission_added"}
    removed = {c.subject for c in result.changes if c.kind == "permission_removed"}
    assert (added, removed) == (after - before, before - after)


# --- the command line ---------------------------------------------------------------------


def _fixture(name: str) -> str:
    path = FIXTURES / "apk" / name
    if not path.is_file():
        pytest.skip(f"fixture {name} not built")
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from permaudit.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@needs_engine
def test_cli_diff_json_of_two_max_builds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(
        capsys, "diff", "-f", "json", _fixture("max-25.8.1.apk"), _fixture("max-26.19.2.apk")
    )
    assert (code, err) == (0, "")
    document = json.loads(out)
    changes = {(c["kind"], c["subject"]) for c in document["changes"]}
    # From fixtures/profiles: 26.19.2 adds NFC and drops REQUEST_INSTALL_PACKAGES.
    assert ("permission_added", P + "NFC") in changes
    assert ("permission_removed", P + "REQUEST_INSTALL_PACKAGES") in changes
    assert ("capability_lost", "install_packages") in changes
    assert ("target_sdk_changed", "targetSdkVersion") in changes


@needs_engine
def test_cli_diff_of_two_packages_warns_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _fixture("whatsapp-2.24.24.78.apk"), _fixture("telegram-11.13.0.apk")
    code, out, err = _run(capsys, "diff", old, new)
    assert code == 0
    assert err == (
        f"permaudit: warning: {old} is com.whatsapp but {new} is org.telegram.messenger; "
        "diffing two different apps\n"
    )
    assert out.startswith("permaudit diff: WhatsApp Messenger (com.whatsapp)")


@needs_engine
def test_cli_diff_unreadable_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    output = tmp_path / "diff.json"
    missing = tmp_path / "missing.apk"
    code, out, err = _run(
        capsys, "diff", "-o", str(output), _fixture("max-25.8.1.apk"), str(missing)
    )
    assert (code, out) == (2, "")
    assert err.startswith(f"permaudit: error: {missing}: ")
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_cli_diff_needs_two_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "diff", "only-one.apk")
    assert (code, out) == (2, "")
    assert "Missing argument 'NEW'" in err


@needs_engine
def test_cli_diff_compares_code_and_no_code_says_it_did_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    old, new = _fixture("max-25.8.1.apk"), _fixture("max-26.19.2.apk")
    code, out, err = _run(capsys, "diff", "-f", "json", old, new)
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert (document["code_compared"], document["code_note"]) == (True, None)
    # One DEX in both builds; 26.19.2 drops GET_ACCOUNTS while its code still lists accounts.
    assert ("unrequested_code_use", "accounts") in {
        (c["kind"], c["subject"]) for c in document["changes"]}
    code, out, err = _run(capsys, "diff", "-f", "json", "--no-code", old, new)
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert document["code_compared"] is False
    assert document["code_note"] == "Code not compared: the diff was run with --no-code."
    assert not [c for c in document["changes"] if c["kind"] in CODE_KINDS]
