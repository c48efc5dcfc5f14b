"""Every corpus ``malformed/`` and ``axml/`` file has a written-down outcome and the reason.

The outcome is what the APK reader (``sources.apk.load``) gives: either the manifest Android
installs (its package), the tamper evidence ids found on the way and, for APKs, the
signature schemes present; or the error class with a message fragment, because Android
rejects the file too. A new corpus file fails ``test_every_corpus_file_is_described`` until
its outcome is added here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from permaudit.errors import InputError, ManifestError, PermauditError
from permaudit.inputs.apk import load
from tests.conftest import corpus_files

TINY = "android.appsecurity.cts.tinyapp"


@dataclass(frozen=True)
class Loads:
    """Android installs it: this package, with these tamper ids (and signature schemes)."""

    package: str
    why: str
    tamper: tuple[str, ...] = ()
    #: ``None`` for a standalone binary manifest (no signature to read).
    schemes: tuple[str, ...] | None = None
    #: A fragment of one of ``SigningInfo.problems``, when signing is ambiguous or broken.
    signing_problem: str | None = None


@dataclass(frozen=True)
class Fails:
    """Android rejects it as well: the error we give."""

    error: type[PermauditError]
    message: str
    why: str


EXPECTED: dict[str, Loads | Fails] = {
    # --- malformed/ --------------------------------------------------------------------
    "androguard-CertChain.apk": Fails(
        InputError, "no AndroidManifest.xml in the archive",
        "a signed JAR with a certificate chain but no manifest: the package parser has "
        "nothing to read"),
    "androguard-multidex.apk": Fails(
        InputError, "no AndroidManifest.xml in the archive",
        "dex files only: no manifest, not an installable APK"),
    "apkinspector-eocd_at_offset_1026.apk": Loads(
        TINY, schemes=(),
        why="the end record carries a 1004-byte comment of zeros: legal, libziparchive "
            "searches the last 64 KiB backwards; no trick against Android. Only "
            "MANIFEST.MF is in META-INF: unsigned"),
    "apkinspector-minimal_SIZE_ExtraField.apk": Fails(
        InputError, "central directory signature",
        "the first directory record's extra-field length does not match its bytes, so the "
        "next record starts mid-field: ParseZipArchive 'missed a central dir sig' "
        "(kInvalidFile), aapt agrees"),
    "apkinspector-minimal_zero_sized_end_ns.apk": Loads(
        "com.erev0s.minimal", tamper=("axml.invalid_after_root",), schemes=("v2", "v3"),
        why="a zero-sized END_NAMESPACE follows the root element: the framework's parser "
            "stops at the root's END tag and never reads it; chunk-walking tools loop or fail"),
    "apksig-empty-unsigned.apk": Fails(
        InputError, "empty zip archive", "no entries: kEmptyArchive"),
    "apksig-incorrect-manifest-size.apk": Fails(
        ManifestError, "binary XML has no root element node",
        "the AXML header sizes disagree with the entry: ResXMLTree finds no valid node "
        "(aapt: bad string block)"),
    "apksig-invalid_manifest.apk": Fails(
        InputError, "too small for an end-of-central-directory record", "10 bytes: not a zip"),
    "apksig-mismatched-compression-method.apk": Loads(
        TINY, tamper=("zip.header_mismatch",), schemes=("v1",),
        why="CERT.RSA's local header says stored, the central directory deflate: "
            "libziparchive takes the method from the central directory (FindEntry only "
            "compares sizes/CRC), tools that trust the local header read garbage"),
    "apksig-v1-only-max-sized-eocd-comment.apk": Fails(
        InputError, "comment is 65535 bytes long",
        "a 65535-byte comment is the most the backward EOCD search covers, but AOSP's "
        "FindCentralDirectoryInfo also takes comment_length == UINT16_MAX as a zip64 marker "
        "and finds no zip64 locator: kInvalidFile (Android 10 and older, and apksig, read it)"),
    "apksig-v1-only-with-cr-in-entry-name.apk": Loads(
        TINY, tamper=("zip.control_character_name",), schemes=("v1",),
        why="'test.txt\\r' is valid UTF-8 without NUL, so libziparchive accepts it; JAR "
            "manifest parsing and extracting tools stumble over the CR"),
    "apksig-v1v2v3-with-rsa-2048-lineage-3-signers-invalid-zip.apk": Fails(
        InputError, "bad offsets",
        "central directory offset + size passes the end record: kInvalidOffset"),
    "apksig-v2-only-garbage-between-cd-and-eocd.apk": Loads(
        TINY, tamper=("zip.gap_before_eocd",), schemes=("v2",),
        signing_problem="Android does not find the APK Signing Block",
        why="libziparchive reads the archive (the directory only has to end before the end "
            "record), but ApkSigningBlockUtils requires the directory to be immediately "
            "followed by it: the v2 signature is never found, so Android sees no signature"),
    "apksig-v2-only-truncated-cd.apk": Fails(
        InputError, "bad offsets",
        "the directory runs into the end record: kInvalidOffset (aapt: bad offsets)"),
    "apksig-weird-compression-method.apk": Loads(
        TINY, tamper=("zip.unknown_compression",), schemes=(),
        signing_problem="META-INF/CERT.RSA cannot be read",
        why="CERT.RSA claims compression method 21: the manifest is ordinary deflate, but "
            "the v1 signature block cannot be extracted (stored bytes run into the "
            "directory), so neither Android's JAR verifier nor we see a v1 signer"),
    "apktool-GHSA-2hqv-2xv4-5h5w.apk": Loads(
        "com.ibotpeaches.ghsa_2hqv_2xv4_5h5w", schemes=("v2",),
        why="the path traversal sits in resources.arsc file paths (an attack on apktool's "
            "decoder), not in zip entry names; zip and manifest are ordinary"),
    "apktool-issue1498.apk": Loads(
        "com.playtestcloud.apkwithrelativepaths", tamper=("zip.path_traversal",),
        schemes=("v1",),
        why="an entry named '../assets/...': Android reads entries by name and never "
            "extracts them; unpacking tools would write outside their directory"),
    "apktool-issue1589.apk": Loads(
        "com.ibotpeaches.issue1244", tamper=("zip.path_traversal",), schemes=("v1",),
        why="entries such as 'META-INF/../../../../CERT.RSA': harmless to Android, a "
            "directory-escape against extracting tools"),
    "apktool-issue3533.apk": Loads(
        "com.example.strippy", schemes=("v1", "v2", "v3"),
        why="the android namespace is stripped from res/ XML; the manifest still declares "
            "it and its attributes carry resource ids, so nothing there misleads"),
    "derived-empty-0-bytes.apk": Fails(InputError, "empty file", "zero bytes"),
    "derived-no-manifest-editor.apk": Fails(
        InputError, "no AndroidManifest.xml in the archive",
        "valid zip without the manifest entry: nothing to install"),
    "derived-not-a-zip.apk": Fails(
        InputError, "not an APK (zip) or binary AndroidManifest.xml", "neither zip nor AXML"),
    "derived-prepended-garbage-editor.apk": Fails(
        InputError, "central directory signature",
        "1 KiB prepended: the end record's offsets now point 1 KiB early, 'missed a "
        "central dir sig' as in aapt"),
    "derived-text-manifest-editor.apk": Fails(
        ManifestError, "text XML, not binary XML",
        "the package parser reads only compiled (binary) XML"),
    "derived-truncated-eocd-editor.apk": Fails(
        InputError, "no end-of-central-directory record", "the end record is cut off"),
    "derived-truncated-half-editor.apk": Fails(
        InputError, "no end-of-central-directory record", "no directory at all"),
    "derived-zero-filled-manifest-editor.apk": Fails(
        ManifestError, "cannot be inflated",
        "the deflate stream is zeros: zip_archive::Inflate fails (kZlibError)"),
    "jadx-app-with-fake-dex.apk": Loads(
        "com.github.skylot.simple", schemes=("v1",),
        why="the fake dex is assets/classes.dex, an anti-decompiler trick for jadx; zip "
            "and manifest are ordinary"),
    "janus.apk": Fails(
        InputError, "does not start with a local file header",
        "a DEX/zip polyglot (CVE-2017-13156): libziparchive requires a local header at "
        "offset 0 since the Janus fix"),
    # --- axml/ -------------------------------------------------------------------------
    "androguard-AndroidManifest-Chinese.xml": Loads(
        "com.hotel", why="non-ASCII strings in a UTF-16 pool: ordinary"),
    "androguard-AndroidManifest-xmlns.xml": Loads(
        "com.real.RealPlayer", why="extra xmlns declarations: prefixes are cosmetic, "
        "Android reads attributes by resource id"),
    "androguard-AndroidManifest.xml": Loads("org.t0t0.androguard.TC", why="ordinary"),
    "androguard-AndroidManifestDoubleNamespace.xml": Loads(
        "com.tencent.weread", why="the android URI bound to two prefixes ('andorid' "
        "too): legal XML, Android ignores prefixes"),
    "androguard-AndroidManifestExtraNamespace.xml": Loads(
        "com.shopgate.android.app13182", why="the android URI declared 24 times: "
        "redundant but legal, prefixes play no part in Android's lookup"),
    "androguard-AndroidManifestLiapp.xml": Loads(
        "kc.dotoritv.android.air", tamper=("axml.attribute_name",),
        why="the Liapp packer renames attribute strings ('Njh9S' for android:theme ...) "
            "while keeping the resource ids: Android reads by id, name-based tools see junk"),
    "androguard-AndroidManifestMaskingNamespace.xml": Loads(
        "com.primedia.apartmentguide", why="a namespace re-declared on inner elements: "
        "legal, resolved by resource id"),
    "androguard-AndroidManifestNonZeroStyle.xml": Loads(
        "co.download.video", why="a string pool with styles: legal"),
    "androguard-AndroidManifestNullbytes.xml": Loads(
        "com.ditc.automobilityxxxxxxxxxxxx", why="strings padded with NUL characters; the "
        "package is read up to what Android reads"),
    "androguard-AndroidManifestTextChunksXML.xml": Loads(
        "com.tslstudio.tsladsudoku", why="CDATA text nodes: Android skips them"),
    "androguard-AndroidManifestUTF8Strings.xml": Loads(
        "com.easylocker.bbottles.zt", why="a UTF-8 string pool: ordinary"),
    "androguard-AndroidManifestWithComment.xml": Loads(
        "com.zxfxxx660.sucruri", why="comment indices on nodes: ignored by Android"),
    "androguard-AndroidManifestWrongFilesize.xml": Fails(
        ManifestError, "larger than the data size",
        "the outer size 0x42424242 exceeds the file: ResXMLTree::setTo 'Bad XML block'"),
    "androguard-AndroidManifest_InvalidCharsInAttribute.xml": Loads(
        "com.chaozhuo.gameassistant", tamper=("axml.attribute_order",),
        why="an <activity> lists android:label after higher ids: Android's merge walk "
            "(attributes sorted by id) misses it, tools that scan all attributes do not"),
    "androguard-AndroidManifest_NamespaceInAttributeName.xml": Loads(
        "jyiaivi.ohduxbbylb", tamper=("axml.namespace_undeclared", "axml.attribute_name"),
        why="attribute names are emptied and their namespace is '' (never declared): "
            "Android reads them by resource id, name/prefix-based tools see nothing"),
    "androguard-AndroidManifest_NamespaceInAttributeName2.xml": Loads(
        "com.car2go", tamper=("axml.namespace_undeclared", "axml.attribute_name"),
        why="same trick as NamespaceInAttributeName"),
    "androguard-AndroidManifest_StringNotTerminated.xml": Fails(
        ManifestError, "android:name",
        "an unterminated UTF-16 string: stringAt() is NULL for an activity's name, so "
        "the component parser fails 'does not specify android:name' (aapt fails too)"),
    "androguard-AndroidManifest_WrongChunkStart.xml": Loads(
        "com.zxfxxx160.sucruri55633254", tamper=("axml.chunk_type",),
        why="outer chunk type 0x0000 instead of RES_XML_TYPE: ResXMLTree::setTo never "
            "checks the type, strict tools refuse the file"),
    "apkinspector-AndroidManifest_CDATA.xml": Fails(
        ManifestError, "runs past the end",
        "the root's END node crosses the declared document size: nextNode returns "
        "BAD_DOCUMENT inside <manifest> and the package parser fails (aapt ignores it)"),
    "appmanager-HMS_Core_AndroidManifest.bin.xml": Loads(
        "com.huawei.hwid", why="a large (600 KB) real manifest: ordinary"),
}

CASES = corpus_files("malformed") + corpus_files("axml")


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.name)
def test_outcome(path: Path) -> None:
    expected = EXPECTED.get(path.name)
    assert expected is not None, f"describe the outcome for the new corpus file {path.name}"
    assert expected.why
    if isinstance(expected, Fails):
        with pytest.raises(expected.error) as info:
            load(str(path))
        assert type(info.value) is expected.error
        assert expected.message in str(info.value)
        assert str(info.value).startswith(f"{path}: ")
        return
    app = load(str(path))
    assert app.manifest.package == expected.package
    assert tuple(e.id for e in app.tamper) == expected.tamper
    if expected.schemes is None:
        assert app.signing is None
        return
    assert app.signing is not None
    assert app.signing.schemes == expected.schemes
    if expected.signing_problem is None:
        assert app.signing.problems == ()
    else:
        assert any(expected.signing_problem in p for p in app.signing.problems)


def test_every_described_file_exists() -> None:
    if not CASES:
        pytest.skip("corpus not found")
    assert set(EXPECTED) == {p.name for p in CASES}


def test_axml_files_have_no_signature_and_apks_do(corpus: Path) -> None:
    described = [name for name, outcome in EXPECTED.items() if isinstance(outcome, Loads)]
    assert all((EXPECTED[n].schemes is None) == n.endswith(".xml")  # type: ignore[union-attr]
               for n in described)
