"""Text manifests: safe parsing, aapt2-like typing, tools: markers, source-manifest caveats.

Every corpus text manifest is a case: the (name, maxSdkVersion) set of <uses-permission>
must equal the oracle's xml.etree walk, except where the manifest merger's tools: markers
change the result (listed with the reason), and the files we refuse are listed with the
error. The decoded text form of HMS Core must read exactly like its binary original.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from permaudit.errors import ManifestError
from permaudit.inputs import text_manifest
from permaudit.inputs.loader import load
from permaudit.inputs.text_manifest import MAX_DEPTH, PLACEHOLDER_PACKAGE, read_text_manifest
from tests.conftest import corpus_dir, corpus_files

HEAD = (
    '<manifest xmlns:android="http://schemas.android.com/apk/res/android" '
    'xmlns:tools="http://schemas.android.com/tools" package="org.example.text">\n'
)
SDK = '<uses-sdk android:minSdkVersion="24" android:targetSdkVersion="34"/>\n'

#: Where our set differs from the oracle's plain element walk, and why.
EXPECTED_DIFFERENCES = {
    # <uses-permission CHANGE_NETWORK_STATE tools:node="remove"/>: the merger drops it (and
    # the same permission from every library), so the built app does not request it.
    "Session-AndroidManifest.xml": {"removed": {("android.permission.CHANGE_NETWORK_STATE", None)}},
}
#: Files we refuse, with the error.
EXPECTED_ERRORS = {
    # <!DOCTYPE> with an external SYSTEM entity (XXE probe): never processed.
    "apktool-doctype-XXE-AndroidManifest.xml": "has a <!DOCTYPE manifest> declaration: refused",
    # protectionLevel="test" is not a protection level: aapt2 cannot compile it either.
    "qark-tapjacking-minsdk-AndroidManifest.xml": "android:protectionLevel='test' is not an",
}


def _oracle(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((corpus_dir() / "oracle" / f"{path.name}.json").read_text())["xml"]


def _rows(items: list[dict]) -> set[tuple[str, int | None]]:  # type: ignore[type-arg]
    return {(i["name"], int(i["maxSdkVersion"]) if i["maxSdkVersion"] else None) for i in items}


@pytest.mark.parametrize("path", corpus_files("manifests", "*.xml"), ids=lambda p: p.name)
def test_corpus_manifests_match_the_oracle(path: Path) -> None:
    if path.name in EXPECTED_ERRORS:
        with pytest.raises(ManifestError, match=re.escape(EXPECTED_ERRORS[path.name])) as info:
            load(str(path))
        assert str(info.value).startswith(f"{path}: ")
        return
    oracle = _oracle(path)
    app = load(str(path))
    manifest = app.manifest
    assert app.input.kind == "xml"
    plain = {
        (u.name, u.max_sdk) for u in manifest.uses_permissions if u.element == "uses-permission"
    }
    sdk23 = {
        (u.name, u.max_sdk) for u in manifest.uses_permissions if u.element != "uses-permission"
    }
    removed = EXPECTED_DIFFERENCES.get(path.name, {}).get("removed", set())
    assert plain == _rows(oracle["uses_permission"]) - removed
    assert sdk23 == _rows(oracle["uses_permission_sdk_23"])
    assert manifest.package == (oracle["package"] or PLACEHOLDER_PACKAGE)
    if oracle["minSdkVersion"] is not None:
        assert manifest.min_sdk == int(oracle["minSdkVersion"])
    assert all(u.line is not None and u.line > 1 for u in manifest.uses_permissions)
    for placeholder in oracle["gradle_placeholders"]:
        assert any(placeholder in note for note in app.notes)
    if oracle["package"] is None:
        assert any("no package attribute" in note for note in app.notes)


def test_text_and_binary_forms_of_hms_core_read_the_same(corpus: Path) -> None:
    text = load(str(corpus / "manifests" / "HMSCore-AndroidManifest.xml")).manifest
    binary = load(str(corpus / "axml" / "appmanager-HMS_Core_AndroidManifest.bin.xml")).manifest

    def view(manifest):  # type: ignore[no-untyped-def]
        return (
            manifest.package,
            manifest.version_code,
            manifest.min_sdk,
            manifest.target_sdk,
            {(u.element, u.name, u.max_sdk) for u in manifest.uses_permissions},
            {(p.name, p.protection, p.group) for p in manifest.permissions},
            {(c.kind, c.name, c.exported, c.permission) for c in manifest.components},
        )

    assert view(text) == view(binary)
    assert len(text.components) == 1598


def test_lines_are_kept_on_every_element() -> None:
    data = (
        HEAD
        + SDK
        + '<uses-permission android:name="android.permission.CAMERA"/>\n'
        + '<permission android:name="org.example.text.P" android:protectionLevel="signature"/>\n'
        + '<application>\n<service android:name=".S" android:exported="false"/>\n'
        + "</application>\n</manifest>\n"
    ).encode()
    manifest = read_text_manifest(data).manifest
    assert [(u.name, u.line) for u in manifest.uses_permissions] == [
        ("android.permission.CAMERA", 3)
    ]
    assert [(p.name, p.line) for p in manifest.permissions] == [("org.example.text.P", 4)]
    assert [(c.name, c.line) for c in manifest.components] == [("org.example.text.S", 6)]
    assert manifest.application.line == 5


def test_values_are_typed_like_aapt2() -> None:
    data = (
        HEAD + SDK + '<uses-permission android:name="android.permission.BLUETOOTH_SCAN" '
        'android:usesPermissionFlags="neverForLocation" android:maxSdkVersion="0x20"/>\n'
        + '<permission android:name="org.example.text.P" '
        'android:protectionLevel="signature|privileged"/>\n'
        + '<application android:debuggable="true" android:allowBackup="false">\n'
        + '<service android:name=".Rec" android:exported="false" '
        'android:foregroundServiceType="camera|microphone"/>\n' + "</application>\n</manifest>\n"
    ).encode()
    manifest = read_text_manifest(data).manifest
    (scan,) = manifest.uses_permissions
    assert (scan.never_for_location, scan.max_sdk) == (True, 32)
    assert manifest.permissions[0].protection == ("signature", "privileged")
    assert (manifest.application.debuggable, manifest.application.allow_backup) == (True, False)
    assert manifest.components[0].foreground_service_types == ("camera", "microphone")


def test_attribute_order_in_the_text_does_not_matter() -> None:
    forward = HEAD + SDK + '<uses-permission android:name="a.b.C" android:maxSdkVersion="28"/>'
    backward = HEAD + SDK + '<uses-permission android:maxSdkVersion="28" android:name="a.b.C"/>'
    read = [
        read_text_manifest((text + "</manifest>").encode()).manifest.uses_permissions
        for text in (forward, backward)
    ]
    assert [(u.name, u.max_sdk) for u in read[0]] == [(u.name, u.max_sdk) for u in read[1]]
    assert read[0][0].max_sdk == 28


def test_unprefixed_attributes_are_not_android_attributes() -> None:
    """aapt2 gives ``name=`` without the android: prefix no resource id: Android skips it."""
    data = (HEAD + SDK + '<uses-permission name="android.permission.CAMERA"/></manifest>').encode()
    manifest = read_text_manifest(data).manifest
    assert manifest.uses_permissions == ()
    assert [e.tag for e in manifest.ignored] == ["uses-permission"]


def test_tools_node_remove_and_tools_remove() -> None:
    data = (
        HEAD + SDK + '<uses-permission android:name="android.permission.READ_PHONE_STATE" '
        'tools:node="remove"/>\n'
        + '<uses-permission android:name="android.permission.WRITE_EXTERNAL_STORAGE" '
        'android:maxSdkVersion="28" tools:remove="android:maxSdkVersion"/>\n'
        + '<uses-permission android:name="android.permission.CAMERA" tools:node="replace"/>\n'
        + '<application><receiver android:name=".Boot" tools:node="removeAll">'
        '<intent-filter><action android:name="x.y.Z"/></intent-filter></receiver>'
        "</application>\n</manifest>\n"
    ).encode()
    result = read_text_manifest(data)
    rows = [(u.name, u.max_sdk) for u in result.manifest.uses_permissions]
    assert rows == [
        ("android.permission.CAMERA", None),
        ("android.permission.WRITE_EXTERNAL_STORAGE", None),
    ]
    assert result.manifest.components == ()
    (removed,) = [n for n in result.notes if n.startswith("Left out")]
    assert "READ_PHONE_STATE" in removed and ".Boot" in removed
    assert result.notes[0].startswith("Source manifest, not the merged one")


def test_source_manifest_without_package_gets_a_placeholder_and_notes() -> None:
    data = (
        b'<manifest xmlns:android="http://schemas.android.com/apk/res/android">\n'
        b'<uses-permission android:name="${applicationId}.permission.C2D_MESSAGE"/>\n'
        b'<application><activity android:name=".Main" android:exported="true"/>'
        b"</application></manifest>"
    )
    result = read_text_manifest(data)
    manifest = result.manifest
    assert manifest.package == PLACEHOLDER_PACKAGE
    assert [u.name for u in manifest.uses_permissions] == [
        "${applicationId}.permission.C2D_MESSAGE"
    ]
    assert [c.name for c in manifest.components] == [f"{PLACEHOLDER_PACKAGE}.Main"]
    assert (manifest.min_sdk, manifest.target_sdk) == (None, None)
    notes = " ".join(result.notes)
    for fragment in (
        "libraries were not merged",
        "no package attribute",
        "targetSdk and minSdk unknown: no permission implied by an old target SDK",
        "${applicationId}",
    ):
        assert fragment in notes


def test_merged_manifest_has_no_source_caveats() -> None:
    data = (HEAD + SDK + '<uses-permission android:name="a.b.C"/></manifest>').encode()
    assert read_text_manifest(data).notes == ()


def test_placeholders_in_strict_attributes_read_as_absent() -> None:
    data = (
        b'<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="a.b" '
        b'android:versionCode="${code}" android:sharedUserId="${uid}"/>'
    )
    result = read_text_manifest(data)
    assert (result.manifest.version_code, result.manifest.shared_user_id) == (None, None)
    assert any("android:versionCode='${code}'" in note for note in result.notes)


def test_source_aliases_find_later_targets_or_are_left_out() -> None:
    data = (
        HEAD
        + SDK
        + "<application>\n"
        + '<activity-alias android:name=".Alias" android:targetActivity=".Main" '
        'android:exported="true"/>\n'
        + '<activity-alias android:name=".Lib" android:targetActivity="org.lib.Other"/>\n'
        + '<activity android:name=".Main" android:exported="false" tools:ignore="X"/>\n'
        + "</application></manifest>"
    ).encode()
    result = read_text_manifest(data)
    assert [(c.kind, c.name) for c in result.manifest.components] == [
        ("activity", "org.example.text.Main"),
        ("activity-alias", "org.example.text.Alias"),
    ]
    assert any("org.lib.Other" in n and "left out" in n for n in result.notes)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            "<manifest>&b;</manifest>",
            "<!DOCTYPE m> declaration: refused",
        ),
        (
            '<!DOCTYPE manifest SYSTEM "file:///etc/passwd"><manifest/>',
            "<!DOCTYPE manifest> declaration: refused",
        ),
        ("<manifest>&xxe;</manifest>", "undefined entity"),
        ("<manifest><application></manifest>", "not well-formed"),
        ("<manifest/><manifest/>", "junk after document element"),
    ],
    ids=["billion-laughs", "external-dtd", "undeclared-entity", "mismatched", "two-roots"],
)
def test_unsafe_or_broken_text_is_refused(document: str, fragment: str) -> None:
    with pytest.raises(ManifestError, match=re.escape(fragment)):
        read_text_manifest(document.encode())


def test_nesting_is_bounded() -> None:
    deep = "<a>" * (MAX_DEPTH + 1) + "</a>" * (MAX_DEPTH + 1)
    with pytest.raises(ManifestError, match=f"deeper than {MAX_DEPTH}"):
        read_text_manifest(f"<manifest>{deep}</manifest>".encode())


def test_utf16_manifest_with_bom(tmp_path: Path) -> None:
    text = (
        '<?xml version="1.0" encoding="utf-16"?>\n' + HEAD + SDK
        + '<uses-permission android:name="android.permission.INTERNET"/></manifest>'
    )  # fmt: skip
    path = tmp_path / "AndroidManifest.xml"
    path.write_bytes(text.encode("utf-16"))
    app = load(str(path))
    assert app.input.kind == "xml"
    assert [u.name for u in app.manifest.uses_permissions] == ["android.permission.INTERNET"]


def test_references_in_a_source_manifest_are_reported_as_written() -> None:
    data = (
        HEAD
        + SDK
        + '<application android:allowBackup="@bool/backup">\n'
        + '<receiver android:name=".R" android:exported="@bool/exported"/>\n'
        + "</application>\n</manifest>\n"
    ).encode()
    manifest = read_text_manifest(data).manifest
    found = [(u.tag, u.component, u.attribute, u.reference, u.line) for u in manifest.unresolved]
    assert found == [
        ("application", None, "allowBackup", "@bool/backup", 3),
        ("receiver", "org.example.text.R", "exported", "@bool/exported", 4),
    ]


_NS = b'xmlns:android="http://schemas.android.com/apk/res/android"'


@pytest.mark.parametrize("encoding", [b"utf-7", b"UTF-7", b"x-unknown", b"cp1252"])
def test_unsupported_encodings_are_refused(encoding: bytes) -> None:
    data = b'<?xml version="1.0" encoding="' + encoding + b'"?><manifest ' + _NS + b"/>"
    with pytest.raises(ManifestError, match="unsupported"):
        text_manifest.parse_text(data)


@pytest.mark.parametrize(
    "value", [b"9" * 4400, b"4294967296", b"-2147483649", b"12abc", b"0x1FFFFFFFF"]
)
@pytest.mark.parametrize("name", [b"versionCode", b"versionCodeMajor"])
def test_version_codes_must_be_32_bit_integers(name: bytes, value: bytes) -> None:
    data = b"<manifest " + _NS + b" android:" + name + b'="' + value + b'"/>'
    with pytest.raises(ManifestError, match="not a 32-bit integer"):
        text_manifest.parse_text(data)


def test_32_bit_version_codes_are_read() -> None:
    codes = b' android:versionCode="4294967295" android:versionCodeMajor="-1"'
    data = b"<manifest " + _NS + codes + b"/>"
    root, _state = text_manifest.parse_text(data)
    assert {a.name: a.value.data for a in root.attributes} == {
        "versionCode": 0xFFFFFFFF, "versionCodeMajor": 0xFFFFFFFF,
    }  # fmt: skip


def test_attributes_are_counted_and_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text_manifest, "MAX_ATTRIBUTES", 1000)
    attrs = b" ".join(b'a%d="x"' % i for i in range(1001))
    with pytest.raises(ManifestError, match="more than 1000 attributes"):
        text_manifest.parse_text(b"<manifest " + attrs + b"/>")
    text_manifest.parse_text(b"<manifest " + attrs[: attrs.index(b" a1000")] + b"/>")
