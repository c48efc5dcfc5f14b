"""The hand-written DER reader against asn1crypto (the oracle), and against hostile bytes."""

from __future__ import annotations

import contextlib
import hashlib
import io
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import _teletex_codec, cms, x509
from asn1crypto import parser as asn1_parser
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from permaudit.errors import PermauditError
from permaudit.inputs.binary.ziparchive import read_directory
from permaudit.inputs.signing import certificates as certs
from permaudit.inputs.signing import der, v1
from permaudit.inputs.signing import schemes as signing
from tests.conftest import REPO, corpus_dir, corpus_files

#: What asn1crypto raises on bad DER (signing caught these before der.py replaced it).
ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError,
               RecursionError)
MALFORMED = "malformed"

# --- the oracle: what signing computed with asn1crypto -------------------------------------

#: The abbreviations signing prints (the oracle checks decoding, not the naming).
DN_NAMES = certs._DN_NAMES


def asn1_dn(name: Any) -> str:
    """certs._dn as it was written for asn1crypto names."""
    parts = []
    for rdn in name.chosen:
        for ava in rdn:
            key = ava["type"].native
            value = ava["value"].native
            text = value if isinstance(value, str) else str(value)
            parts.append(f"{DN_NAMES.get(key, key)}={certs._escape(text)}")
    return ", ".join(reversed(parts))


def asn1_time(value: Any) -> str:
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}Z")


def asn1_certificate(data: bytes) -> tuple[str, ...] | str:
    """The fields as signing read them with asn1crypto. The SHA-256 is of the bytes it read:
    ``cert.dump()`` re-encodes a certificate whose length ends in a 0x80 byte (asn1crypto
    takes that for an indefinite length), which the v1 path used to hash."""
    try:
        cert = x509.Certificate.load(data)
        tbs = cert["tbs_certificate"]
        validity = tbs["validity"]
        encoded = data[: asn1_parser.peek(data)]
        return (hashlib.sha256(encoded).hexdigest(), asn1_dn(tbs["subject"]),
                asn1_dn(tbs["issuer"]), asn1_time(validity["not_before"].native),
                asn1_time(validity["not_after"].native))
    except ASN1_ERRORS:
        return MALFORMED


def printed_as_python(fields: tuple[str, ...] | str) -> bool:
    """Whether asn1crypto rendered a name value as a Python repr (a structured value)."""
    return isinstance(fields, tuple) and any("OrderedDict(" in field for field in fields)


def der_certificate(data: bytes) -> tuple[str, ...] | str:
    try:
        cert = der.read_certificate(data)
        return (hashlib.sha256(cert.encoded).hexdigest(),
                certs._dn(der.read_name(cert.subject)),
                certs._dn(der.read_name(cert.issuer)),
                *der.read_validity(cert.validity))
    except der.DerError:
        return MALFORMED


def asn1_names_equal(first: bytes, second: bytes) -> bool | str:
    try:
        return bool(x509.Name.load(first) == x509.Name.load(second))
    except ASN1_ERRORS:
        return MALFORMED


def der_names_equal(first: bytes, second: bytes) -> bool | str:
    try:
        return der.names_equal(der.read_name(first), der.read_name(second))
    except der.DerError:
        return MALFORMED


# --- the corpus: every certificate and PKCS#7 block of the signed APKs ---------------------


def _apks() -> Iterator[tuple[str, bytes]]:
    import zipfile

    paths = [*corpus_files("apk", "*.apk"), *corpus_files("malformed", "*.apk"),
             *corpus_files("bundles", "*.apk"), *sorted((REPO / "fixtures" / "apk").rglob("*.apk")),
             *sorted((REPO / "tests" / "regressions").glob("*.apk"))]
    for path in paths:
        yield path.name, path.read_bytes()
    for path in corpus_files("bundles"):
        if path.suffix in (".apks", ".xapk"):
            with zipfile.ZipFile(path) as bundle:
                for member in bundle.namelist():
                    if member.endswith(".apk"):
                        yield f"{path.name}!{member}", bundle.read(member)


def _scheme_certificates(value: bytes) -> Iterator[bytes]:
    for signer in signing._Reader(value).slice().items():
        signed = signer.slice()
        signed.slice()
        yield from (c.data for c in signed.slice().items())


def _signer_material() -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Certificates (from v2/v3 blocks and PKCS#7 blocks) and PKCS#7 blocks, by sha256."""
    certificates: dict[str, bytes] = {}
    blocks: dict[str, bytes] = {}
    for _name, blob in _apks():
        stream = io.BytesIO(blob)
        try:
            directory = read_directory(stream, len(blob), prefix=signing.V1_PREFIX)
        except PermauditError:
            continue
        for entry in directory.entries:
            if signing.V1_BLOCK.match(entry.name):
                try:
                    data, _ = v1._read_signature_file(stream, directory, entry)
                except certs.Malformed:
                    continue
                blocks[hashlib.sha256(data).hexdigest()] = data
        stream.seek(max(directory.offset - 24, 0))
        footer = stream.read(24)
        if len(footer) == 24 and footer[8:] == signing.MAGIC:
            try:
                _ids, values = signing._pairs(stream, directory.offset,
                                              int.from_bytes(footer[:8], "little"))
                for _id, value in values:
                    for cert in _scheme_certificates(value):
                        certificates[hashlib.sha256(cert).hexdigest()] = cert
            except certs.Malformed:
                continue
    for data in blocks.values():
        for choice in cms.ContentInfo.load(data)["content"]["certificates"]:
            if choice.name == "certificate":
                cert = choice.chosen.dump()
                certificates[hashlib.sha256(cert).hexdigest()] = cert
    return certificates, blocks


@pytest.fixture(scope="module")
def material() -> tuple[dict[str, bytes], dict[str, bytes]]:
    if not corpus_dir().is_dir():
        pytest.skip(f"corpus not found at {corpus_dir()} (set PERMAUDIT_CORPUS)")
    return _signer_material()


def test_corpus_certificates_read_as_asn1crypto_reads_them(material: Any) -> None:
    certificates, _blocks = material
    assert len(certificates) > 50
    readable = 0
    for digest, data in certificates.items():
        expected = asn1_certificate(data)
        if printed_as_python(expected):
            # The nested-name regression input: Python 3.13's asn1crypto reads it and prints
            # the structured value as a Python repr (older ones hit RecursionError); der
            # rejects a structured value in a name either way (see its docstring).
            expected = MALFORMED
        assert der_certificate(data) == expected, digest
        if expected == MALFORMED:
            continue
        readable += 1
        oracle, mine = x509.Certificate.load(data), der.read_certificate(data)
        assert der.read_integer(mine.serial_number) == oracle.serial_number
        assert der.key_identifier(mine) == oracle.key_identifier
    assert readable >= len(certificates) - 1  # the nested-name regression input is not


def test_corpus_name_equality_as_asn1crypto(material: Any) -> None:
    """Every pair of names of the corpus: subjects, issuers and SignerInfo issuers."""
    certificates, blocks = material
    names = set()
    for data in certificates.values():
        if asn1_certificate(data) != MALFORMED:
            tbs = x509.Certificate.load(data)["tbs_certificate"]
            names |= {tbs["subject"].dump(), tbs["issuer"].dump()}
    for data in blocks.values():
        sid = cms.ContentInfo.load(data)["content"]["signer_infos"][0]["sid"]
        names.add(sid.chosen["issuer"].dump())
    names_list = sorted(names)
    equal = 0
    for first in names_list:
        for second in names_list:
            expected = asn1_names_equal(first, second)
            assert der_names_equal(first, second) == expected, (first, second)
            equal += expected is True
    assert equal > len(names_list) > 30  # some are equal in another encoding


def test_corpus_pkcs7_blocks_read_as_asn1crypto_reads_them(material: Any) -> None:
    _certificates, blocks = material
    assert len(blocks) > 50
    for digest, data in blocks.items():
        signed = cms.ContentInfo.load(data)["content"]
        mine = der.read_signed_data(data)
        assert mine is not None, digest
        assert mine.certificates == tuple(c.chosen.dump() for c in signed["certificates"]
                                          if c.name == "certificate")
        infos = list(signed["signer_infos"])
        assert mine.signer_count == len(infos)
        sid = infos[0]["sid"]
        assert mine.first_signer is not None
        assert sid.name == "issuer_and_serial_number"
        assert mine.first_signer.issuer == sid.chosen["issuer"].dump()
        assert mine.first_signer.serial_number == sid.chosen["serial_number"].native


# --- building DER by hand ------------------------------------------------------------------


def tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = b""
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.append(0x80 | (arc & 0x7F))
        body += bytes(reversed(chunk))
    return tlv(0x06, body)


def name(*rdns: list[tuple[str, bytes]]) -> bytes:
    return seq(*(tlv(0x31, b"".join(seq(oid(t), v) for t, v in rdn)) for rdn in rdns))


def certificate(subject: bytes, issuer: bytes, not_before: bytes, not_after: bytes,
                *, serial: int = 1, extensions: bytes = b"") -> bytes:
    key = seq(seq(oid("1.2.840.113549.1.1.1"), tlv(5, b"")), tlv(3, b"\x00\x30\x00"))
    algorithm = seq(oid("1.2.840.113549.1.1.11"), tlv(5, b""))
    tbs = seq(tlv(0xA0, tlv(2, b"\x02")), tlv(2, serial.to_bytes(8, "big", signed=True)),
              algorithm, issuer, seq(not_before, not_after), subject, key,
              *([tlv(0xA3, seq(extensions))] if extensions else []))
    return seq(tbs, algorithm, tlv(3, b"\x00sig"))


UTC = tlv(23, b"200102030405Z")
GENERALIZED = tlv(24, b"20500102030405Z")
CN = "2.5.4.3"

#: String types: tag, and an encoder of text into its bytes.
STRING_TYPES = {
    12: lambda s: s.encode("utf-8", "surrogatepass"),
    19: lambda s: s.encode("latin-1", "replace"),
    20: lambda s: s.encode("latin-1", "replace"),
    22: lambda s: s.encode("latin-1", "replace"),
    28: lambda s: s.encode("utf-32-be", "surrogatepass"),
    30: lambda s: s.encode("utf-16-be", "surrogatepass"),
    18: lambda s: s.encode("latin-1", "replace"),
    26: lambda s: s.encode("latin-1", "replace"),
}
ATTRIBUTE_TYPES = [CN, "2.5.4.6", "2.5.4.10", "2.5.4.11", "2.5.4.20", "2.5.4.15",
                   "1.2.840.113549.1.9.1", "0.9.2342.19200300.100.1.25", "2.23.133.2.1",
                   "1.2.3.4", "2.5.4.13", "1.2.840.113549.1.9.2"]
TEXT = st.text(st.sampled_from(list("aAbB zZ.-@,+=\"\\<>;#é\u00dfÉ\u0130\u00ad\t\u0627\u05d0"
                                    "\u00a0\u200b\ufb01\x00\x7f\u2126\ud800\U0001f600")),
               max_size=12)


@st.composite
def attribute_values(draw: st.DrawFn) -> bytes:
    tag = draw(st.sampled_from([*STRING_TYPES, 2, 4, 6, 5, 48]))
    if tag in STRING_TYPES:
        text = draw(st.booleans())
        return tlv(tag, STRING_TYPES[tag](draw(TEXT)) if text else draw(st.binary(max_size=8)))
    if tag == 2:
        return tlv(2, draw(st.binary(max_size=4)))
    if tag == 6:
        return oid(draw(st.sampled_from(["1.2.3", "2.999.1", "0.9.2342"])))
    return tlv(tag, draw(st.binary(max_size=4)))


@st.composite
def names(draw: st.DrawFn) -> bytes:
    rdns = draw(st.lists(st.lists(st.tuples(st.sampled_from(ATTRIBUTE_TYPES),
                                            attribute_values()), min_size=1, max_size=2),
                         max_size=3))
    return name(*rdns)


def _comparable(value: bytes) -> bool:
    """Leave out what der.py knowingly does not read as asn1crypto (see its docstring)."""
    data = value[value.index(b"\x06"):]
    kind = der.element(data, 0, len(data))
    rest = data[kind[6]:]
    return not (rest[0] in (5, 48) and der.NAME_TYPES.get(der._oid(data, kind)) is None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=names(), issuer=names())
def test_generated_names_read_and_compare_as_asn1crypto(subject: bytes, issuer: bytes) -> None:
    for encoded in (subject, issuer):
        for rdn in x509.Name.load(encoded).chosen:
            for ava in rdn:
                assume(_comparable(ava.dump()))
    cert = certificate(subject, issuer, UTC, GENERALIZED)
    assert der_certificate(cert) == asn1_certificate(cert)
    assert der_names_equal(subject, issuer) == asn1_names_equal(subject, issuer)
    assert der_names_equal(subject, subject) == asn1_names_equal(subject, subject)


def _variants(text: str) -> st.SearchStrategy[bytes]:
    """``text`` in several string types, with case and space changes."""
    return st.builds(
        lambda tag, upper, spaces: tlv(tag, STRING_TYPES[tag](
            (text.upper() if upper else text).replace(" ", " " * spaces))),
        st.sampled_from([12, 19, 30, 28, 20]), st.booleans(), st.integers(1, 3))


@settings(max_examples=200, deadline=None)
@given(data=st.data(), text=TEXT)
def test_names_equal_across_encodings_as_asn1crypto(data: st.DataObject, text: str) -> None:
    first = name([(CN, data.draw(_variants(text)))], [("2.5.4.6", tlv(19, b"US"))])
    second = name([(CN, data.draw(_variants(text)))], [("2.5.4.6", tlv(12, b"us "))])
    assert der_names_equal(first, second) == asn1_names_equal(first, second)


def test_name_equality_folds_case_spaces_and_string_types() -> None:
    first = name([(CN, tlv(19, b"Some  Signer "))], [("2.5.4.6", tlv(19, b"US"))])
    second = name([(CN, tlv(12, b"some signer"))], [("2.5.4.6", tlv(30, "us".encode("utf-16-be")))])
    assert der_names_equal(first, second) is True
    assert asn1_names_equal(first, second) is True
    other = name([(CN, tlv(12, b"some signer"))], [("2.5.4.6", tlv(19, b"DE"))])
    assert der_names_equal(first, other) is False


TIMES = st.one_of(
    st.from_regex(r"\A[0-9]{10}([0-9]{2})?(Z|[-+][0-9]{4})\Z").map(lambda s: tlv(23, s.encode())),
    st.from_regex(r"\A[0-9]{10}([0-9]{2}([0-9]{2})?)?([.,][0-9]{1,9})?(Z|[-+][0-9]{2}([0-9]{2})?)?"
                  r"\Z").map(lambda s: tlv(24, s.encode())),
    st.builds(lambda d, z: tlv(24, d.strftime("%Y%m%d%H%M%S").encode().zfill(14) + z),
              st.datetimes(min_value=datetime(1, 1, 1)), st.sampled_from([b"Z", b".9999999Z",
                                                                          b".5Z", b"+2359"])),
    st.sampled_from([tlv(24, b"00000229235959.9999999Z"), tlv(24, b"99991231235959.9999999Z"),
                     tlv(23, b"491231235959Z"), tlv(23, b"500101000000Z"),
                     tlv(23, b"200229000000Z\n"), tlv(24, b"2020010203.5Z"),
                     tlv(24, b"202001020304.25+0100"), tlv(23, "20010203040²Z".encode("latin-1"))]),
)


@settings(max_examples=300, deadline=None)
@given(not_before=TIMES, not_after=TIMES)
def test_generated_times_read_as_asn1crypto(not_before: bytes, not_after: bytes) -> None:
    cert = certificate(name([(CN, tlv(19, b"x"))]), name([(CN, tlv(19, b"y"))]), not_before,
                       not_after)
    assert der_certificate(cert) == asn1_certificate(cert)


@pytest.mark.parametrize(
    ("encoded", "text"),
    [
        (tlv(23, b"491231235959Z"), "2049-12-31T23:59:59Z"),
        (tlv(23, b"500101000000Z"), "1950-01-01T00:00:00Z"),
        (tlv(23, b"2001020304Z"), "2020-01-02T03:04:00Z"),
        (tlv(24, b"20201231235959.9999999Z"), "2021-01-01T00:00:00Z"),
        (tlv(24, b"20200102030405+0100"), "2020-01-02T03:04:05Z"),
        (tlv(24, b"00000229000000Z"), "0000-02-29T00:00:00Z"),
        (tlv(24, b"2020010203.5Z"), "2020-01-02T03:30:00Z"),
    ],
)
def test_times(encoded: bytes, text: str) -> None:
    assert der.read_time(encoded) == text


@pytest.mark.parametrize("encoded", [tlv(24, b"20210229000000Z"), tlv(23, b"200102030405+2400"),
                                     tlv(23, b"2001020304"), tlv(2, b"\x01"),
                                     tlv(24, b"20200102030460Z")])
def test_bad_times_are_malformed(encoded: bytes) -> None:
    with pytest.raises(der.DerError):
        der.read_time(encoded)


def test_teletex_is_t61_for_unknown_types_and_windows_1252_in_directory_strings() -> None:
    t61 = [der._decode(bytes([b]), "t61") if b not in der._T61_UNDEFINED else None
           for b in range(256)]
    assert t61 == [None if c == "\ufffe" else c for c in _teletex_codec.DECODING_TABLE]
    cn = der.Attribute(type="common_name", value=tlv(20, b"\x80\xe9"))
    assert der.attribute_value(cn) == "\u20ac\u00e9"
    assert der.attribute_value(der.Attribute(type="1.2.3", value=tlv(20, b"\xa4"))) == "$"


def test_signed_data_with_a_key_identifier_signer() -> None:
    ski = "2.5.29.14"
    cert = certificate(name([(CN, tlv(19, b"k"))]), name([(CN, tlv(19, b"k"))]), UTC, UTC,
                       extensions=seq(oid(ski), tlv(4, tlv(4, b"\x01\x02"))))
    info = seq(tlv(2, b"\x03"), tlv(0x80, b"\x01\x02"), seq(oid("2.16.840.1.101.3.4.2.1")),
               seq(oid("1.2.840.113549.1.1.1")), tlv(4, b"sig"))
    signed = seq(tlv(2, b"\x03"), tlv(0x31, b""), seq(oid("1.2.840.113549.1.7.1")),
                 tlv(0xA0, cert), tlv(0x31, info))
    block = seq(oid(der.SIGNED_DATA), tlv(0xA0, signed))
    parsed = der.read_signed_data(block)
    assert parsed is not None and parsed.first_signer is not None
    assert parsed.first_signer.key_identifier == b"\x01\x02"
    assert der.key_identifier(der.read_certificate(cert)) == b"\x01\x02"
    oracle = cms.ContentInfo.load(block)["content"]
    assert oracle["signer_infos"][0]["sid"].chosen.native == b"\x01\x02"
    assert x509.Certificate.load(cert).key_identifier == b"\x01\x02"
    signer, notes = v1._pkcs7_signer("META-INF/K.RSA", block)
    assert [c.subject for c in signer.certificates] == ["CN=k"]
    assert notes == []


def _indefinite(encoded: bytes) -> bytes:
    """A constructed element re-encoded with an indefinite length."""
    item = der.element(encoded, 0, len(encoded))
    return bytes([encoded[0]]) + b"\x80" + encoded[item[4] : item[5]] + b"\x00\x00"


def test_ber_indefinite_lengths_and_chunked_strings_read_as_asn1crypto() -> None:
    """asn1crypto reads BER where the type is not a CHOICE (a Name, a DirectoryString and a
    Time are), and so does der.py."""
    chunked = b"\x36\x80" + tlv(22, b"me@exa") + tlv(22, b"mple.org") + b"\x00\x00"
    subject = name([("1.2.840.113549.1.9.1", chunked)], [(CN, tlv(19, b"x"))])
    cert = certificate(subject, subject, UTC, UTC)
    tbs, *rest = (cert[i[3] : i[6]] for i in der.children(cert, der.element(cert, 0, len(cert))))
    ber = b"\x30\x80" + _indefinite(tbs) + b"".join(rest) + b"\x00\x00"
    for encoded in (cert, ber):
        assert der_certificate(encoded) == asn1_certificate(encoded)
    assert der_certificate(ber)[1:3] == ("CN=x, E=me@example.org", "CN=x, E=me@example.org")
    in_choice = certificate(_indefinite(subject), subject, UTC, UTC)
    assert der_certificate(in_choice) == asn1_certificate(in_choice) == MALFORMED


# --- hostile input -------------------------------------------------------------------------

READERS = (der.read_certificate, der.read_signed_data, der.read_name, der.read_validity,
           der.read_time, der.read_integer)


def _each_reader(data: bytes) -> None:
    for reader in READERS:
        with contextlib.suppress(der.DerError):
            reader(data)
    try:
        der.key_identifier(der.X509(encoded=b"", serial_number=b"", issuer=b"", subject=b"",
                                    validity=b"", extensions=data))
        for rdn in der.read_name(data).rdns:
            for attribute in rdn:
                der.prepare(der.attribute_value(attribute))
    except der.DerError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_read_or_raise_der_error(data: bytes) -> None:
    _each_reader(data)
    _each_reader(b"\x30\x80" + data)
    _each_reader(bytes([0x30, len(data)]) + data if len(data) < 128 else data)


def _small_certificate() -> bytes:
    return certificate(name([(CN, tlv(12, "Zoë".encode()))], [("2.5.4.6", tlv(19, b"FR"))]),
                       name([("1.2.840.113549.1.9.1", tlv(22, b"a@xn--bcher-kva.example"))]),
                       UTC, GENERALIZED, extensions=seq(oid("2.5.29.14"), tlv(4, tlv(4, b"k"))))


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_certificates_give_a_result_or_the_malformed_signal(data: st.DataObject) -> None:
    blob = bytearray(_small_certificate())
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    cut = bytes(blob[: data.draw(st.integers(0, len(blob)))])
    for sample in (bytes(blob), cut):
        _each_reader(sample)
        result = certs.certificate(sample)  # never raises
        assert result.sha256 == hashlib.sha256(sample).hexdigest()
        with contextlib.suppress(certs.Malformed):
            v1._pkcs7_signer("META-INF/X.RSA", sample)


@pytest.mark.parametrize(
    "data",
    [b"\x30\x80" * 5000, b"\x24\x80" * 5000, (b"\x30\x82\x27\x10" * 2500),
     seq(oid(der.SIGNED_DATA), b"\xa0\x80" + b"\x30\x80" * 20),
     name([(CN, b"\x33\x80" * 50)]), name([("1.2.3.4", b"\x30\x80" * 400)])],
    ids=["indefinite-sequences", "indefinite-strings", "definite", "signed-data", "chunks",
         "unknown-value"],
)
def test_deep_nesting_is_the_malformed_signal_not_recursion(data: bytes) -> None:
    for reader in READERS:
        with pytest.raises(der.DerError):
            reader(data)
    with pytest.raises(der.DerError):
        for rdn in der.read_name(data).rdns:
            for attribute in rdn:
                der.attribute_value(attribute)


def test_a_container_holds_at_most_max_elements() -> None:
    many = name(*[[(CN, tlv(19, b"x"))]] * (der.MAX_ELEMENTS + 1))
    with pytest.raises(der.DerError, match="more than 4096 elements"):
        der.read_name(many)


def test_scan_does_not_import_asn1crypto(corpus: Path) -> None:
    apk = corpus / "apk" / "v1.v2.sig_1020.apk"
    code = ("import sys\nfrom permaudit.inputs.apk import load\n"
            f"app = load({str(apk)!r})\n"
            "assert app.signing.schemes == ('v1', 'v2'), app.signing\n"
            "print(sorted(m for m in sys.modules if m.startswith('asn1crypto')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=REPO)
    assert result.stdout.strip() == "[]"
