"""Signer identity of an APK: signature schemes present, signer certificates, ambiguous signing.

What is read, and how Android reads it:

* **v1 (JAR signing)**: ``StrictJarFile`` collects the entries under ``META-INF/`` and
  ``StrictJarVerifier.readCertificates`` takes every name ending in ``.RSA``, ``.DSA`` or
  ``.EC`` (case-sensitive) that has a matching ``.SF`` file; of each PKCS#7 block only
  the *first* SignerInfo counts ("to be compatible with older Android platforms"), and
  its certificate chain is built from the block's certificates by issuer and serial.
* **v2, v3, v3.1** (APK Signature Scheme blocks, ids ``0x7109871a``, ``0xf05368c0``,
  ``0x1b93ad61``): the APK Signing Block sits right before the central directory and
  ends with ``"APK Sig Block 42"``; ``ApkSigningBlockUtils.findApkSigningBlock`` finds it
  only when the central directory is immediately followed by the end record. Within it
  ``findApkSignatureSchemeBlock`` takes the *first* pair with the wanted id. v2 signers
  are all required; a v3/v3.1 signer applies to its ``[minSdk, maxSdk]`` range and two
  signers covering the same platform are a ``SecurityException``.

The block is read by seeking: the footer, then the 12-byte header of each pair, then only
the values of the scheme blocks (bounded). Certificates and PKCS#7 blocks are read with
``der``, a small reader written for exactly these fields (asn1crypto, which gives the same
answers, costs 30-55 ms to import: more than half of a scan's start-up budget).

This module does **not** verify signatures cryptographically: it reports who claims to
have signed the APK, under which schemes, and where different readers (Android versions,
tools) would see different signers. ``SigningInfo.problems`` says why in plain words.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterator
from typing import BinaryIO

from permaudit._infra.records import record
from permaudit.errors import PermauditError
from permaudit.inputs.binary.ziparchive import (
    CentralDirectory,
    ZipEntry,
    read_directory,
    read_member,
)
from permaudit.inputs.signing import der
from permaudit.model import Certificate, Signer, SigningInfo, TamperEvidence

MAGIC = b"APK Sig Block 42"
V2_BLOCK_ID = 0x7109871A
V3_BLOCK_ID = 0xF05368C0
V31_BLOCK_ID = 0x1B93AD61
PROOF_OF_ROTATION_ID = 0x3BA06F8C
SCHEME_IDS = {V2_BLOCK_ID: "v2", V3_BLOCK_ID: "v3", V31_BLOCK_ID: "v3.1"}
SCHEME_ORDER = ("v1", "v2", "v3", "v3.1")
#: Entries ``read_directory`` must pick for v1: everything under this prefix.
V1_PREFIX = "META-INF/"
V1_BLOCK = re.compile(r"^META-INF/.*\.(RSA|DSA|EC)$", re.S)
DEBUG_SUBJECT = "CN=Android Debug"

#: Bounds: a scheme block value, a v1 signature block file, pairs, signers/certificates per
#: sequence, v1 signature block files read.
MAX_SCHEME_BLOCK = 8 * 1024 * 1024
MAX_SIGNATURE_FILE = 1024 * 1024
MAX_PAIRS = 256
MAX_ITEMS = 64
MAX_V1_BLOCKS = 16

_FOOTER = struct.Struct("<Q16s")
_PAIR = struct.Struct("<QI")
_DN_NAMES = {
    "common_name": "CN", "organization_name": "O", "organizational_unit_name": "OU",
    "locality_name": "L", "state_or_province_name": "ST", "country_name": "C",
    "email_address": "E", "serial_number": "SERIALNUMBER", "domain_component": "DC",
    "street_address": "STREET", "title": "T", "given_name": "G", "surname": "SN",
}  # fmt: skip


class _Malformed(Exception):
    """A scheme block or signature file cannot be read; the message says what."""


@record
class SchemeSigner:
    """One signer of a scheme block, before it becomes a model ``Signer``."""

    signer: Signer
    #: sha256 of the certificates in a v3 proof-of-rotation lineage.
    lineage: frozenset[str] = frozenset()


@record
class SigningBlock:
    """What the APK Signing Block holds: the pair ids in order and the parsed scheme blocks."""

    ids: tuple[int, ...]
    signers: tuple[SchemeSigner, ...]
    problems: tuple[str, ...]
    #: False when Android will not look at the block (the directory is not followed by the
    #: end record); the signers are still listed.
    reachable: bool = True


def read_signing(
    stream: BinaryIO, size: int, directory: CentralDirectory | None = None
) -> tuple[SigningInfo, tuple[TamperEvidence, ...]]:
    """Signer identity of the APK in ``stream`` (``size`` bytes), and local-header evidence.

    ``directory`` must come from ``read_directory(..., prefix=V1_PREFIX)`` (it is read when
    ``None``). ``stream`` needs only ``seek``/``read``: a bundle can pass a window over a
    member APK. Zip errors raise as in ``zipentry``; signing problems never raise.
    """
    if directory is None:
        directory = read_directory(stream, size, prefix=V1_PREFIX)
    v1, v1_problems, evidence = _read_v1(stream, directory)
    reachable = directory.offset + directory.size == directory.eocd_offset
    block = read_signing_block(stream, directory.offset, reachable=reachable)
    signers = [*v1, *(s.signer for s in block.signers)]
    schemes = tuple(s for s in SCHEME_ORDER if any(x.scheme == s for x in signers))
    lineage = frozenset().union(*(s.lineage for s in block.signers))
    problems = [*v1_problems, *block.problems, *_cross_scheme_problems(signers, lineage)]
    info = SigningInfo(schemes=schemes, signers=tuple(signers), problems=tuple(problems))
    return info, evidence


def read_signing_block(
    stream: BinaryIO, cd_offset: int, *, reachable: bool = True
) -> SigningBlock:
    """Read the APK Signing Block before ``cd_offset`` by seeking; empty when there is none.

    ``reachable=False`` says the central directory is not immediately followed by the end
    record, so Android will not look for the block (it is still read and reported).
    """
    if cd_offset < _FOOTER.size + 8:
        return SigningBlock(ids=(), signers=(), problems=())
    stream.seek(cd_offset - _FOOTER.size)
    footer = stream.read(_FOOTER.size)
    if len(footer) != _FOOTER.size:
        return SigningBlock(ids=(), signers=(), problems=())
    block_size, magic = _FOOTER.unpack(footer)
    if magic != MAGIC:
        return SigningBlock(ids=(), signers=(), problems=())
    try:
        ids, values = _pairs(stream, cd_offset, block_size)
    except _Malformed as exc:
        return SigningBlock(ids=(), signers=(), problems=(f"APK Signing Block: {exc}",))
    problems = []
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    for block_id in duplicates:
        name = SCHEME_IDS.get(block_id, "unknown")
        problems.append(
            f"the APK Signing Block holds {ids.count(block_id)} blocks with id "
            f"0x{block_id:08x} ({name}); Android uses the first, other tools may use another"
        )
    signers: list[SchemeSigner] = []
    seen: set[int] = set()
    for block_id, value in values:
        scheme = SCHEME_IDS[block_id]
        try:
            parsed = _scheme_signers(scheme, value)
        except _Malformed as exc:
            problems.append(f"{scheme} signature block is malformed: {exc}")
            continue
        if block_id in seen:
            first = {c for s in signers if s.signer.scheme == scheme for c in _ids(s.signer)}
            other = {c for s in parsed for c in _ids(s.signer)}
            if first != other:
                problems.append(
                    f"the {scheme} blocks name different signers: Android uses "
                    f"{_short(first)}, the ignored duplicate names {_short(other)}"
                )
            continue
        seen.add(block_id)
        signers.extend(parsed)
        problems.extend(_range_problems(scheme, parsed))
    if not reachable and signers:
        problems.append(
            "Android does not find the APK Signing Block: the central directory is not "
            "immediately followed by the end-of-central-directory record"
        )
    return SigningBlock(ids=ids, signers=tuple(signers), problems=tuple(problems),
                        reachable=reachable)


def _pairs(
    stream: BinaryIO, cd_offset: int, block_size: int
) -> tuple[tuple[int, ...], list[tuple[int, bytes]]]:
    """Pair ids in order, and the values of the scheme blocks (``findApkSigningBlock``)."""
    if block_size < _FOOTER.size or block_size > 0x7FFFFFFF - 8:
        raise _Malformed(f"size {block_size} out of range")
    start = cd_offset - (block_size + 8)
    if start < 0:
        raise _Malformed(f"size {block_size} reaches before the start of the file")
    stream.seek(start)
    header = stream.read(8)
    if len(header) != 8 or struct.unpack("<Q", header)[0] != block_size:
        raise _Malformed("sizes in its header and footer differ")
    pos, end = start + 8, cd_offset - _FOOTER.size
    ids: list[int] = []
    values: list[tuple[int, bytes]] = []
    while pos < end:
        if len(ids) >= MAX_PAIRS:
            raise _Malformed(f"more than {MAX_PAIRS} entries")
        if end - pos < _PAIR.size:
            raise _Malformed(f"entry #{len(ids) + 1} is truncated")
        stream.seek(pos)
        raw = stream.read(_PAIR.size)
        if len(raw) != _PAIR.size:
            raise _Malformed(f"entry #{len(ids) + 1} is truncated")
        length, block_id = _PAIR.unpack(raw)
        if length < 4 or length > end - pos - 8:
            raise _Malformed(f"entry #{len(ids) + 1} has a bad length {length}")
        ids.append(block_id)
        if block_id in SCHEME_IDS:
            if length - 4 > MAX_SCHEME_BLOCK:
                raise _Malformed(f"entry #{len(ids)} is larger than {MAX_SCHEME_BLOCK} bytes")
            value = stream.read(length - 4)
            if len(value) != length - 4:
                raise _Malformed(f"entry #{len(ids)} is truncated")
            values.append((block_id, value))
        pos += 8 + length
    return tuple(ids), values


# --- scheme blocks -------------------------------------------------------------------------


class _Reader:
    """Little-endian, length-prefixed fields of a scheme block (``getLengthPrefixedSlice``)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> bool:
        return self.pos < len(self.data)

    def uint32(self) -> int:
        if self.pos + 4 > len(self.data):
            raise _Malformed("a field is truncated")
        (value,) = struct.unpack_from("<I", self.data, self.pos)
        self.pos += 4
        return int(value)

    def slice(self) -> _Reader:
        length = self.uint32()
        if length > len(self.data) - self.pos:
            raise _Malformed(f"a length prefix ({length}) runs past its container")
        piece = self.data[self.pos : self.pos + length]
        self.pos += length
        return _Reader(piece)

    def items(self) -> Iterator[_Reader]:
        count = 0
        while self.remaining():
            count += 1
            if count > MAX_ITEMS:
                raise _Malformed(f"more than {MAX_ITEMS} items in a sequence")
            yield self.slice()


def _scheme_signers(scheme: str, value: bytes) -> list[SchemeSigner]:
    """Signers of a v2/v3/v3.1 block: certificates, sdk range, rotation lineage."""
    signers = []
    for signer in _Reader(value).slice().items():
        signed = signer.slice()
        signed.slice()  # digests
        ders = [c.data for c in signed.slice().items()]
        min_sdk = max_sdk = None
        if scheme != "v2":
            signed.uint32()
            signed.uint32()  # the signed copy of the range; the outer one is checked below
            min_sdk, max_sdk = signer.uint32(), signer.uint32()
        lineage = _lineage(signed.slice()) if scheme != "v2" else frozenset()
        if not ders:
            raise _Malformed("a signer has no certificate")
        certificates = tuple(_certificate(der) for der in ders)
        signers.append(SchemeSigner(
            signer=Signer(scheme=scheme, certificates=certificates, min_sdk=min_sdk,
                          max_sdk=max_sdk),
            lineage=lineage,
        ))
    if not signers:
        raise _Malformed("no signers")
    return signers


def _lineage(attributes: _Reader) -> frozenset[str]:
    """Certificates of a proof-of-rotation attribute (``SigningCertificateLineage``)."""
    found: set[str] = set()
    for attribute in attributes.items():
        if attribute.uint32() != PROOF_OF_ROTATION_ID:
            continue
        attribute.uint32()  # version
        for node in attribute.items():
            signed = node.slice()
            found.add(hashlib.sha256(signed.slice().data).hexdigest())
    return frozenset(found)


def _range_problems(scheme: str, signers: list[SchemeSigner]) -> list[str]:
    problems = []
    if scheme == "v2" and len(signers) > 1:
        problems.append(f"the v2 block has {len(signers)} signers; tools that show one of "
                        "them hide the others")
    ranged = [s.signer for s in signers if s.signer.min_sdk is not None]
    for i, first in enumerate(ranged):
        for second in ranged[i + 1 :]:
            low = max(first.min_sdk or 0, second.min_sdk or 0)
            high = min(_sdk(first.max_sdk), _sdk(second.max_sdk))
            if low <= high:
                problems.append(
                    f"two {scheme} signers cover the same platform levels ({low}..{high}); "
                    "Android refuses such an APK there, tools may show either signer"
                )
    return problems


def _sdk(value: int | None) -> int:
    return 0x7FFFFFFF if value is None else value


# --- v1 ------------------------------------------------------------------------------------


def _read_v1(
    stream: BinaryIO, directory: CentralDirectory
) -> tuple[list[Signer], list[str], tuple[TamperEvidence, ...]]:
    names = {e.name: e for e in directory.entries if e.name.startswith(V1_PREFIX)}
    signers: list[Signer] = []
    problems: list[str] = []
    evidence: list[TamperEvidence] = []
    blocks = [name for name in names if V1_BLOCK.match(name)]
    if len(blocks) > MAX_V1_BLOCKS:
        problems.append(f"{len(blocks)} v1 signature block files; only the first "
                        f"{MAX_V1_BLOCKS} were read")
    orphans: list[tuple[str, Signer | None]] = []
    for name in blocks[:MAX_V1_BLOCKS]:
        entry = names[name]
        try:
            data, found = _read_signature_file(stream, directory, entry)
            evidence.extend(found)
            signer, notes = _pkcs7_signer(name, data)
        except _Malformed as exc:
            if name.rsplit(".", 1)[0] + ".SF" not in names:
                orphans.append((name, None))
            else:
                problems.append(f"v1 signature block {name} cannot be read: {exc}")
            continue
        if name.rsplit(".", 1)[0] + ".SF" not in names:
            orphans.append((name, signer))  # StrictJarVerifier skips it: no .SF
            continue
        signers.append(signer)
        problems.extend(notes)
    if len(signers) > 1:
        problems.append(f"{len(signers)} v1 signers; tools that show one of them hide the others")
    real = {c for s in signers for c in _ids(s)}
    for name, orphan in orphans:
        if orphan is None or not _ids(orphan) <= real:
            who = f" names {_short(_ids(orphan))}" if orphan is not None else ""
            problems.append(f"{name} has no matching .SF file and{who or ' is unreadable'}: "
                            "Android ignores it, other tools may take it for the signer")
    return signers, problems, tuple(evidence)


def _read_signature_file(
    stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry
) -> tuple[bytes, tuple[TamperEvidence, ...]]:
    try:
        member = read_member(stream, directory, entry, limit=MAX_SIGNATURE_FILE)
    except PermauditError as exc:
        raise _Malformed(exc.detail) from None
    return member.data, member.evidence


def _pkcs7_signer(name: str, data: bytes) -> tuple[Signer, list[str]]:
    """The first SignerInfo's certificate chain, and notes on what else the block holds."""
    try:
        signed = der.read_signed_data(data)
        if signed is None:
            raise _Malformed("not PKCS#7 SignedData")
        if len(signed.certificates) > MAX_ITEMS:
            raise _Malformed(f"more than {MAX_ITEMS} certificates")
        certs = [_BlockCertificate(c) for c in signed.certificates]
        if signed.first_signer is None:
            raise _Malformed("no SignerInfo")
        signer_cert = _find_signer(certs, signed.first_signer)
        if signer_cert is None:
            raise _Malformed("the SignerInfo names no certificate in the block")
        chain = _chain(signer_cert, certs)
    except der.DerError as exc:
        raise _Malformed(f"bad DER ({exc})") from None
    notes = []
    if signed.signer_count > 1:
        notes.append(f"{name} holds {signed.signer_count} SignerInfos; Android uses only the "
                     "first, other tools may show another")
    extra = [c for c in certs if all(c is not k for k in chain)]
    if extra or certs[0] is not signer_cert:
        notes.append(
            f"{name} holds {len(certs)} certificates and the signer's is "
            f"{'not the first' if certs[0] is not signer_cert else 'first'}"
            + (f", with {len(extra)} unrelated to it" if extra else "")
            + "; tools that take the first certificate may show a different signer"
        )
    certificates = tuple(_from_x509(c.x509(), c.encoded) for c in chain)
    return Signer(scheme="v1", certificates=certificates), notes


class _BlockCertificate:
    """A certificate of a PKCS#7 block, its parts read when first used and kept.

    Only what the signer search and the chain need is read, as asn1crypto did: a block
    whose unused certificates are broken still names its signer.
    """

    __slots__ = ("_names", "_x509", "encoded")

    def __init__(self, encoded: bytes) -> None:
        self.encoded = encoded
        self._x509: der.X509 | None = None
        self._names: dict[str, der.Name] = {}

    def x509(self) -> der.X509:
        if self._x509 is None:
            self._x509 = der.read_certificate(self.encoded)
        return self._x509

    def name(self, which: str) -> der.Name:
        """The ``issuer`` or ``subject``."""
        if which not in self._names:
            self._names[which] = der.read_name(getattr(self.x509(), which))
        return self._names[which]


def _find_signer(
    certs: list[_BlockCertificate], sid: der.SignerId
) -> _BlockCertificate | None:
    if sid.key_identifier is not None:
        wanted = sid.key_identifier
        return next((c for c in certs if der.key_identifier(c.x509()) == wanted), None)
    issuer: list[der.Name] = []  # read when a serial number matches, as asn1crypto did
    for cert in certs:
        if der.read_integer(cert.x509().serial_number) != sid.serial_number:
            continue
        if not issuer:
            issuer.append(der.read_name(sid.issuer))
        # RFC 5280 name equality (string types and case folded), as X500Principal.equals:
        # the SignerInfo may encode the issuer differently from the certificate.
        if der.names_equal(cert.name("issuer"), issuer[0]):
            return cert
    return None


def _chain(signer: _BlockCertificate, certs: list[_BlockCertificate]
           ) -> list[_BlockCertificate]:
    """The signer, then its issuers found among ``certs`` (as ``getCertificateChain``)."""
    chain = [signer]
    current = signer
    while len(chain) < len(certs) and not der.names_equal(current.name("issuer"),
                                                          current.name("subject")):
        wanted = current.name("issuer")
        parent = next(
            (c for c in certs
             if der.names_equal(c.name("subject"), wanted) and all(c is not k for k in chain)),
            None,
        )
        if parent is None:
            break
        chain.append(parent)
        current = parent
    return chain


# --- certificates --------------------------------------------------------------------------


def _certificate(data: bytes) -> Certificate:
    """A model ``Certificate`` from DER (fields marked unreadable when the DER is bad)."""
    try:
        return _from_x509(der.read_certificate(data), data)
    except (_Malformed, der.DerError):
        return Certificate(sha256=hashlib.sha256(data).hexdigest(), subject="(unreadable)",
                           issuer="(unreadable)", not_before="", not_after="")


def _from_x509(cert: der.X509, raw: bytes) -> Certificate:
    """``raw`` is what the SHA-256 is taken of: the certificate, and any bytes after it."""
    try:
        subject = _dn(der.read_name(cert.subject))
        not_before, not_after = der.read_validity(cert.validity)
        return Certificate(
            sha256=hashlib.sha256(raw).hexdigest(),
            subject=subject,
            issuer=_dn(der.read_name(cert.issuer)),
            not_before=not_before,
            not_after=not_after,
            debug=DEBUG_SUBJECT in subject.split(", "),
        )
    except der.DerError as exc:
        raise _Malformed(f"certificate is not valid DER ({exc})") from None


def _dn(name: der.Name) -> str:
    """A distinguished name as RFC 4514 writes it (most specific first): ``CN=.., O=..``."""
    parts = []
    for rdn in name.rdns:
        for attribute in rdn:
            value = der.attribute_value(attribute)
            text = value if isinstance(value, str) else str(value)
            parts.append(f"{_DN_NAMES.get(attribute.type, attribute.type)}={_escape(text)}")
    return ", ".join(reversed(parts))


def _escape(text: str) -> str:
    return re.sub(r'([,+"\\<>;])', r"\\\1", text)


# --- across schemes ------------------------------------------------------------------------


def _ids(signer: Signer) -> set[str]:
    return {signer.certificates[0].sha256} if signer.certificates else set()


def _short(ids: set[str] | frozenset[str]) -> str:
    return ", ".join(sorted(i[:16] for i in ids)) or "nobody"


def _cross_scheme_problems(signers: list[Signer], lineage: frozenset[str]) -> list[str]:
    """Schemes whose signers differ, unless a v3 rotation lineage links them."""
    by_scheme: dict[str, set[str]] = {}
    for signer in signers:
        by_scheme.setdefault(signer.scheme, set()).update(_ids(signer))
    present = [s for s in SCHEME_ORDER if s in by_scheme]
    problems = []
    for i, first in enumerate(present):
        for second in present[i + 1 :]:
            a, b = by_scheme[first], by_scheme[second]
            if a != b and not (a | b) <= lineage:
                problems.append(
                    f"{first} and {second} name different signers ({_short(a)} vs "
                    f"{_short(b)}) with no rotation proof linking them: which one a reader "
                    "shows depends on the Android version or tool"
                )
    return problems
