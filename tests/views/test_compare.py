"""Unit and property tests of ``permaudit.views.compare`` on reports built by hand."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from permaudit.errors import PermauditError
from permaudit.model import (
    IMPLIED,
    USES_PERMISSION,
    USES_PERMISSION_SDK_23,
    App,
    Application,
    CapabilityHit,
    Component,
    Finding,
    InputInfo,
    Manifest,
    PermissionAccess,
    Report,
    Risk,
    Severity,
)
from permaudit.views.compare import (
    CAPABILITY_ORDER,
    NOT_REACHED,
    OTHER_GROUP,
    Comparison,
    compare,
    permission_counts,
)

# --- builders shared with test_diff.py and test_compare_formats.py -----------------------

TITLES = {
    "microphone": "Microphone",
    "camera": "Camera",
    "contacts": "Contacts",
    "location": "Location",
    "background_location": "Location in the background",
    "files": "Files and media",
    "sms": "SMS",
    "call_log": "Call log",
    "nearby_devices": "Nearby devices (Bluetooth)",
    "overlay": "Draw over other apps",
    "boot": "Start at boot",
    "install_packages": "Install other apps",
}
P = "android.permission."


def perm(
    name: str,
    *caps: str,
    element: str = USES_PERMISSION,
    max_sdk: int | None = None,
    reason: str | None = None,
    applies: bool = True,
    cls: str = "runtime",
) -> PermissionAccess:
    """A permission row; a bare name gets the ``android.permission.`` prefix."""
    return PermissionAccess(
        name=name if "." in name else P + name,
        element=element,
        max_sdk=max_sdk,
        reason=reason,
        applies=applies,
        protection=("dangerous",) if cls == "runtime" else ("normal",),
        protection_class=cls,
        capabilities=caps,
    )


def hit(
    cap: str,
    *via: str,
    severity: Severity = Severity.HIGH,
    access: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> CapabilityHit:
    """A capability hit; bare via names get the ``android.permission.`` prefix."""
    return CapabilityHit(
        id=cap,
        title=TITLES.get(cap, cap),
        severity=severity,
        via=tuple(v if "." in v or ":" in v else P + v for v in via),
        access=tuple(access),
        notes=tuple(notes),
    )


def finding(rule: str, subject: str, severity: Severity = Severity.MEDIUM) -> Finding:
    """A finding with a fingerprint made of rule and subject."""
    return Finding(
        rule=rule,
        severity=severity,
        title=f"{rule} title",
        subject=subject,
        category="test",
        message=f"{rule} on {subject}",
        fingerprint=f"{rule}:{subject}",
    )


def report(
    package: str,
    *,
    version: str = "1.0",
    code: int = 1,
    permissions: Sequence[PermissionAccess] = (),
    capabilities: Sequence[CapabilityHit] = (),
    findings: Sequence[Finding] = (),
    score: int = 10,
    level: str = "low",
    min_sdk: int = 21,
    target_sdk: int = 34,
    application: Application | None = None,
    components: Sequence[Component] = (),
    shared_user_id: str | None = None,
    device_sdk: int = 35,
    path: str | None = None,
) -> Report:
    """A whole report built by hand, as the engine would make it."""
    manifest = Manifest(
        package=package,
        version_code=code,
        version_name=version,
        min_sdk=min_sdk,
        target_sdk=target_sdk,
        application=application or Application(),
        components=tuple(components),
        shared_user_id=shared_user_id,
    )
    info = InputInfo(path=path or f"{package}-{version}.apk", sha256="0" * 64, kind="apk", size=1)
    return Report(
        app=App(input=info, manifest=manifest),
        device_sdk=device_sdk,
        permissions=tuple(permissions),
        capabilities=tuple(capabilities),
        findings=tuple(findings),
        risk=Risk(score=score, level=level),
    )


def messenger_reports() -> tuple[Report, Report, Report]:
    """Three hand-made messengers with overlapping and exclusive capabilities."""
    max_ = report(
        "ru.oneme.app",
        version="25.8.1",
        code=6392,
        permissions=[
            perm("RECORD_AUDIO", "microphone"),
            perm("CAMERA", "camera"),
            perm("ACCESS_FINE_LOCATION", "location"),
            perm("ACCESS_COARSE_LOCATION", "location"),
            perm("ACCESS_BACKGROUND_LOCATION", "background_location"),
            perm("READ_CONTACTS", "contacts"),
            perm("SYSTEM_ALERT_WINDOW", "overlay", cls="special"),
            perm("REQUEST_INSTALL_PACKAGES", "install_packages", cls="special"),
            perm("VIBRATE", cls="install"),
        ],
        capabilities=[
            hit("microphone", "RECORD_AUDIO"),
            hit("camera", "CAMERA"),
            hit(
                "location",
                "ACCESS_FINE_LOCATION",
                "ACCESS_COARSE_LOCATION",
                access=("precise",),
            ),
            hit("background_location", "ACCESS_BACKGROUND_LOCATION", severity=Severity.CRITICAL),
            hit("contacts", "READ_CONTACTS", access=("read",)),
            hit("overlay", "SYSTEM_ALERT_WINDOW", severity=Severity.MEDIUM),
            hit("install_packages", "REQUEST_INSTALL_PACKAGES", severity=Severity.HIGH),
        ],
        score=80,
        level="high",
    )
    whatsapp = report(
        "com.whatsapp",
        version="2.24.24.78",
        code=242478,
        permissions=[
            perm("RECORD_AUDIO", "microphone"),
            perm("CAMERA", "camera"),
            perm("ACCESS_COARSE_LOCATION", "location"),
            perm("READ_CONTACTS", "contacts"),
            perm("WRITE_CONTACTS", "contacts"),
            perm("READ_SMS", "sms", element=USES_PERMISSION_SDK_23),
            perm("WRITE_EXTERNAL_STORAGE", "files", max_sdk=28, applies=False),
            perm("VIBRATE", cls="install"),
        ],
        capabilities=[
            hit("microphone", "RECORD_AUDIO"),
            hit("camera", "CAMERA"),
            hit("location", "ACCESS_COARSE_LOCATION", access=("approximate",)),
            hit("contacts", "READ_CONTACTS", "WRITE_CONTACTS", access=("read", "write")),
            hit(
                "sms",
                "READ_SMS",
                notes=("only through uses-permission-sdk-23",),
                severity=Severity.HIGH,
            ),
        ],
        score=55,
        level="medium",
    )
    telegram = report(
        "org.telegram.messenger",
        version="11.13.0",
        code=5500,
        permissions=[
            perm("RECORD_AUDIO", "microphone"),
            perm("CAMERA", "camera"),
            perm("ACCESS_FINE_LOCATION", "location"),
            perm(
                "READ_CALL_LOG", "call_log", element=IMPLIED, reason="READ_CONTACTS, targetSdk < 16"
            ),
            perm("BLUETOOTH", "nearby_devices", cls="install", max_sdk=30, applies=False),
            perm("com.google.android.c2dm.permission.RECEIVE", cls="unknown"),
        ],
        capabilities=[
            hit("microphone", "RECORD_AUDIO"),
            hit("camera", "CAMERA"),
            hit("location", "ACCESS_FINE_LOCATION", access=("precise",)),
            hit("call_log", "READ_CALL_LOG", notes=("implied by targetSdk 15",)),
        ],
        score=50,
        level="medium",
    )
    return max_, whatsapp, telegram


# --- compare ------------------------------------------------------------------------------


def row(comparison: Comparison, cap: str):  # type: ignore[no-untyped-def]
    return next(r for r in comparison.capability_rows if r.id == cap)


def prow(comparison: Comparison, name: str):  # type: ignore[no-untyped-def]
    return next(r for r in comparison.permission_rows if r.name == P + name or r.name == name)


def test_columns_are_apps_in_input_order() -> None:
    result = compare(messenger_reports())
    assert [a.label for a in result.apps] == [
        "ru.oneme.app",
        "com.whatsapp",
        "org.telegram.messenger",
    ]
    assert result.apps[0].version == "25.8.1 (6392)"
    assert result.device_sdk == 35


def test_capability_rows_first_the_headline_ones_then_the_rest() -> None:
    result = compare(messenger_reports())
    assert [r.id for r in result.capability_rows] == [
        "microphone",
        "camera",
        "contacts",
        "location",
        "background_location",
        "sms",
        "call_log",
        "overlay",
        "install_packages",
    ]


def test_capability_cells_say_how_far_and_through_what() -> None:
    result = compare(messenger_reports())
    location = row(result, "location")
    assert [c.level for c in location.cells] == ["precise", "approximate", "precise"]
    assert location.cells[1].via == (P + "ACCESS_COARSE_LOCATION",)
    contacts = row(result, "contacts")
    assert [c.level for c in contacts.cells] == ["read", "read + write", NOT_REACHED]
    assert not contacts.cells[2].reached
    sms = row(result, "sms")
    assert sms.cells[1].notes == ("only through uses-permission-sdk-23",)
    assert row(result, "background_location").severity is Severity.CRITICAL


def test_unknown_capabilities_follow_the_known_ones_sorted() -> None:
    a = report("a.a", capabilities=[hit("zeta", "X"), hit("alpha", "Y"), hit("camera", "CAMERA")])
    b = report("b.b")
    assert [r.id for r in compare([a, b]).capability_rows] == ["camera", "alpha", "zeta"]


def test_permission_matrix_grouped_by_capability_with_per_app_elements() -> None:
    result = compare(messenger_reports())
    names = [(r.group, r.name.removeprefix(P)) for r in result.permission_rows]
    assert names[:2] == [("microphone", "RECORD_AUDIO"), ("camera", "CAMERA")]
    # Permissions without a capability come last, by name.
    assert names[-2:] == [
        (OTHER_GROUP, "VIBRATE"),
        (OTHER_GROUP, "com.google.android.c2dm.permission.RECEIVE"),
    ]
    assert ("location", "ACCESS_COARSE_LOCATION") in names
    assert names.index(("location", "ACCESS_COARSE_LOCATION")) < names.index(
        ("location", "ACCESS_FINE_LOCATION")
    )
    sms = prow(result, "READ_SMS")
    assert [c.text for c in sms.cells] == [NOT_REACHED, "sdk-23", NOT_REACHED]
    storage = prow(result, "WRITE_EXTERNAL_STORAGE")
    assert storage.cells[1].text == "max API 28 (inactive)"
    assert prow(result, "READ_CALL_LOG").cells[2].text == "implied"
    assert prow(result, "SYSTEM_ALERT_WINDOW").protection_class == "special"


def test_exclusives_list_capabilities_and_requested_permissions_of_one_app_only() -> None:
    max_, whatsapp, telegram = messenger_reports()
    result = compare([max_, whatsapp, telegram])
    assert result.exclusives[0].capabilities == (
        "background_location",
        "overlay",
        "install_packages",
    )
    assert result.exclusives[0].permissions == tuple(
        P + n
        for n in (
            "ACCESS_BACKGROUND_LOCATION",
            "REQUEST_INSTALL_PACKAGES",
            "SYSTEM_ALERT_WINDOW",
        )
    )
    assert result.exclusives[1].capabilities == ("sms",)
    assert P + "WRITE_CONTACTS" in result.exclusives[1].permissions
    # call_log is Telegram's only through an implied permission: the capability is exclusive,
    # the implied permission is not "requested".
    assert result.exclusives[2].capabilities == ("call_log",)
    assert P + "READ_CALL_LOG" not in result.exclusives[2].permissions
    assert P + "BLUETOOTH" in result.exclusives[2].permissions


def test_counts_say_what_was_counted() -> None:
    _, whatsapp, telegram = messenger_reports()
    counts = permission_counts(whatsapp)
    assert (counts.uses_permission, counts.uses_permission_sdk_23, counts.implied) == (7, 1, 0)
    assert (counts.total, counts.applies) == (8, 7)
    counts = permission_counts(telegram)
    assert (counts.uses_permission, counts.implied, counts.requested) == (5, 1, 5)


def test_two_versions_of_one_package_are_labelled_by_version() -> None:
    old = report("com.example", version="1.0")
    new = report("com.example", version="2.0")
    other = report("org.other")
    result = compare([old, new, other])
    assert [a.label for a in result.apps] == ["com.example 1.0", "com.example 2.0", "org.other"]


def test_identical_inputs_get_distinct_labels() -> None:
    a = report("com.example")
    assert [x.label for x in compare([a, a]).apps] == ["com.example 1.0 #1", "com.example 1.0 #2"]


def test_fewer_than_two_reports_is_an_error() -> None:
    with pytest.raises(PermauditError, match="at least two apps, got 1"):
        compare([report("a.b")])


def test_mixed_device_levels_are_an_error() -> None:
    with pytest.raises(PermauditError, match="different device levels"):
        compare([report("a.b", device_sdk=33), report("c.d", device_sdk=34)])


# --- properties ---------------------------------------------------------------------------

CAPS = [*CAPABILITY_ORDER[:8], "custom_capability"]
PERMS = ["RECORD_AUDIO", "CAMERA", "READ_SMS", "VIBRATE", "com.example.permission.X"]


@st.composite
def reports(draw: st.DrawFn, package: str) -> Report:
    """A random but well-formed report for ``package``."""
    chosen_perms = draw(st.lists(st.sampled_from(PERMS), unique=True, max_size=5))
    permissions = [
        perm(
            name,
            *draw(st.lists(st.sampled_from(CAPS), unique=True, max_size=2)),
            element=draw(st.sampled_from([USES_PERMISSION, USES_PERMISSION_SDK_23, IMPLIED])),
            max_sdk=draw(st.sampled_from([None, 28, 32])),
        )
        for name in chosen_perms
    ]
    chosen_caps = draw(st.lists(st.sampled_from(CAPS), unique=True, max_size=6))
    capabilities = [
        hit(
            cap,
            *draw(st.lists(st.sampled_from(PERMS), unique=True, min_size=1, max_size=2)),
            severity=draw(st.sampled_from(list(Severity))),
            access=draw(st.lists(st.sampled_from(["read", "write", "precise"]), max_size=2)),
        )
        for cap in chosen_caps
    ]
    return report(package, permissions=permissions, capabilities=capabilities)


def _app_reports(count: int) -> st.SearchStrategy[list[Report]]:
    return st.tuples(*(reports(f"app.n{i}") for i in range(count))).map(list)


@settings(max_examples=60, deadline=None)
@given(_app_reports(3), st.permutations(range(3)))
def test_permuting_inputs_only_permutes_columns(apps: list[Report], order: list[int]) -> None:
    base = compare(apps)
    permuted = compare([apps[i] for i in order])
    assert permuted.apps == tuple(base.apps[i] for i in order)
    assert [r.id for r in permuted.capability_rows] == [r.id for r in base.capability_rows]
    for a, b in zip(base.capability_rows, permuted.capability_rows, strict=True):
        assert (a.title, a.severity) == (b.title, b.severity)
        assert b.cells == tuple(a.cells[i] for i in order)
    assert [r.name for r in permuted.permission_rows] == [r.name for r in base.permission_rows]
    for a, b in zip(base.permission_rows, permuted.permission_rows, strict=True):
        assert (a.group, a.protection_class, a.capabilities) == (
            b.group,
            b.protection_class,
            b.capabilities,
        )
        assert b.cells == tuple(a.cells[i] for i in order)
    assert permuted.exclusives == tuple(base.exclusives[i] for i in order)
    assert permuted.counts == tuple(base.counts[i] for i in order)


@settings(max_examples=60, deadline=None)
@given(reports("app.same"))
def test_an_app_compared_with_itself_has_no_exclusives(app: Report) -> None:
    result = compare([app, app])
    assert all(not x.capabilities and not x.permissions for x in result.exclusives)
    for cap_row in result.capability_rows:
        assert cap_row.cells[0] == cap_row.cells[1]


@settings(max_examples=40, deadline=None)
@given(_app_reports(2))
def test_every_capability_and_permission_of_every_app_has_a_row(apps: list[Report]) -> None:
    result = compare(apps)
    for index, app in enumerate(apps):
        for cap in app.capabilities:
            assert row(result, cap.id).cells[index].via == cap.via
        for access in app.permissions:
            assert prow(result, access.name).cells[index].requested


# --- the command line ---------------------------------------------------------------------

FIXTURE_APK = FIXTURES / "apk"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Call ``main`` and return (exit code, stdout, stderr)."""
    from permaudit.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def fixture(name: str) -> str:
    path = FIXTURE_APK / name
    if not path.is_file():
        pytest.skip(f"fixture {name} not built")
    return str(path)


needs_engine = pytest.mark.skipif(
    importlib.util.find_spec("permaudit.engine.evaluate") is None, reason="engine not built yet"
)


def test_cli_one_input_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "compare", fixture("max-25.8.1.apk"))
    assert code == 2
    assert out == ""
    assert err.startswith("permaudit: error: compare needs at least two apps, got one (")
    assert "Traceback" not in err


def test_cli_no_input_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "compare")
    assert (code, out) == (2, "")
    assert "Missing argument" in err


@needs_engine
def test_cli_unreadable_input_names_the_file_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.apk"
    not_a_zip = tmp_path / "garbage.apk"
    not_a_zip.write_bytes(b"this is not a zip file")
    output = tmp_path / "out" / "report.html"
    output.parent.mkdir()
    for bad in (missing, not_a_zip):
        code, out, err = run(
            capsys,
            "compare",
            "--format",
            "html",
            "--output",
            str(output),
            fixture("max-25.8.1.apk"),
            str(bad),
        )
        assert code == 2
        assert out == ""
        assert err.startswith(f"permaudit: error: {bad}: ")
        assert "Traceback" not in err
        assert list(output.parent.iterdir()) == []


@needs_engine
def test_cli_two_versions_of_one_package_are_labelled_by_version(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys,
        "compare",
        "--format",
        "json",
        fixture("max-25.8.1.apk"),
        fixture("max-26.19.2.apk"),
    )
    assert (code, err) == (0, "")
    document = json.loads(out)
    assert [a["column"]["label"] for a in document["apps"]] == [
        "MAX (ru.oneme.app) 25.8.1",
        "MAX (ru.oneme.app) 26.19.2",
    ]
    assert document["apps"][0]["input"]["path"].endswith("max-25.8.1.apk")


@needs_engine
def test_cli_output_file_holds_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "compare.md"
    code, out, err = run(
        capsys,
        "compare",
        "-f",
        "markdown",
        "-o",
        str(output),
        fixture("whatsapp-2.24.24.78.apk"),
        fixture("telegram-11.13.0.apk"),
    )
    assert (code, out, err) == (0, "", "")
    text = output.read_text(encoding="utf-8")
    assert text.startswith("## permaudit compare: 2 apps")
    assert "| WhatsApp Messenger (com.whatsapp)<br>2.24.24.78" in text


def test_capability_order_follows_the_default_ruleset() -> None:
    """CAPABILITY_ORDER mirrors rules/capabilities.yml: a new default capability must be
    placed there too (it would otherwise sort after every known one)."""
    from permaudit.rules.ruleset import load_ruleset

    ids = [c.id for c in load_ruleset(()).capabilities]
    assert set(ids) <= set(CAPABILITY_ORDER)
    assert [i for i in CAPABILITY_ORDER if i in ids] == ids
