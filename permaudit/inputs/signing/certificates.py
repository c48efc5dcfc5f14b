"""Signer certificates as the report names them: SHA-256, subject and issuer DN, validity.

Shared by the v1 reader (``v1``) and the scheme-block reader (``schemes``): the
certificate record built from DER, the signer-id helpers used in problems, and the
``Malformed`` signal for a block that cannot be parsed.
"""

from __future__ import annotations

import hashlib
import re

from permaudit.inputs.signing import der
from permaudit.model import Certificate, Signer

_DN_NAMES = {
    "common_name": "CN", "organization_name": "O", "organizational_unit_name": "OU",
    "locality_name": "L", "state_or_province_name": "ST", "country_name": "C",
    "email_address": "E", "serial_number": "SERIALNUMBER", "domain_component": "DC",
    "street_address": "STREET", "title": "T", "given_name": "G", "surname": "SN",
}  # fmt: skip


def certificate(data: bytes) -> Certificate:
    """A model ``Certificate`` from DER (fields marked unreadable when the DER is bad)."""
    try:
        return from_x509(der.read_certificate(data), data)
    except (Malformed, der.DerError):
        return Certificate(sha256=hashlib.sha256(data).hexdigest(), subject="(unreadable)",
                           issuer="(unreadable)", not_before="", not_after="")


def from_x509(cert: der.X509, raw: bytes) -> Certificate:
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
        raise Malformed(f"certificate is not valid DER ({exc})") from None


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


DEBUG_SUBJECT = "CN=Android Debug"
MAX_ITEMS = 64


class Malformed(Exception):
    """A scheme block or signature file cannot be read; the message says what."""


def signer_ids(signer: Signer) -> set[str]:
    return {signer.certificates[0].sha256} if signer.certificates else set()


def short_ids(ids: set[str] | frozenset[str]) -> str:
    return ", ".join(sorted(i[:16] for i in ids)) or "nobody"
