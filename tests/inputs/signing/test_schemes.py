"""Signer identity: schemes, certificates, debug keys, and the ambiguous-signing tricks."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest
from asn1crypto import keys, x509

from permaudit.android.platform import platform_for
from permaudit.engine import evaluate
from permaudit.errors import InputError
from permaudit.inputs.apk import load
from permaudit.inputs.signing.schemes import (
    MAGIC,
    PROOF_OF_ROTATION_ID,
    V2_BLOCK_ID,
    V3_BLOCK_ID,
    V31_BLOCK_ID,
    read_signing,
)
from permaudit.model import App, InputInfo, Manifest
from permaudit.rules.ruleset import load_ruleset
from tests.conftest import corpus_dir, corpus_files
from tests.inputs.binary.test_ziparchive import Entry, make_zip

# --- building signing blocks ---------------------------------------------------------------


def certificate(common_name: str, serial: int = 1) -> bytes:
    """A DER X.509 certificate with a junk signature (nothing here verifies signatures)."""
    name = x509.Name.build({"common_name": common_name, "country_name": "US"})
    public_key = keys.PublicKeyInfo({
        "algorithm": {"algorithm": "rsa"},
        "public_key": keys.RSAPublicKey({"modulus": 0xC0FFEE1, "public_exponent": 65537}),
    })
    tbs = x509.TbsCertificate({
        "version": "v3",
        "serial_number": serial,
        "signature": {"algorithm": "sha256_rsa"},
        "issuer": name,
        "validity": {
            "not_before": x509.Time(name="utc_time", value=_utc(2020, 1, 2)),
            "not_after": x509.Time(name="general_time", value=_utc(2050, 1, 2)),
        },
        "subject": name,
        "subject_public_key_info": public_key,
    })
    cert = x509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": {"algorithm": "sha256_rsa"},
        "signature_value": b"\x01" * 16,
    })
    return bytes(cert.dump())


def _utc(year: int, month: int, day: int):  # type: ignore[no-untyped-def]
    from datetime import datetime, timezone

    return datetime(year, month, day, 3, 4, 5, tzinfo=timezone.utc)


def lp(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data


def lineage(*certs: bytes) -> bytes:
    """A proof-of-rotation additional attribute listing ``certs`` oldest first."""
    nodes = b"".join(
        lp(lp(lp(c) + struct.pack("<I", 0x103)) + struct.pack("<II", 0, 0x103) + lp(b"sig"))
        for c in certs
    )
    return lp(struct.pack("<II", PROOF_OF_ROTATION_ID, 1) + nodes)


def signer(certs: list[bytes], sdk: tuple[int, int] | None = None, attrs: bytes = b"") -> bytes:
    """One v2 signer (``sdk`` None) or v3 signer with its platform range."""
    encoded = lp(b"".join(lp(c) for c in certs))
    if sdk is None:
        signed = lp(b"") + encoded + lp(attrs)
        return lp(signed) + lp(b"") + lp(b"public key")
    signed = lp(b"") + encoded + struct.pack("<II", *sdk) + lp(attrs)
    return lp(signed) + struct.pack("<II", *sdk) + lp(b"") + lp(b"public key")


def scheme_block(*signers: bytes) -> bytes:
    return lp(b"".join(lp(s) for s in signers))


def signing_block(pairs: list[tuple[int, bytes]]) -> bytes:
    body = b"".join(struct.pack("<QI", len(value) + 4, block_id) + value
                    for block_id, value in pairs)
    size = len(body) + 8 + 16
    return struct.pack("<Q", size) + body + struct.pack("<Q", size) + MAGIC


def apk_with(block: bytes, *, gap: bytes = b"", entries: list[Entry] | None = None) -> bytes:
    """A small zip with ``block`` inserted before its central directory."""
    blob = make_zip(entries or [Entry("AndroidManifest.xml", b"not parsed here")])
    eocd = len(blob) - 22
    (cd_size, cd_offset) = struct.unpack_from("<II", blob, eocd + 12)
    cd = blob[cd_offset : cd_offset + cd_size]
    tail = bytearray(blob[eocd:])
    struct.pack_into("<I", tail, 16, cd_offset + len(block))
    return blob[:cd_offset] + block + cd + gap + bytes(tail)


def signing_of(blob: bytes):  # type: ignore[no-untyped-def]
    info, _evidence = read_signing(io.BytesIO(blob), len(blob))
    return info


OLD, NEW, EVIL = certificate("old"), certificate("new", 2), certificate("Android Debug", 3)

# --- synthetic cases -----------------------------------------------------------------------


def test_v2_signer_identity_fields() -> None:
    info = signing_of(apk_with(signing_block([(V2_BLOCK_ID, scheme_block(signer([OLD])))])))
    assert info.schemes == ("v2",)
    (only,) = info.signers
    cert = only.certificates[0]
    assert (cert.subject, cert.issuer) == ("CN=old, C=US", "CN=old, C=US")
    assert (cert.not_before, cert.not_after) == ("2020-01-02T03:04:05Z", "2050-01-02T03:04:05Z")
    assert cert.sha256 == __import__("hashlib").sha256(OLD).hexdigest()
    assert not cert.debug
    assert info.problems == ()


def test_debug_certificate_is_recognised_by_its_subject() -> None:
    info = signing_of(apk_with(signing_block([(V2_BLOCK_ID, scheme_block(signer([EVIL])))])))
    assert info.signers[0].certificates[0].debug


def test_unsigned_zip_has_no_schemes() -> None:
    info = signing_of(make_zip([Entry("AndroidManifest.xml", b"x")]))
    assert (info.schemes, info.signers, info.problems) == ((), (), ())


def test_duplicate_block_ids_android_takes_the_first() -> None:
    block = signing_block([
        (V2_BLOCK_ID, scheme_block(signer([OLD]))),
        (V2_BLOCK_ID, scheme_block(signer([NEW]))),
    ])
    info = signing_of(apk_with(block))
    assert [s.certificates[0].sha256 for s in info.signers] == [signing_of(apk_with(
        signing_block([(V2_BLOCK_ID, scheme_block(signer([OLD])))])
    )).signers[0].certificates[0].sha256]
    assert any("2 blocks with id 0x7109871a (v2)" in p for p in info.problems)
    assert any("v2 blocks name different signers" in p for p in info.problems)


def test_v3_signers_with_overlapping_ranges() -> None:
    block = signing_block([(V3_BLOCK_ID, scheme_block(
        signer([OLD], (24, 30)), signer([NEW], (28, 0x7FFFFFFF))
    ))])
    info = signing_of(apk_with(block))
    assert [(s.min_sdk, s.max_sdk) for s in info.signers] == [(24, 30), (28, 0x7FFFFFFF)]
    assert any("cover the same platform levels (28..30)" in p for p in info.problems)


def test_v3_signers_with_disjoint_ranges_are_fine() -> None:
    block = signing_block([(V3_BLOCK_ID, scheme_block(
        signer([OLD], (24, 27)), signer([OLD], (28, 0x7FFFFFFF))
    ))])
    assert signing_of(apk_with(block)).problems == ()


def test_v2_and_v3_signers_differ_without_rotation_proof() -> None:
    block = signing_block([
        (V2_BLOCK_ID, scheme_block(signer([OLD]))),
        (V3_BLOCK_ID, scheme_block(signer([NEW], (24, 0x7FFFFFFF)))),
    ])
    info = signing_of(apk_with(block))
    assert info.schemes == ("v2", "v3")
    assert [p.split(" name ")[0] for p in info.problems] == ["v2 and v3"]


def test_key_rotation_lineage_links_v2_and_v3_signers() -> None:
    block = signing_block([
        (V2_BLOCK_ID, scheme_block(signer([OLD]))),
        (V3_BLOCK_ID, scheme_block(signer([NEW], (24, 0x7FFFFFFF), lineage(OLD, NEW)))),
        (V31_BLOCK_ID, scheme_block(signer([NEW], (33, 0x7FFFFFFF), lineage(OLD, NEW)))),
    ])
    info = signing_of(apk_with(block))
    assert info.schemes == ("v2", "v3", "v3.1")
    assert info.problems == ()


def test_several_v2_signers_are_reported() -> None:
    info = signing_of(apk_with(signing_block([
        (V2_BLOCK_ID, scheme_block(signer([OLD]), signer([NEW])))
    ])))
    assert len(info.signers) == 2
    assert any("the v2 block has 2 signers" in p for p in info.problems)


def test_block_unreachable_when_bytes_follow_the_directory() -> None:
    blob = apk_with(signing_block([(V2_BLOCK_ID, scheme_block(signer([OLD])))]), gap=b"junk")
    info = signing_of(blob)
    assert info.schemes == ("v2",)
    assert any("Android does not find the APK Signing Block" in p for p in info.problems)


@pytest.mark.parametrize(
    ("mangle", "problem"),
    [
        (lambda b: b"\x00" + b[1:], "sizes in its header and footer differ"),
        (lambda b: struct.pack("<Q", 2**40) + b[8:-24] + struct.pack("<Q", 2**40) + MAGIC,
         "out of range"),
        (lambda b: b[:8] + struct.pack("<Q", 2**31) + b[16:], "bad length"),
    ],
)
def test_malformed_signing_block_is_a_problem_not_an_error(mangle, problem) -> None:  # type: ignore[no-untyped-def]
    block = mangle(signing_block([(V2_BLOCK_ID, scheme_block(signer([OLD])))]))
    info = signing_of(apk_with(block))
    assert info.schemes == ()
    assert any(problem in p for p in info.problems), info.problems


def test_truncated_scheme_block_and_unreadable_certificate() -> None:
    broken = signing_block([(V2_BLOCK_ID, lp(lp(b"\xff\xff\xff\x7f")))])
    assert any("v2 signature block is malformed" in p
               for p in signing_of(apk_with(broken)).problems)
    junk = signing_block([(V2_BLOCK_ID, scheme_block(signer([b"\x30\x03\x02\x01"])))])
    (only,) = signing_of(apk_with(junk)).signers
    assert only.certificates[0].subject == "(unreadable)"


def test_read_signing_works_on_an_in_memory_window() -> None:
    blob = b"prefix" + apk_with(signing_block([(V2_BLOCK_ID, scheme_block(signer([OLD])))]))

    class Window(io.BytesIO):
        """What a bundle passes: offsets relative to the member's start."""

    window = Window(blob[6:])
    info, _ = read_signing(window, len(blob) - 6)
    assert info.schemes == ("v2",)


# --- findings ------------------------------------------------------------------------------


def _findings(app: App) -> dict[str, list[str]]:
    report = evaluate(app, load_ruleset(), platform_for(35))
    found: dict[str, list[str]] = {}
    for f in report.findings:
        if f.category in ("signing", "tamper"):
            found.setdefault(f.rule, []).append(f.subject)
    return found


def test_signing_rules_fire_on_unsigned_debug_and_ambiguous() -> None:
    base = App(input=InputInfo(path="x.apk", sha256="0", kind="apk", size=1),
               manifest=Manifest(package="com.example", target_sdk=35, min_sdk=24))
    unsigned = signing_of(make_zip([Entry("AndroidManifest.xml", b"x")]))
    debug = signing_of(apk_with(signing_block([(V2_BLOCK_ID, scheme_block(signer([EVIL])))])))
    ambiguous = signing_of(apk_with(signing_block([
        (V2_BLOCK_ID, scheme_block(signer([OLD]))), (V2_BLOCK_ID, scheme_block(signer([NEW]))),
    ])))
    sha = debug.signers[0].certificates[0].sha256
    assert _findings(App(**{**_fields(base), "signing": unsigned})) == {
        "signing.unsigned": ["signature"]}
    assert _findings(App(**{**_fields(base), "signing": debug})) == {
        "signing.debug_certificate": [f"certificate:{sha}"]}
    assert _findings(App(**{**_fields(base), "signing": ambiguous})) == {
        "signing.ambiguous": ["signature"]}
    assert _findings(base) == {}  # no signature info (text manifest, AAB module): no finding


def _fields(app: App) -> dict[str, object]:
    return {name: getattr(app, name) for name in App.__slots__}  # type: ignore[attr-defined]


# --- the corpus ----------------------------------------------------------------------------

#: Where our scheme list differs from androguard's ``is_signed_v1/v2/v3`` in the oracle.
SCHEME_DIFFERENCES = {
    # CERT.RSA uses compression method 21; read as stored it is deflate bytes that overrun
    # the directory, so no PKCS#7 can be read (Android's JAR verifier cannot extract it
    # either). androguard only checks that the name exists.
    "apksig-weird-compression-method.apk": "v1 signature file unreadable",
}


#: Archives libziparchive rejects (so there is no signer to read); see test_malformed_corpus.
ZIP_REJECTED = {
    "apkinspector-minimal_SIZE_ExtraField.apk",
    "apksig-v1v2v3-with-rsa-2048-lineage-3-signers-invalid-zip.apk",
    "apksig-v2-only-truncated-cd.apk",
    "janus.apk",
    # A 65535-byte end-record comment sends libziparchive (AOSP main) to the zip64 records,
    # and there are none: kInvalidFile. apksig (and Android 10 and older) read it.
    "apksig-v1-only-max-sized-eocd-comment.apk",
}


def _signed_apks() -> list[Path]:
    return [
        p for p in corpus_files("apk") + corpus_files("malformed")
        if ((_oracle(p).get("androguard") or {}).get("api") or {}).get("signed") is not None
    ]


def _oracle(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((corpus_dir() / "oracle" / f"{path.name}.json").read_text())


@pytest.mark.parametrize("path", _signed_apks(), ids=lambda p: p.name)
def test_schemes_match_androguard(path: Path) -> None:
    expected = _oracle(path)["androguard"]["api"]["signed"]
    with open(path, "rb") as stream:
        if path.name in ZIP_REJECTED:
            with pytest.raises(InputError):
                read_signing(stream, path.stat().st_size)
            return
        info, _ = read_signing(stream, path.stat().st_size)
    mine = {scheme: scheme in info.schemes for scheme in ("v1", "v2", "v3")}
    if path.name in SCHEME_DIFFERENCES:
        assert mine != expected
        assert any("cannot be read" in p for p in info.problems)
    else:
        assert mine == expected


def _app(corpus: Path, name: str) -> App:
    return load(str(corpus / "apk" / name))


def test_fdroid_issue_1128_pocs_are_ambiguous(corpus: Path) -> None:
    poc2 = _app(corpus, "issue-1128-poc2.apk").signing
    assert poc2 is not None and poc2.schemes == ("v2", "v3")
    assert {s.certificates[0].subject for s in poc2.signers} == {"CN=oops"}
    assert any("2 blocks with id 0xf05368c0 (v3)" in p for p in poc2.problems)
    min30 = _app(corpus, "issue-1128-min-sdk-30-poc.apk").signing
    assert min30 is not None and min30.schemes == ("v1", "v2", "v3")
    assert any(p.startswith("v1 and v2 name different signers") for p in min30.problems)
    poc1 = _app(corpus, "issue-1128-poc1.apk").signing
    assert poc1 is not None
    assert any("CIARANG.RSA has no matching .SF" in p for p in poc1.problems)
    for name, where in (("issue-1128-poc3a.apk", "not the first"),
                        ("issue-1128-poc3b.apk", "first, with 1 unrelated")):
        info = _app(corpus, name).signing
        assert info is not None and info.signers[0].certificates[0].subject == "CN=oops"
        assert any(where in p for p in info.problems), info.problems


def test_genuine_and_repackaged_builds_differ_by_certificate(corpus: Path) -> None:
    genuine = _app(corpus, "obb.mainpatch.current_1619.apk").signing
    other = _app(corpus, "obb.mainpatch.current_1619_another-release-key.apk").signing
    assert genuine is not None and other is not None
    assert genuine.signers[0].certificates[0].sha256 != other.signers[0].certificates[0].sha256
    assert other.signers[0].certificates[0].subject.startswith("CN=another release")
    assert genuine.problems == other.problems == ()


def test_clean_signatures_in_the_corpus(corpus: Path) -> None:
    both = _app(corpus, "v1.v2.sig_1020.apk").signing
    assert both is not None and both.schemes == ("v1", "v2") and both.problems == ()
    assert len({s.certificates[0].sha256 for s in both.signers}) == 1
    v2only = _app(corpus, "v2.only.sig_2.apk").signing
    assert v2only is not None and v2only.schemes == ("v2",)
    rotated = _app(corpus, "apksig-golden-aligned-v1v2v3-lineage-out.apk").signing
    assert rotated is not None and rotated.problems == ()
    assert len({s.certificates[0].sha256 for s in rotated.signers}) == 2  # rotation, proven
    v31 = _app(corpus, "apksig-v31-ec-p256-2-tgt-33-1-tgt-28-targetSdk-30.apk").signing
    assert v31 is not None and v31.schemes == ("v1", "v2", "v3", "v3.1")
    assert {(s.scheme, s.min_sdk) for s in v31.signers if s.min_sdk} == {("v3", 24), ("v3.1", 32)}


def test_unsigned_and_debug_signed_in_the_corpus(corpus: Path) -> None:
    unsigned = _app(corpus, "urzip-release-unsigned.apk").signing
    assert unsigned is not None and unsigned.schemes == ()
    debug = _app(corpus, "urzip.apk").signing
    assert debug is not None and debug.signers[0].certificates[0].debug
    assert debug.signers[0].certificates[0].subject == "CN=Android Debug, O=Android, C=US"
    release = _app(corpus, "urzip-release.apk").signing
    assert release is not None and not release.signers[0].certificates[0].debug


# --- the `signing:` and `tamper:` match keys -----------------------------------------------


def _rules_errors(tmp_path: Path, when: str) -> list[str]:
    from permaudit.errors import RulesError

    path = tmp_path / "rules.yml"
    path.write_text(
        "rules:\n  - id: x.rule\n    title: T\n    severity: low\n    rationale: R\n"
        f"    when:\n      {when}\n"
    )
    try:
        load_ruleset([path])
    except RulesError as exc:
        return [d.split(": error: ", 1)[1] for d in exc.diagnostics]
    return []


@pytest.mark.parametrize(
    ("when", "errors"),
    [
        ("signing: {unsigned: true}", []),
        ("signing: {ambiguous: true}", []),
        ("tamper: {}", []),
        ("tamper: {ids: [zip.*, axml.bad_string]}", []),
        ("signing: {unsigned: false}", ["'unsigned' can only be true"]),
        ("signing: {}", ["'signing' needs exactly one of unsigned, debug_certificate, ambiguous"]),
        ("signing: {unsigned: true, ambiguous: true}",
         ["'signing' needs exactly one of unsigned, debug_certificate, ambiguous"]),
        ("signing: {debug_cert: true}", ["unknown key 'debug_cert' in 'signing' (did you mean "
                                         "'debug_certificate'?)"]),
        ("tamper: {ids: [Zip-Thing]}",
         ["'Zip-Thing' is not a tamper evidence id such as 'zip.multiple_eocd' or 'axml.*'"]),
    ],
)
def test_signing_and_tamper_keys_are_validated(tmp_path: Path, when: str, errors: list[str]
                                               ) -> None:
    assert _rules_errors(tmp_path, when) == errors


def test_tamper_id_families() -> None:
    from permaudit.rules.model import Tamper

    assert Tamper(ids=("zip.*",)).matches("zip.multiple_eocd")
    assert not Tamper(ids=("zip.*",)).matches("axml.chunk_type")
    assert Tamper(ids=("axml.chunk_type",)).matches("axml.chunk_type")
    assert not Tamper(ids=("axml.chunk",)).matches("axml.chunk_type")
    assert Tamper().matches("anything.at_all")


# --- v1 PKCS#7 blocks read with sources/der.py ----------------------------------------------


def _pkcs7(certs: list[bytes], issuer: bytes, serial: int) -> bytes:
    from tests.inputs.signing.test_der import oid, seq, tlv

    sid = seq(issuer, tlv(2, serial.to_bytes(8, "big", signed=True)))
    info = seq(tlv(2, b"\x01"), sid, seq(oid("2.16.840.1.101.3.4.2.1")),
               seq(oid("1.2.840.113549.1.1.1")), tlv(4, b"sig"))
    signed = seq(tlv(2, b"\x01"), tlv(0x31, b""), seq(oid("1.2.840.113549.1.7.1")),
                 tlv(0xA0, b"".join(certs)), tlv(0x31, info))
    return seq(oid("1.2.840.113549.1.7.2"), tlv(0xA0, signed))


def test_v1_signer_is_found_by_an_issuer_encoded_another_way() -> None:
    """RFC 5280 name equality: string type, case and spaces do not matter (X500Principal)."""
    from permaudit.inputs.signing.certificates import Malformed as _Malformed
    from permaudit.inputs.signing.v1 import _pkcs7_signer
    from tests.inputs.signing.test_der import CN, UTC, certificate, name, tlv

    issued = name([(CN, tlv(19, b"Some  Signer"))], [("2.5.4.6", tlv(19, b"US"))])
    cert = certificate(issued, issued, UTC, UTC, serial=7)
    same = name([(CN, tlv(12, b"some signer "))], [("2.5.4.6", tlv(12, b"us"))])
    signer, notes = _pkcs7_signer("META-INF/A.RSA", _pkcs7([cert], same, 7))
    assert [c.subject for c in signer.certificates] == ["C=US, CN=Some  Signer"]
    assert notes == []
    other = name([(CN, tlv(12, b"other signer"))], [("2.5.4.6", tlv(12, b"us"))])
    with pytest.raises(_Malformed, match="names no certificate"):
        _pkcs7_signer("META-INF/A.RSA", _pkcs7([cert], other, 7))
    with pytest.raises(_Malformed, match="names no certificate"):
        _pkcs7_signer("META-INF/A.RSA", _pkcs7([cert], same, 8))


def test_v1_block_certificates_are_bounded() -> None:
    from permaudit.inputs.signing.certificates import MAX_ITEMS
    from permaudit.inputs.signing.certificates import Malformed as _Malformed
    from permaudit.inputs.signing.v1 import _pkcs7_signer
    from tests.inputs.signing.test_der import CN, UTC, certificate, name, tlv

    issued = name([(CN, tlv(19, b"x"))])
    certs = [certificate(issued, issued, UTC, UTC, serial=i) for i in range(MAX_ITEMS + 1)]
    with pytest.raises(_Malformed, match=f"more than {MAX_ITEMS} certificates"):
        _pkcs7_signer("META-INF/A.RSA", _pkcs7(certs, issued, 1))
    signer, notes = _pkcs7_signer("META-INF/A.RSA", _pkcs7(certs[:MAX_ITEMS], issued, 1))
    assert signer.certificates[0].subject == "CN=x"
    assert notes and f"holds {MAX_ITEMS} certificates" in notes[0]
