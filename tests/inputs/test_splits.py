"""Split sets as one app: .apks/.xapk/.apkm archives, loose splits, and Android's split rules.

Corpus archives are compared with the oracle's view of their base member (aapt); the
package-manager rules (only the base's <uses-permission> count, split components are
merged, package/version/split names must agree, one base) are tested on synthetic split
APKs written with the project's AXML writer.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from fixtures.axml_writer import Element as X
from fixtures.axml_writer import encode
from fixtures.build import apk_bytes
from permaudit.errors import InputError, PermauditError
from permaudit.inputs import splits as bundle
from permaudit.inputs.loader import load
from permaudit.inputs.splits import Window
from permaudit.model import USES_PERMISSION, Certificate, Signer, SigningInfo
from tests.conftest import corpus_dir, corpus_files

PKG = "org.example.split"
SDK = X("uses-sdk", {"android:minSdkVersion": 24, "android:targetSdkVersion": 33})


def _oracle(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((corpus_dir() / "oracle" / f"{name}.json").read_text())


def _aapt_set(parsed: dict) -> set[tuple[str, str, int | None]]:  # type: ignore[type-arg]
    rows = set()
    for key, element in (
        ("uses_permission", "uses-permission"),
        ("uses_permission_sdk_23", "uses-permission-sdk-23"),
    ):
        for item in parsed[key]:
            max_sdk = item["maxSdkVersion"]
            rows.add((element, item["name"], int(max_sdk) if max_sdk is not None else None))
    return rows


def _activity(name: str, *, exported: bool = True) -> X:
    action = X("action", {"android:name": "android.intent.action.VIEW"})
    return X(
        "activity",
        {"android:name": name, "android:exported": exported},
        [X("intent-filter", {}, [action])],
    )


def _apk(
    split: str | None = None,
    *,
    package: str = PKG,
    version: int = 7,
    permissions: tuple[str, ...] = (),
    activities: tuple[str, ...] = (),
) -> bytes:
    attrs: dict[str, object] = {"android:versionCode": version, "package": package}
    if split is not None:
        attrs["split"] = split
    children: list[X] = [] if split else [SDK]
    children += [X("uses-permission", {"android:name": p}) for p in permissions]
    children.append(X("application", {}, [_activity(a) for a in activities]))
    return apk_bytes(encode(X("manifest", attrs, children)))  # type: ignore[arg-type]


def _zip(members: dict[str, bytes], *, method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# --- the corpus ------------------------------------------------------------------------


def test_appmanager_apks_is_one_app_with_27_splits(corpus: Path) -> None:
    app = load(str(corpus / "bundles" / "AppManager_v2.5.22.apks"))
    oracle = _oracle("AppManager_v2.5.22.apks")["members"]
    base = oracle["base.apk"]["aapt"]["permissions"]["parsed"]
    assert app.input.kind == "apks"
    assert app.manifest.package == base["package"] == "io.github.muntashirakon.AppManager"
    ours = {(u.element, u.name, u.max_sdk) for u in app.manifest.uses_permissions}
    assert ours == _aapt_set(base)
    assert {s.path for s in app.splits} == set(oracle)
    kinds = {s.name: s.kind for s in app.splits}
    assert kinds["base"] == "base"
    assert kinds["feat_docs"] == "feature"  # android:isFeatureSplit="true"
    assert kinds["config.arm64_v8a"] == kinds["config.xxxhdpi"] == "config"
    assert sum(1 for k in kinds.values() if k == "config") == 25
    # Config splits declare nothing (oracle: aapt lists only implied permissions for them).
    assert all(not s.uses_permissions for s in app.splits if s.kind != "base")
    assert app.notes[0].startswith("One app from 27 APKs of the .apks archive")


def test_derived_xapk_follows_its_manifest_json(corpus: Path) -> None:
    app = load(str(corpus / "bundles" / "derived-dynamicfeatures.ondemand.xapk"))
    oracle = _oracle("derived-dynamicfeatures.ondemand.xapk")["members"]
    base = oracle["com.google.android.samples.dynamicfeatures.ondemand.apk"]
    assert app.input.kind == "xapk"
    assert app.manifest.package == base["aapt"]["permissions"]["parsed"]["package"]
    assert {(u.element, u.name, u.max_sdk) for u in app.manifest.uses_permissions} == (
        _aapt_set(base["aapt"]["permissions"]["parsed"])
    )
    assert [(s.name, s.kind, s.path) for s in app.splits] == [
        ("base", "base", "com.google.android.samples.dynamicfeatures.ondemand.apk"),
        ("config.en", "config", "config.en.apk"),
        ("config.hdpi", "config", "config.hdpi.apk"),
    ]


@pytest.mark.parametrize("path", corpus_files("bundles", "*.apk"), ids=lambda p: p.name)
def test_loose_corpus_apks_read_alone_as_their_aapt_view(path: Path) -> None:
    """A lone split APK loads as the APK it is (its splits' rules need the base with it)."""
    app = load(str(path))
    parsed = _oracle(path.name)["aapt"]["permissions"]["parsed"]
    assert app.input.kind == "apk"
    assert app.manifest.package == parsed["package"]
    assert {(u.element, u.name, u.max_sdk) for u in app.manifest.uses_permissions} == (
        _aapt_set(parsed)
    )


# --- stored, deflated, spooled ---------------------------------------------------------


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_members_read_stored_through_a_window_or_inflated(
    tmp_path: Path, method: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "SPOOL_IN_MEMORY", 16)  # force the spill to a temp file
    members = {
        "base.apk": _apk(permissions=("android.permission.CAMERA",), activities=(".Main",)),
        "split_config.en.apk": _apk("config.en"),
    }
    app = load(_write(tmp_path, "app.apks", _zip(members, method=method)))
    assert [u.name for u in app.manifest.uses_permissions] == ["android.permission.CAMERA"]
    assert [c.name for c in app.manifest.components] == [f"{PKG}.Main"]
    assert [(s.name, s.kind) for s in app.splits] == [("base", "base"), ("config.en", "config")]


def test_window_reads_only_its_range() -> None:
    window = Window(io.BytesIO(b"0123456789"), 3, 4)
    assert window.read() == b"3456"
    assert window.read(1) == b""
    window.seek(-2, io.SEEK_END)
    assert (window.tell(), window.read(10)) == (2, b"56")
    window.seek(1)
    assert window.read(2) == b"45"


def test_bundletool_apks_uses_splits_directory(tmp_path: Path) -> None:
    members = {
        "toc.pb": b"",
        "splits/base-master.apk": _apk(permissions=("android.permission.INTERNET",)),
        "splits/base-xxhdpi.apk": _apk("config.xxhdpi"),
        "standalones/standalone-xxhdpi.apk": _apk(),  # for pre-L devices: another base
    }
    app = load(_write(tmp_path, "set.apks", _zip(members)))
    assert [s.path for s in app.splits] == ["splits/base-master.apk", "splits/base-xxhdpi.apk"]


def test_apkm_with_info_json(tmp_path: Path) -> None:
    members = {"info.json": b"{}", "base.apk": _apk(), "split_config.de.apk": _apk("config.de")}
    app = load(_write(tmp_path, "app.apkm", _zip(members)))
    assert app.input.kind == "apkm"
    assert [s.name for s in app.splits] == ["base", "config.de"]


# --- what Android does with splits --------------------------------------------------------


def test_split_permissions_are_ignored_and_reported(tmp_path: Path) -> None:
    members = {
        "base.apk": _apk(permissions=("android.permission.INTERNET",)),
        "feature.apk": _apk(
            "feature_chat",
            permissions=("android.permission.RECORD_AUDIO", "android.permission.INTERNET"),
            activities=("org.example.split.chat.ChatActivity",),
        ),
    }
    app = load(_write(tmp_path, "app.apks", _zip(members)))
    # ParsingPackageUtils.parseSplitApk reads only <application>: RECORD_AUDIO is not granted.
    assert [u.name for u in app.manifest.uses_permissions] == ["android.permission.INTERNET"]
    feature = next(s for s in app.splits if s.name == "feature_chat")
    assert feature.kind == "feature"
    assert [(u.element, u.name) for u in feature.uses_permissions] == [
        (USES_PERMISSION, "android.permission.INTERNET"),
        (USES_PERMISSION, "android.permission.RECORD_AUDIO"),
    ]
    assert feature.note is not None and "ignored by Android" in feature.note
    assert any("RECORD_AUDIO" in note and "not granted" in note for note in app.notes)
    assert any(
        e.tag == "uses-permission" and e.name == "android.permission.RECORD_AUDIO"
        for e in app.manifest.ignored
    )
    # parseSplitApplication adds the split's components to the one package.
    chat = next(c for c in app.manifest.components if c.name.endswith("ChatActivity"))
    assert chat.exported is True
    assert feature.components == 1


@pytest.mark.parametrize(
    ("members", "fragment"),
    [
        ({"a.apk": _apk("config.en"), "b.apk": _apk("config.de")}, "no base APK"),
        ({"a.apk": _apk(), "b.apk": _apk()}, "more than one base APK"),
        (
            {"a.apk": _apk(), "b.apk": _apk("config.en", package="org.other.app")},
            "inconsistent package org.other.app",
        ),
        ({"a.apk": _apk(), "b.apk": _apk("config.en", version=8)}, "inconsistent version 8"),
        (
            {"a.apk": _apk(), "b.apk": _apk("config.en"), "c.apk": _apk("config.en")},
            "split name config.en defined more than once",
        ),
        ({"a.apk": b"not a zip at all"}, "a.apk: not a"),
    ],
    ids=["no-base", "two-bases", "package", "version", "duplicate-split", "bad-member"],
)
def test_inconsistent_split_sets_are_refused(
    tmp_path: Path, members: dict[str, bytes], fragment: str
) -> None:
    path = _write(tmp_path, "bad.apks", _zip(members))
    with pytest.raises(InputError, match=re.escape(fragment)) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: ")


def test_encrypted_member_is_an_error(tmp_path: Path) -> None:
    data = bytearray(_zip({"base.apk": _apk(), "config.en.apk": _apk("config.en")}))
    # Set general-purpose flag bit 0 (encrypted) on config.en.apk in both headers.
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            name_at = 30 if signature == b"PK\x03\x04" else 46
            if data[start + name_at : start + name_at + 13] == b"config.en.apk":
                data[start + flag_at] |= 1
            start += 4
    path = _write(tmp_path, "enc.apks", bytes(data))
    with pytest.raises(InputError, match=re.escape("config.en.apk is encrypted")):
        load(path)


def test_encrypted_apkm_says_so(tmp_path: Path) -> None:
    # unapkm's header: version, pwhash algorithm 2, opslimit, memlimit, chunk size, salt...
    header = bytes([1, 2]) + (3).to_bytes(8, "little") + (1 << 26).to_bytes(8, "little")
    header += (1 << 20).to_bytes(8, "little") + bytes(range(40))
    for name in ("app.apkm", "renamed.bin"):
        path = _write(tmp_path, name, header + b"\x9c" * 200)
        with pytest.raises(InputError, match=re.escape("encrypted APKMirror .apkm")) as info:
            load(path)
        assert str(info.value).startswith(f"{path}: ")


def test_member_size_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle, "MAX_MEMBER_SIZE", 100)
    path = _write(tmp_path, "big.apks", _zip({"base.apk": _apk()}, method=zipfile.ZIP_DEFLATED))
    with pytest.raises(PermauditError, match=r"base\.apk declares \d+ bytes, beyond 100"):
        load(path)


def test_xapk_listing_a_missing_file(tmp_path: Path) -> None:
    manifest = json.dumps({"split_apks": [{"file": "base.apk"}, {"file": "gone.apk"}]})
    path = _write(
        tmp_path, "a.xapk", _zip({"manifest.json": manifest.encode(), "base.apk": _apk()})
    )
    with pytest.raises(InputError, match=re.escape("lists 'gone.apk', which is not in")):
        load(path)


# --- signer identity of a split set ----------------------------------------------------


def _signing(digest: str) -> SigningInfo:
    cert = Certificate(sha256=digest, subject="CN=x", issuer="CN=x",
                       not_before="2020-01-01", not_after="2050-01-01")
    return SigningInfo(schemes=("v2",), signers=(Signer(scheme="v2", certificates=(cert,)),))


def test_a_split_signed_by_another_key_is_a_signing_problem() -> None:
    from permaudit.inputs.binary.xmltree import Element
    from permaudit.inputs.splits import SplitApk, split_set_signing

    root = Element(tag="manifest", namespace=None, attributes=(), children=())
    base = SplitApk(path="base.apk", root=root, signing=_signing("aa" * 32))
    same = SplitApk(path="split_config.en.apk", root=root, signing=_signing("aa" * 32))
    other = SplitApk(path="split_config.hdpi.apk", root=root, signing=_signing("bb" * 32))
    assert split_set_signing(base, [same]) == base.signing
    mixed = split_set_signing(base, [same, other])
    assert mixed is not None
    assert mixed.signers == base.signing.signers  # type: ignore[union-attr]
    assert mixed.problems == (
        "split split_config.hdpi.apk is signed by other certificates than the base APK: "
        "Android refuses to install the set",
    )


@pytest.mark.skipif(not (corpus_dir() / "bundles").is_dir(), reason="corpus not found")
def test_bundle_members_carry_signer_identity() -> None:
    app = load(str(corpus_dir() / "bundles" / "AppManager_v2.5.22.apks"))
    assert app.signing is not None
    assert app.signing.schemes == ("v1", "v2", "v3")
    assert app.signing.problems == ()


@pytest.mark.parametrize(
    ("suffix", "name"),
    [(".apks", "splits/base-master.apk"), (".aab", "base/manifest/AndroidManifest.xml")],
)
def test_duplicate_entries_make_any_container_invalid(
    tmp_path: Path, suffix: str, name: str
) -> None:
    import warnings
    import zipfile

    from permaudit.errors import InputError
    from permaudit.inputs.loader import load

    path = tmp_path / f"dup{suffix}"
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w") as archive:
        warnings.simplefilter("ignore")
        archive.writestr(name, b"first")
        archive.writestr(name, b"second")
    with pytest.raises(InputError, match="duplicate zip entry"):
        load(str(path))
