"""v1 (JAR) signing as Android's ``StrictJarVerifier`` reads it: signature block files and
the first SignerInfo of each, with its certificate chain built by issuer and serial.
"""

from __future__ import annotations

import re
from typing import BinaryIO

from permaudit.errors import PermauditError
from permaudit.inputs.binary.ziparchive import CentralDirectory, ZipEntry, read_member
from permaudit.inputs.signing import der
from permaudit.inputs.signing.certificates import (
    MAX_ITEMS,
    Malformed,
    from_x509,
    short_ids,
    signer_ids,
)
from permaudit.model import Signer, TamperEvidence

#: Entries ``read_directory`` must pick for v1: everything under this prefix.
V1_PREFIX = "META-INF/"
V1_BLOCK = re.compile(r"^META-INF/.*\.(RSA|DSA|EC)$", re.S)
MAX_SIGNATURE_FILE = 1024 * 1024
MAX_V1_BLOCKS = 16


def read_v1(
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
        except Malformed as exc:
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
    real = {c for s in signers for c in signer_ids(s)}
    for name, orphan in orphans:
        if orphan is None or not signer_ids(orphan) <= real:
            who = f" names {short_ids(signer_ids(orphan))}" if orphan is not None else ""
            problems.append(f"{name} has no matching .SF file and{who or ' is unreadable'}: "
                            "Android ignores it, other tools may take it for the signer")
    return signers, problems, tuple(evidence)


def _read_signature_file(
    stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry
) -> tuple[bytes, tuple[TamperEvidence, ...]]:
    try:
        member = read_member(stream, directory, entry, limit=MAX_SIGNATURE_FILE)
    except PermauditError as exc:
        raise Malformed(exc.detail) from None
    return member.data, member.evidence


def _pkcs7_signer(name: str, data: bytes) -> tuple[Signer, list[str]]:
    """The first SignerInfo's certificate chain, and notes on what else the block holds."""
    try:
        signed = der.read_signed_data(data)
        if signed is None:
            raise Malformed("not PKCS#7 SignedData")
        if len(signed.certificates) > MAX_ITEMS:
            raise Malformed(f"more than {MAX_ITEMS} certificates")
        certs = [_BlockCertificate(c) for c in signed.certificates]
        if signed.first_signer is None:
            raise Malformed("no SignerInfo")
        signer_cert = _find_signer(certs, signed.first_signer)
        if signer_cert is None:
            raise Malformed("the SignerInfo names no certificate in the block")
        chain = _chain(signer_cert, certs)
    except der.DerError as exc:
        raise Malformed(f"bad DER ({exc})") from None
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
    certificates = tuple(from_x509(c.x509(), c.encoded) for c in chain)
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
