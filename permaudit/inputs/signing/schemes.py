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

The v1 reader is ``v1``, the certificate records ``certificates``; this module finds the
APK Signing Block and its scheme blocks and compares signers across schemes. The block is
read by seeking: the footer, then the 12-byte header of each pair, then only
the values of the scheme blocks (bounded). Certificates and PKCS#7 blocks are read with
``der``, a small reader written for exactly these fields (asn1crypto, which gives the same
answers, costs 30-55 ms to import: more than half of a scan's start-up budget).

This module does **not** verify signatures cryptographically: it reports who claims to
have signed the APK, under which schemes, and where different readers (Android versions,
tools) would see different signers. ``SigningInfo.problems`` says why in plain words.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from typing import BinaryIO

from permaudit._infra.records import record
from permaudit.inputs.binary.ziparchive import (
    CentralDirectory,
    read_directory,
)
from permaudit.inputs.signing.certificates import DEBUG_SUBJECT, MAX_ITEMS
from permaudit.inputs.signing.certificates import Malformed as _Malformed
from permaudit.inputs.signing.certificates import certificate as _certificate
from permaudit.inputs.signing.certificates import short_ids as _short
from permaudit.inputs.signing.certificates import signer_ids as _ids
from permaudit.inputs.signing.v1 import MAX_SIGNATURE_FILE, MAX_V1_BLOCKS, V1_BLOCK, V1_PREFIX
from permaudit.inputs.signing.v1 import read_v1 as _read_v1
from permaudit.model import Signer, SigningInfo, TamperEvidence

#: The public names, some re-exported (v1 constants live in ``v1``, shared ones in
#: ``certificates``).
__all__ = [
    "DEBUG_SUBJECT", "MAGIC", "MAX_ITEMS", "MAX_PAIRS", "MAX_SCHEME_BLOCK",
    "MAX_SIGNATURE_FILE", "MAX_V1_BLOCKS", "PROOF_OF_ROTATION_ID", "SCHEME_IDS",
    "SCHEME_ORDER", "V1_BLOCK", "V1_PREFIX", "V2_BLOCK_ID", "V3_BLOCK_ID", "V31_BLOCK_ID",
    "SchemeSigner", "SigningBlock", "read_signing", "read_signing_block",
]

MAGIC = b"APK Sig Block 42"
V2_BLOCK_ID = 0x7109871A
V3_BLOCK_ID = 0xF05368C0
V31_BLOCK_ID = 0x1B93AD61
PROOF_OF_ROTATION_ID = 0x3BA06F8C
SCHEME_IDS = {V2_BLOCK_ID: "v2", V3_BLOCK_ID: "v3", V31_BLOCK_ID: "v3.1"}
SCHEME_ORDER = ("v1", "v2", "v3", "v3.1")

#: Bounds: a scheme block value, a v1 signature block file, pairs, signers/certificates per
#: sequence, v1 signature block files read.
MAX_SCHEME_BLOCK = 8 * 1024 * 1024
MAX_PAIRS = 256

_FOOTER = struct.Struct("<Q16s")
_PAIR = struct.Struct("<QI")


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


# --- certificates --------------------------------------------------------------------------


# --- across schemes ------------------------------------------------------------------------


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
