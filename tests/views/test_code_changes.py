"""Tests of ``permaudit.views.code_changes``: what a release changes in its code, and when the
code is not compared (a side read with --no-code, or its DEX unreadable)."""

from __future__ import annotations

from permaudit._infra.records import replace
from permaudit.model import Report, Severity
from permaudit.model.code import (
    ApiEvidence,
    CodeEvidence,
    CodeScan,
    HostHit,
    NativeLibrary,
    TrackerHit,
)
from permaudit.views.code import REFERENCE_CHARS, cut, size_text
from permaudit.views.code_changes import code_comparison
from permaudit.views.diff import Change, Diff, diff
from tests.views.test_compare import hit, perm, report

CHECKED = ("camera", "contacts", "location", "microphone")


def tracker(tid: str, name: str, *categories: str, strength: str = "defined") -> TrackerHit:
    return TrackerHit(
        tracker_id=tid, name=name, categories=categories, packages=(f"com.{tid}.sdk",),
        class_count=3, strength=strength, source="exodus", owner="Maker", country="US",
    )


def host(domain: str, owner: str | None, country: str | None) -> HostHit:
    return HostHit(domain=domain, hosts=(domain,), strings=1, owner=owner, country=country)


def with_code(
    base: Report,
    *,
    trackers: tuple[TrackerHit, ...] = (),
    hosts: tuple[HostHit, ...] = (),
    apis: tuple[ApiEvidence, ...] = (),
    libs: tuple[NativeLibrary, ...] = (),
    checked: tuple[str, ...] = CHECKED,
    notes: tuple[str, ...] = (),
) -> Report:
    evidence = CodeEvidence(
        trackers=trackers, hosts=hosts, apis=apis, checked_capabilities=checked, notes=notes
    )
    app = replace(base.app, code=CodeScan(native_libraries=libs))
    return replace(base, app=app, code_evidence=evidence)


def code_kinds(result: Diff) -> dict[tuple[str, str], Change]:
    return {(c.kind, c.subject): c for c in result.changes if c.kind not in (
        "permission_added", "permission_removed", "capability_gained", "capability_lost")}


def test_trackers_added_and_removed_with_severity_by_category() -> None:
    base = report("com.example")
    old = with_code(base, trackers=(tracker("1", "Old Crash", "Crash reporting"),))
    new = with_code(base, trackers=(
        tracker("2", "AdNet", "Advertisement"), tracker("3", "Stats", "Analytics"),
        tracker("4", "GeoSDK", "Location"),
        tracker("5", "Named", "Analytics", strength="referenced"),
    ))
    changes = code_kinds(diff(old, new))
    assert {k: c.severity for k, c in changes.items()} == {
        ("tracker_added", "AdNet"): Severity.HIGH,
        ("tracker_added", "GeoSDK"): Severity.HIGH,
        ("tracker_added", "Stats"): Severity.MEDIUM,
        ("tracker_added", "Named"): Severity.LOW,
        ("tracker_removed", "Old Crash"): Severity.INFO,
    }
    assert changes[("tracker_added", "AdNet")].new == "Advertisement; by Maker, US; ships com.2.sdk"
    assert changes[("tracker_added", "Named")].new.endswith("only references com.5.sdk")


def test_server_owners_and_countries() -> None:
    base = report("com.example")
    old = with_code(base, hosts=(host("google.com", "Google", "US"), host("x.org", None, None)))
    new = with_code(base, hosts=(
        host("google.com", "Google", "US"), host("vk.com", "VK", "RU"),
        host("ok.ru", "VK", "RU"), host("y.org", None, None),
    ))
    changes = code_kinds(diff(old, new))
    # Unknown-owner domains come and go without a change: only known owners are compared.
    assert set(changes) == {("server_owner_added", "VK"), ("server_country_added", "Russia")}
    assert changes[("server_owner_added", "VK")].new == "Russia: vk.com, ok.ru"
    assert changes[("server_owner_added", "VK")].severity == Severity.LOW
    assert changes[("server_country_added", "Russia")].new == "servers of VK"
    assert changes[("server_country_added", "Russia")].severity == Severity.MEDIUM
    back = code_kinds(diff(new, old))
    assert set(back) == {("server_owner_removed", "VK"), ("server_country_removed", "Russia")}
    assert all(c.severity == Severity.INFO for c in back.values())


def test_capabilities_referenced_in_code() -> None:
    old = with_code(
        report("com.example", permissions=[perm("CAMERA", "camera")],
               capabilities=[hit("camera", "CAMERA")]),
        apis=(ApiEvidence(capability="contacts",
                          references=("android.provider.ContactsContract",)),),
    )
    new = with_code(
        report("com.example", permissions=[perm("CAMERA", "camera")],
               capabilities=[hit("camera", "CAMERA")]),
        apis=(
            ApiEvidence(capability="camera", references=("android.hardware.Camera.open",)),
            ApiEvidence(capability="microphone", references=(
                "android.media.AudioRecord", "android.media.AudioRecord.startRecording",
                "android.media.MediaRecorder", "android.media.MediaRecorder.setAudioSource",
            )),
        ),
    )
    changes = code_kinds(diff(old, new))
    assert set(changes) == {
        ("code_reference_added", "camera"), ("unrequested_code_use", "microphone"),
        ("code_reference_removed", "contacts"),
    }
    assert changes[("code_reference_added", "camera")].severity == Severity.LOW
    unrequested = changes[("unrequested_code_use", "microphone")]
    assert unrequested.severity == Severity.MEDIUM
    assert unrequested.new == (
        "AudioRecord, AudioRecord.startRecording, MediaRecorder and 1 more"
    )
    assert changes[("code_reference_removed", "contacts")].old == "ContactsContract"


def test_stopping_to_ask_while_the_code_still_calls_is_unrequested_appearing() -> None:
    api = (ApiEvidence(capability="camera", references=("android.hardware.Camera.open",)),)
    old = with_code(report("com.example", permissions=[perm("CAMERA", "camera")],
                           capabilities=[hit("camera", "CAMERA")]), apis=api)
    new = with_code(report("com.example"), apis=api)
    changes = code_kinds(diff(old, new))
    assert changes[("unrequested_code_use", "camera")].old == (
        "requested and referenced: Camera.open")


def test_native_libraries_by_file_name() -> None:
    base = report("com.example")
    old = with_code(base, libs=(NativeLibrary(path="lib/arm64-v8a/libold.so", abi="arm64-v8a",
                                              size=10),))
    new = with_code(base, libs=(
        NativeLibrary(path="lib/arm64-v8a/libnew.so", abi="arm64-v8a", size=2048),
        NativeLibrary(path="lib/x86/libnew.so", abi="x86", size=4096),
    ))
    changes = code_kinds(diff(old, new))
    assert changes[("native_library_added", "libnew.so")].new == "arm64-v8a, x86; 4.0 KiB"
    assert changes[("native_library_added", "libnew.so")].severity == Severity.LOW
    assert changes[("native_library_removed", "libold.so")].old == "arm64-v8a; 10 B"


def test_one_side_without_code_is_not_reported_as_everything_removed() -> None:
    base = report("com.example")
    full = with_code(base, trackers=(tracker("1", "Stats", "Analytics"),),
                     hosts=(host("vk.com", "VK", "RU"),))
    result = diff(full, base)  # the new build read with --no-code (or a manifest)
    assert result.code_compared is False
    assert result.changes == ()
    assert result.code_note is not None
    assert "the new build's code was not read" in result.code_note
    assert "old build" not in result.code_note


def test_unreadable_dex_is_not_compared_and_says_why() -> None:
    base = report("com.example")
    full = with_code(base, trackers=(tracker("1", "Stats", "Analytics"),))
    broken = with_code(base, checked=(), notes=(
        "no code evidence: no classes*.dex could be read (see the tamper evidence)",))
    result = diff(broken, full)
    assert not result.code_compared
    assert result.changes == ()
    assert result.code_note is not None
    assert "old build's code could not be read (no code evidence: no classes*.dex" in (
        result.code_note
    )


def test_no_code_flag_is_named() -> None:
    base = with_code(report("com.example"), trackers=(tracker("1", "Stats", "Analytics"),))
    result = diff(base, with_code(report("com.example")), code=False)
    assert (result.code_compared, result.changes) == (False, ())
    assert result.code_note == "Code not compared: the diff was run with --no-code."
    assert code_comparison(base, base).compared


def test_cut_and_sizes() -> None:
    long = "content://sms/" + "x" * 500
    assert len(cut(long)) == REFERENCE_CHARS
    assert cut(long).endswith("…")
    assert cut("short") == "short"
    assert [size_text(n) for n in (0, 1023, 1024, 3 * 1024 * 1024 // 2)] == [
        "0 B", "1023 B", "1.0 KiB", "1.5 MiB"]
