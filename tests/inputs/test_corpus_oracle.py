"""The reader against the real corpus: aapt's view where it has one, Android's verdict where not.

Every file in corpus ``apk/`` and ``axml/``, and every ``malformed/`` file whose oracle
says ``aapt dump permissions`` succeeded, is a test case. The set of
``(element, name, maxSdkVersion)`` we read must equal aapt's exactly, and package,
versionCode, minSdk and targetSdk must equal ``aapt dump badging`` where badging worked.
Files where we legitimately differ are listed in ``EXPECTED_DIFFERENCES`` with the reason
and which side matches Android; ``EXPECTED_ERRORS`` lists the inputs aapt could not read
either, with the error we give and why. No file is skipped silently.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from permaudit.errors import InputError, ManifestError, PermauditError
from permaudit.inputs.binary.axml import parse_axml
from permaudit.inputs.loader import load
from permaudit.inputs.manifest import CUR_DEVELOPMENT, parse_manifest
from permaudit.model import USES_PERMISSION, USES_PERMISSION_SDK_23
from tests.conftest import corpus_dir, corpus_files

#: Files where our result differs from aapt's, why, and which side is Android's.
EXPECTED_DIFFERENCES: dict[str, tuple[type[PermauditError], str, str]] = {
    "apkinspector-AndroidManifest_CDATA.xml": (
        ManifestError,
        "runs past the end",
        # The outer header says 2084 bytes but the document's END_ELEMENT of <manifest>
        # sits at 2064..2088. ResXMLParser::nextNode returns BAD_DOCUMENT for it and
        # XmlBlock.nativeNext throws "Corrupt XML binary file" while the package parser is
        # still inside <manifest>: Android refuses the file. aapt's dump loop treats
        # BAD_DOCUMENT as the end and lists the permissions. Ours matches Android.
        "Android rejects; aapt ignores BAD_DOCUMENT",
    ),
    "apksig-v1-only-max-sized-eocd-comment.apk": (
        InputError,
        "comment is 65535 bytes long",
        # AOSP main's FindCentralDirectoryInfo takes comment_length == UINT16_MAX as a
        # zip64 marker and, finding no zip64 locator before the end record, returns
        # kInvalidFile. Debian's aapt carries an Android 10 libziparchive (no zip64).
        "Android (AOSP main) rejects; Debian's older aapt reads it",
    ),
}

#: Inputs aapt could not dump either: the error class and message we give, and why.
EXPECTED_ERRORS: dict[str, tuple[type[PermauditError], str]] = {
    "androguard-CertChain.apk": (InputError, "no AndroidManifest.xml in the archive"),
    "androguard-multidex.apk": (InputError, "no AndroidManifest.xml in the archive"),
    # CD entries with odd extra fields: libziparchive "missed a central dir sig" (as aapt).
    "apkinspector-minimal_SIZE_ExtraField.apk": (InputError, "central directory signature"),
    "apksig-empty-unsigned.apk": (InputError, "empty zip archive"),
    # AXML header sizes disagree with the entry: no valid document (aapt: bad string block).
    "apksig-incorrect-manifest-size.apk": (ManifestError, "binary XML"),
    "apksig-invalid_manifest.apk": (InputError, "not a zip file"),
    # cd_offset + cd_size passes the EOCD: kInvalidOffset (aapt: "bad offsets").
    "apksig-v1v2v3-with-rsa-2048-lineage-3-signers-invalid-zip.apk": (InputError, "bad offsets"),
    "apksig-v2-only-truncated-cd.apk": (InputError, "bad offsets"),
    "derived-empty-0-bytes.apk": (InputError, "empty file"),
    "derived-no-manifest-editor.apk": (InputError, "no AndroidManifest.xml in the archive"),
    "derived-not-a-zip.apk": (InputError, "not an APK (zip) or binary AndroidManifest.xml"),
    # The EOCD's offsets are off by the 1 KiB prefix: "missed a central dir sig" (as aapt).
    "derived-prepended-garbage-editor.apk": (InputError, "central directory signature"),
    "derived-text-manifest-editor.apk": (ManifestError, "text XML, not binary XML"),
    "derived-truncated-eocd-editor.apk": (InputError, "no end-of-central-directory record"),
    "derived-truncated-half-editor.apk": (InputError, "no end-of-central-directory record"),
    "derived-zero-filled-manifest-editor.apk": (ManifestError, "cannot be inflated"),
    # Janus polyglot: libziparchive requires a local header at offset 0 (as aapt).
    "janus.apk": (InputError, "does not start with a local file header"),
    # Outer size field 0x42424242 > file size: "Bad XML block" (aapt: corrupt).
    "androguard-AndroidManifestWrongFilesize.xml": (ManifestError, "larger than the data size"),
    # A UTF-16 string without terminator: stringAt() is NULL for the activity's name, so
    # ParsedComponentUtils fails "does not specify android:name" (aapt xmltree fails too).
    "androguard-AndroidManifest_StringNotTerminated.xml": (ManifestError, "android:name"),
}

#: Inputs without an aapt view in the oracle, with what Android's rules give.
NO_AAPT_ORACLE = {
    # Outer chunk type 0x0000 instead of RES_XML_TYPE: the oracle recorder took it for a
    # text manifest, but ResXMLTree::setTo never checks that type, so Android reads it.
    "androguard-AndroidManifest_WrongChunkStart.xml": "com.zxfxxx160.sucruri55633254",
}


def _oracle(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((corpus_dir() / "oracle" / f"{path.name}.json").read_text())


def _aapt_ok(path: Path) -> bool:
    aapt = _oracle(path).get("aapt") or {}
    return bool((aapt.get("permissions") or {}).get("ok"))


def _cases() -> list[Path]:
    readable = [
        p
        for p in corpus_files("malformed") + corpus_files("axml")
        if _aapt_ok(p) or p.name in NO_AAPT_ORACLE
    ]
    return corpus_files("apk") + readable


CASES = _cases()
ERROR_CASES = [
    p
    for p in corpus_files("malformed") + corpus_files("axml")
    if not _aapt_ok(p) and p.name not in NO_AAPT_ORACLE
]


def _aapt_set(parsed: dict) -> set[tuple[str, str, int | None]]:  # type: ignore[type-arg]
    rows = set()
    for key, element in (
        ("uses_permission", USES_PERMISSION),
        ("uses_permission_sdk_23", USES_PERMISSION_SDK_23),
    ):
        for item in parsed[key]:
            max_sdk = item["maxSdkVersion"]
            rows.add((element, item["name"], int(max_sdk) if max_sdk is not None else None))
    return rows


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_permissions_match_aapt(path: Path) -> None:
    if path.name in EXPECTED_DIFFERENCES:
        error, fragment, _why = EXPECTED_DIFFERENCES[path.name]
        with pytest.raises(error, match=re.escape(fragment)):
            load(str(path))
        return
    manifest = load(str(path)).manifest
    if path.name in NO_AAPT_ORACLE:
        assert manifest.package == NO_AAPT_ORACLE[path.name]
        assert "android.permission.INTERNET" in {u.name for u in manifest.uses_permissions}
        return
    aapt = _oracle(path)["aapt"]
    ours = {(u.element, u.name, u.max_sdk) for u in manifest.uses_permissions}
    assert ours == _aapt_set(aapt["permissions"]["parsed"])
    assert manifest.package == aapt["permissions"]["parsed"]["package"]


def _badging_ok(path: Path) -> bool:
    badging = (_oracle(path).get("aapt") or {}).get("badging") or {}
    return bool(badging.get("ok")) and path.name not in EXPECTED_DIFFERENCES


#: Files whose badging failed (resource-table quirks of Debian's old aapt, see each oracle's
#: notes) are covered by test_permissions_match_aapt only.
BADGING_CASES = [p for p in CASES if _badging_ok(p)]


@pytest.mark.parametrize("path", BADGING_CASES, ids=lambda p: p.name)
def test_badging_fields_match_aapt(path: Path) -> None:
    parsed = _oracle(path)["aapt"]["badging"]["parsed"]
    manifest = load(str(path)).manifest
    assert manifest.package == parsed["package"]
    # aapt prints only the low 32 bits (versionCode); versionCodeMajor is the high half.
    low = None if manifest.version_code is None else manifest.version_code & 0xFFFFFFFF
    assert low == (int(parsed["versionCode"]) if parsed["versionCode"] else None)
    for ours, theirs in (
        (manifest.min_sdk, parsed["sdkVersion"]),
        (manifest.target_sdk, parsed["targetSdkVersion"]),
    ):
        if theirs is None:
            # No <uses-sdk> value: aapt prints nothing, Android uses minSdk 1, target = min.
            assert ours == manifest.min_sdk
        elif theirs.isdigit():
            assert ours == int(theirs)
        else:  # a codename such as "VanillaIceCream"
            assert ours == CUR_DEVELOPMENT


@pytest.mark.parametrize("path", ERROR_CASES, ids=lambda p: p.name)
def test_unreadable_inputs_give_clear_errors(path: Path) -> None:
    error, fragment = EXPECTED_ERRORS[path.name]
    with pytest.raises(error, match=re.escape(fragment)) as info:
        load(str(path))
    assert str(info.value).startswith(f"{path}: ")


def test_explanations_name_real_corpus_files(corpus: Path) -> None:
    """A stale entry in the explanation tables (file renamed or removed) fails here."""
    names = {p.name for p in CASES} | {p.name for p in ERROR_CASES}
    listed = {*EXPECTED_DIFFERENCES, *EXPECTED_ERRORS, *NO_AAPT_ORACLE}
    assert listed - names == set()
    assert {p.name for p in ERROR_CASES} == set(EXPECTED_ERRORS)


def test_version_code_major_and_codename(corpus: Path) -> None:
    major = load(str(corpus / "apk" / "apksig-original-with-versionCodeMajor.apk")).manifest
    assert major.version_code == (1 << 32) | 25
    client = load(str(corpus / "apk" / "apktool-client.apk")).manifest
    assert (client.min_sdk, client.target_sdk) == (CUR_DEVELOPMENT, CUR_DEVELOPMENT)


def test_version_name_reference_is_resolved(corpus: Path) -> None:
    """aapt resolves versionName="@7F040001" via resources.arsc to "v1.0.0"; so do we
    (permaudit.inputs.resources), and nothing is left unresolved."""
    oracle = _oracle(corpus / "apk" / "apktool-issue1234.apk")
    assert oracle["aapt"]["badging"]["parsed"]["versionName"] == "v1.0.0"
    manifest = load(str(corpus / "apk" / "apktool-issue1234.apk")).manifest
    assert manifest.version_name == "v1.0.0"
    assert manifest.unresolved == ()


def test_debuggable_reference_is_resolved(corpus: Path) -> None:
    """@7F030000 = bool/debuggable is false; aapt prints no application-debuggable line."""
    oracle = _oracle(corpus / "apk" / "apksig-debuggable-resource.apk")
    assert "application-debuggable" not in oracle["aapt"]["badging"]["stdout"]
    manifest = load(str(corpus / "apk" / "apksig-debuggable-resource.apk")).manifest
    assert manifest.application.debuggable is False
    assert manifest.unresolved == ()


def test_debuggable_reference_keeps_default(corpus: Path) -> None:
    """android:debuggable="@bool/..." resolves to false (aapt); unresolved we keep the
    default false -- not androguard's truthy "@7F030000". Now resolved via resources.arsc."""
    resource = load(str(corpus / "apk" / "apksig-debuggable-resource.apk")).manifest
    literal = load(str(corpus / "apk" / "apksig-debuggable-boolean.apk")).manifest
    assert (resource.application.debuggable, literal.application.debuggable) == (False, True)
    # ... read from resources.arsc now, so nothing is reported unresolved.
    assert resource.unresolved == ()
    assert literal.unresolved == ()


def _seed_bytes() -> list[bytes]:
    picks = [
        corpus_dir() / "apk" / "com.politedroid_6.apk",
        corpus_dir() / "axml" / "androguard-AndroidManifest.xml",
    ]
    return [p.read_bytes() for p in picks if p.is_file()]


SEEDS = _seed_bytes()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_corpus_bytes_never_crash(
    data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if not SEEDS:
        pytest.skip("corpus not found")
    seed = bytearray(data.draw(st.sampled_from(SEEDS)))
    rng = random.Random(data.draw(st.integers(0, 2**32 - 1)))  # noqa: S311 -- test data
    for _ in range(data.draw(st.integers(1, 8))):
        seed[rng.randrange(len(seed))] = rng.randrange(256)
    cut = data.draw(st.integers(1, len(seed)))
    blob = bytes(seed[:cut])
    path = tmp_path_factory.mktemp("mut") / "x.apk"
    path.write_bytes(blob)
    try:
        app = load(str(path))
    except PermauditError:
        return
    assert app.manifest.package
    assert app.input.size == len(blob)


@settings(max_examples=200, deadline=None)
@given(blob=st.binary(max_size=4096))
def test_arbitrary_axml_bytes_never_crash(blob: bytes) -> None:
    with contextlib.suppress(ManifestError):
        parse_manifest(parse_axml(blob))
