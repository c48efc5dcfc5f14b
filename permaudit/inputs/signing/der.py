"""Minimal DER/X.509/PKCS#7 reading for signer identity: certificates, names, validity, signers.

Why by hand: ``import asn1crypto.x509`` (with ``cms``) costs 28-55 ms in a fresh process
(``-X importtime``, measured on the reference machine), about a third of a scan of a 150 MB
APK (~100 ms), to read a handful of fields. This module reads exactly what ``signing``
needs and reproduces what asn1crypto returns for them (tests/inputs/signing/test_der.py
compares both on every certificate and PKCS#7 block of the corpus and on generated ones).

Why this module is long, part by part, each for what signer identity needs:

* certificate SHA-256, subject and issuer as text, validity: the report's identity lines;
  the name-value codecs (TeletexString as Windows-1252 in a DirectoryString, T.61 for
  attribute types asn1crypto does not know, IDNA hosts) make the subject read exactly as
  ``apksigner``/asn1crypto-based tools print it, so a user can compare fingerprints and
  names with what the developer publishes;
* SignedData and SignerInfo: which certificate signed a v1 block (issuer + serial number or
  subject key identifier), the check behind "several certificates" ambiguity findings;
* name equality with RFC 4518 string preparation: a v1 SignerInfo names its signer by issuer,
  and Android's JCA (``X500Principal.equals``, canonical RFC 2253 form) matches an issuer
  encoded another way (case, spaces, string type) to its certificate; without it permaudit
  would report an unsigned or ambiguous APK that Android installs;
* BER leniency as asn1crypto's, so corpus APKs whose blocks are not strict DER are read like
  every other tool reads them.

What it reproduces of asn1crypto, precisely:

* BER lengths as asn1crypto accepts them (long-form lengths of any size, indefinite lengths
  on constructed elements, strings split into chunks under an indefinite length), and
  bytes after the outermost element ignored, as ``Asn1Value.load`` does;
* elements after the last field of a SEQUENCE ignored, absent OPTIONAL fields recognised by
  their tag, and a field's tag checked only where the field is used;
* name attribute values decoded as asn1crypto's ``NameTypeAndValue`` does (a TeletexString
  in a ``DirectoryString`` is Windows-1252, a ``domain_component`` and the host of an
  ``email_address`` are IDNA), and name equality as RFC 5280 section 7.1 (RFC 4518 string
  preparation, as asn1crypto's ``prepped_value``).

Hostile input: every length is checked against its container, nested indefinite lengths are
followed at most ``MAX_INDEFINITE`` levels deep, a container holds at most ``MAX_ELEMENTS``
elements, and anything malformed raises ``DerError`` (and nothing else). Where asn1crypto is
lazier (it never looks at a field nobody reads) this reader may reject a little earlier: a
name's structure is checked as a whole when the name is first read; a ``unique_identifier``
(BIT STRING) value, and a value of an unknown attribute type that is not a universal string,
INTEGER, OCTET STRING or OBJECT IDENTIFIER, are rejected (asn1crypto prints a Python repr).
"""

from __future__ import annotations

import re

from permaudit._infra.records import record

#: Nested indefinite lengths followed (asn1crypto's limit), elements read in one container.
MAX_INDEFINITE = 10
MAX_ELEMENTS = 4096
#: Bytes of a long-form tag number.
MAX_TAG_BYTES = 4

UNIVERSAL, CONTEXT = 0, 2
INTEGER, BIT_STRING, OCTET_STRING, OID, SEQUENCE, SET = 2, 3, 4, 6, 16, 17
UTF8, PRINTABLE, TELETEX, IA5, UTC_TIME, GENERALIZED_TIME, UNIVERSAL_STR, BMP = (
    12, 19, 20, 22, 23, 24, 28, 30)
SIGNED_DATA = "1.2.840.113549.1.7.2"
SUBJECT_KEY_IDENTIFIER = "2.5.29.14"

#: asn1crypto's ``x509.NameType`` names (what ``ava["type"].native`` gives).
NAME_TYPES = {
    "2.5.4.3": "common_name", "2.5.4.4": "surname", "2.5.4.5": "serial_number",
    "2.5.4.6": "country_name", "2.5.4.7": "locality_name", "2.5.4.8": "state_or_province_name",
    "2.5.4.9": "street_address", "2.5.4.10": "organization_name",
    "2.5.4.11": "organizational_unit_name", "2.5.4.12": "title",
    "2.5.4.15": "business_category", "2.5.4.17": "postal_code", "2.5.4.20": "telephone_number",
    "2.5.4.41": "name", "2.5.4.42": "given_name", "2.5.4.43": "initials",
    "2.5.4.44": "generation_qualifier", "2.5.4.45": "unique_identifier",
    "2.5.4.46": "dn_qualifier", "2.5.4.65": "pseudonym", "2.5.4.97": "organization_identifier",
    "2.23.133.2.1": "tpm_manufacturer", "2.23.133.2.2": "tpm_model",
    "2.23.133.2.3": "tpm_version", "2.23.133.2.4": "platform_manufacturer",
    "2.23.133.2.5": "platform_model", "2.23.133.2.6": "platform_version",
    "1.2.840.113549.1.9.1": "email_address",
    "1.3.6.1.4.1.311.60.2.1.1": "incorporation_locality",
    "1.3.6.1.4.1.311.60.2.1.2": "incorporation_state_or_province",
    "1.3.6.1.4.1.311.60.2.1.3": "incorporation_country",
    "0.9.2342.19200300.100.1.1": "user_id", "0.9.2342.19200300.100.1.25": "domain_component",
    "0.2.262.1.10.7.20": "name_distinguisher",
}  # fmt: skip
#: The value type asn1crypto gives each name type (``NameTypeAndValue._oid_specs``); the
#: rest are ``DirectoryString``, and types it does not know are read by their own tag.
_VALUE_KINDS = {
    "telephone_number": "printable", "unique_identifier": "bits", "email_address": "email",
    "domain_component": "dns", "tpm_manufacturer": "utf8", "tpm_model": "utf8",
    "tpm_version": "utf8", "platform_manufacturer": "utf8", "platform_model": "utf8",
    "platform_version": "utf8",
}  # fmt: skip
#: Codecs of the ``DirectoryString`` alternatives (TeletexString as Windows-1252, as
#: asn1crypto's ``NotReallyTeletexString``: real-world encoders put Latin-1 there).
_DIRECTORY = {TELETEX: "cp1252", PRINTABLE: "latin-1", UNIVERSAL_STR: "utf-32-be",
              UTF8: "utf-8", BMP: "utf-16-be", IA5: "ascii"}
#: Codecs of the universal string types, for attribute types asn1crypto does not know.
_UNIVERSAL_STRINGS = {UTF8: "utf-8", 18: "latin-1", PRINTABLE: "latin-1", TELETEX: "t61",
                      IA5: "ascii", 25: "latin-1", 26: "latin-1", 27: "latin-1",
                      UNIVERSAL_STR: "utf-32-be", 29: "latin-1", BMP: "utf-16-be"}
#: ITU T.61 where it differs from Latin-1 (asn1crypto's ``teletex`` codec): these bytes mean
#: other characters, and ``_T61_UNDEFINED`` mean none.
_T61 = {
    0xA4: "$", 0xA6: "#", 0xA8: "\u00a4", 0xB4: "\u00d7", 0xB8: "\u00f7",
    **dict(zip((*range(0xC1, 0xC9), *range(0xCA, 0xD0)),
               "\u0300\u0301\u0302\u0303\u0304\u0306\u0307\u0308\u030a\u0327\u0332\u030b\u0328"
               "\u030c", strict=True)),
    **dict(zip((*range(0xE0, 0xE5), *range(0xE6, 0xFF)),
               "\u2126\u00c6\u00d0\u00aa\u0126\u0132\u013f\u0141\u00d8\u0152\u00ba\u00de\u0166"
               "\u014a\u0149\u0138\u00e6\u0111\u00f0\u0127\u0131\u0133\u0140\u0142\u00f8\u0153"
               "\u00df\u00fe\u0167\u014b", strict=True)),
}  # fmt: skip
_T61_UNDEFINED = frozenset((0x23, 0x24, 0x5C, 0x5E, 0x60, 0x7B, 0x7D, 0x7E, 0xA9, 0xAA, 0xAC,
                            0xAD, 0xAE, 0xAF, 0xB9, 0xBA, 0xC0, 0xC9, *range(0xD0, 0xE0), 0xE5,
                            0xFF))

#: The time forms asn1crypto accepts (``UTCTime``/``GeneralizedTime._TIMESTRING_RE``); the
#: usual ``YYMMDDHHMMSSZ`` and ``YYYYMMDDHHMMSSZ`` are read without them (compiling one costs
#: 0.3 ms).
_UTC_TIME = (
    r"^(?P<year>\d{2})(?P<month>\d{2})(?P<day>\d{2})(?P<hour>\d{2})(?P<minute>\d{2})"
    r"(?P<second>\d{2})?(?P<fraction>)(?:(?P<zulu>Z)|(?:(?P<dsign>[-+])(?P<dhour>\d{2})"
    r"(?P<dminute>\d{2})))$"
)
_GENERALIZED_TIME = (
    r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})(?P<hour>\d{2})(?:(?P<minute>\d{2})"
    r"(?P<second>\d{2})?)?(?:[,.](?P<fraction>\d+))?(?:(?P<zulu>Z)|(?:(?P<dsign>[-+])"
    r"(?P<dhour>\d{2})(?P<dminute>\d{2})?))?$"
)


class DerError(Exception):
    """The bytes are not the DER (or BER) structure expected; the message says what."""


#: One element of ``data``: (class, constructed, tag, start, contents start, contents end,
#: end). The contents end before the element does only for an indefinite length (by 2).
Element = tuple[int, int, int, int, int, int, int]


@record
class Attribute:
    """One attribute of a name: its type and its value element, still encoded."""

    #: asn1crypto's name for the type (``common_name``) or its dotted OID.
    type: str
    value: bytes


@record
class Name:
    """An X.501 name: relative distinguished names in encoded order, each a set of attributes."""

    rdns: tuple[tuple[Attribute, ...], ...]


@record
class X509:
    """The parts of an X.509 certificate signer identity needs, as encoded elements.

    Each part is checked when it is read (``read_integer``, ``read_name``,
    ``read_validity``, ``key_identifier``), as asn1crypto checks a field when it is used.
    """

    #: The certificate's bytes, header to end (what its SHA-256 is taken of).
    encoded: bytes
    serial_number: bytes
    issuer: bytes
    subject: bytes
    validity: bytes
    #: The ``[3]`` element holding the extensions; empty when there is none.
    extensions: bytes = b""


@record
class SignerId:
    """How a SignerInfo names its certificate: issuer and serial, or subject key identifier."""

    #: The encoded issuer Name (empty for a key identifier).
    issuer: bytes = b""
    serial_number: int = 0
    key_identifier: bytes | None = None


@record
class SignedData:
    """A PKCS#7/CMS SignedData: its certificates (encoded) and its SignerInfos."""

    certificates: tuple[bytes, ...]
    signer_count: int
    #: The first SignerInfo's signer identifier; None when there is no SignerInfo.
    first_signer: SignerId | None


# --- elements ------------------------------------------------------------------------------


def element(data: bytes, pos: int, end: int, depth: int = 0) -> Element:
    """The element starting at ``pos``, which must end by ``end``."""
    start = pos
    if pos >= end:
        raise DerError("an element is missing or truncated")
    first = data[pos]
    pos += 1
    tag = first & 0x1F
    if tag == 0x1F:
        tag = 0
        for count in range(MAX_TAG_BYTES + 1):
            if pos >= end:
                raise DerError("a tag is truncated")
            byte = data[pos]
            pos += 1
            if count == MAX_TAG_BYTES or (byte == 0x80 and tag == 0):
                raise DerError("a tag number is too long or not minimal")
            tag = tag * 128 + (byte & 0x7F)
            if not byte & 0x80:
                break
        if tag < 31:
            raise DerError("a tag number is not minimal")
    if pos >= end:
        raise DerError("a length is truncated")
    length = data[pos]
    pos += 1
    constructed = (first >> 5) & 1
    if length == 0x80:
        if not constructed:
            raise DerError("a primitive element has an indefinite length")
        if depth >= MAX_INDEFINITE:
            raise DerError(f"more than {MAX_INDEFINITE} nested indefinite lengths")
        stop = pos
        while end - stop < 2 or data[stop] or data[stop + 1]:
            stop = element(data, stop, end, depth + 1)[6]
        return first >> 6, constructed, tag, start, pos, stop, stop + 2
    if length & 0x80:
        count = length & 0x7F
        if end - pos < count:
            raise DerError("a length is truncated")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if length > end - pos:
        raise DerError(f"a length ({length}) runs past its container")
    return first >> 6, constructed, tag, start, pos, pos + length, pos + length


def children(data: bytes, parent: Element) -> list[Element]:
    """The elements inside a constructed ``parent``."""
    if not parent[1]:
        raise DerError("a primitive element where a constructed one belongs")
    found: list[Element] = []
    pos, end = parent[4], parent[5]
    while pos < end:
        if len(found) >= MAX_ELEMENTS:
            raise DerError(f"more than {MAX_ELEMENTS} elements in one container")
        found.append(element(data, pos, end))
        pos = found[-1][6]
    return found


def _top(data: bytes, class_: int, tag: int, what: str) -> Element:
    """The outermost element of ``data``, constructed (bytes after it are ignored)."""
    return _expect(element(data, 0, len(data)), class_, tag, what)


def _expect(item: Element, class_: int, tag: int, what: str, constructed: int = 1) -> Element:
    if item[0] != class_ or item[2] != tag:
        raise DerError(f"{what} has the wrong tag")
    if item[1] != constructed:
        raise DerError(f"{what} is {'primitive' if item[1] == 0 else 'constructed'}")
    return item


def _fields(data: bytes, parent: Element, layout: tuple[tuple[int, int] | None, ...],
            what: str) -> list[Element | None]:
    """Children of a SEQUENCE matched to ``layout`` as asn1crypto matches them.

    ``layout`` holds, per field, the (class, tag) of an OPTIONAL or DEFAULT field (None in
    the result when the next element has another tag), or None for a required field (which
    takes the next element whatever its tag). Elements after the last field are ignored.
    """
    items = children(data, parent)
    matched: list[Element | None] = []
    index = 0
    for optional in layout:
        if index < len(items) and (optional is None or (items[index][0], items[index][2])
                                   == optional):
            matched.append(items[index])
            index += 1
        elif optional is None:
            raise DerError(f"{what} lacks a field")
        else:
            matched.append(None)
    return matched


def _required(fields: list[Element | None], *indexes: int) -> list[Element]:
    found = [fields[i] for i in indexes]
    return [f for f in found if f is not None]


def _choice(item: Element, what: str) -> Element:
    """``item`` where the type is a CHOICE: asn1crypto re-reads a chosen element without the
    end-of-contents bytes of an indefinite length, so it cannot read one; neither do we."""
    if item[5] != item[6]:
        raise DerError(f"{what} has an indefinite length")
    return item


def _explicit(data: bytes, item: Element, tag: int, what: str) -> Element:
    """The element inside an explicit ``[tag]`` (anything after it is ignored, as asn1crypto)."""
    _expect(item, CONTEXT, tag, what)
    return element(data, item[4], item[5])


def _encoded(data: bytes, item: Element) -> bytes:
    return data[item[3] : item[6]]


def _string(data: bytes, item: Element, tags: tuple[int, ...], depth: int = 0) -> bytes:
    """The bytes of a string element; BER strings in indefinite-length chunks are joined."""
    if not item[1]:
        return data[item[4] : item[5]]
    if item[5] == item[6]:
        raise DerError("a string is constructed with a definite length")
    if depth >= MAX_INDEFINITE:
        raise DerError(f"more than {MAX_INDEFINITE} nested string chunks")
    parts = []
    for chunk in children(data, item):
        if chunk[0] != UNIVERSAL or chunk[2] not in tags:
            raise DerError("a string chunk has the wrong tag")
        parts.append(_string(data, chunk, tags, depth + 1))
    return b"".join(parts)


def _decode(raw: bytes, codec: str) -> str:
    if codec == "t61":
        if any(b in _T61_UNDEFINED for b in raw):
            raise DerError("a TeletexString holds a byte T.61 does not define")
        return "".join(_T61.get(b) or chr(b) for b in raw)
    try:
        return raw.decode(codec)
    except UnicodeError:
        raise DerError(f"a string is not valid {codec}") from None


def _idna(raw: bytes) -> str:
    """``raw.decode("idna")``, importing that codec (and ``stringprep``) only for IDNA labels."""
    if b"xn--" not in raw and raw.isascii():
        return raw.decode("ascii")
    try:
        return raw.decode("idna")
    except UnicodeError:
        raise DerError("a host name is not valid IDNA") from None


# --- values --------------------------------------------------------------------------------


def read_integer(encoded: bytes) -> int:
    """An INTEGER element (two's complement; empty contents read as 0, as asn1crypto)."""
    item = _expect(element(encoded, 0, len(encoded)), UNIVERSAL, INTEGER, "an INTEGER", 0)
    return int.from_bytes(encoded[item[4] : item[5]], "big", signed=True)


def _oid(data: bytes, item: Element) -> str:
    """Dotted OBJECT IDENTIFIER, decoded as asn1crypto's ``ObjectIdentifier.dotted``."""
    _expect(item, UNIVERSAL, OID, "an OBJECT IDENTIFIER", 0)
    if item[5] - item[4] > 256:
        raise DerError("an OBJECT IDENTIFIER is longer than 256 bytes")
    arcs: list[str] = []
    part = 0
    for byte in data[item[4] : item[5]]:
        part = part * 128 + (byte & 0x7F)
        if not byte & 0x80:
            if not arcs:
                first = 2 if part >= 80 else 1 if part >= 40 else 0
                arcs += (str(first), str(part - 40 * first))
            else:
                arcs.append(str(part))
            part = 0
    return ".".join(arcs)


def read_validity(encoded: bytes) -> tuple[str, str]:
    """A Validity SEQUENCE: not-before and not-after as ``read_time`` writes them."""
    item = _top(encoded, UNIVERSAL, SEQUENCE, "a validity")
    first, second = _required(_fields(encoded, item, (None, None), "a validity"), 0, 1)
    return _time(encoded, first), _time(encoded, second)


def read_time(encoded: bytes) -> str:
    """A UTCTime or GeneralizedTime element as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return _time(encoded, element(encoded, 0, len(encoded)))


def _time(data: bytes, item: Element) -> str:
    """The time's fields as written (asn1crypto keeps a ``+hhmm`` offset's local time rather
    than converting to UTC): a UTCTime year below 50 is 20xx, else 19xx; year 0 is allowed;
    a fraction is added to the time (it can carry into the seconds)."""
    if item[0] != UNIVERSAL or item[2] not in (UTC_TIME, GENERALIZED_TIME):
        raise DerError("a time is neither UTCTime nor GeneralizedTime")
    _choice(item, "a time")
    text = _string(data, item, (item[2],)).decode("latin-1")
    utc = item[2] == UTC_TIME
    width = 2 if utc else 4
    if len(text) == width + 11 and text[-1] == "Z" and text[:-1].isdigit() and text.isascii():
        groups: dict[str, str] = {
            "year": text[:width], "month": text[width : width + 2],
            "day": text[width + 2 : width + 4], "hour": text[width + 4 : width + 6],
            "minute": text[width + 6 : width + 8], "second": text[width + 8 : width + 10],
            "fraction": "", "dsign": "",
        }  # fmt: skip
        return _time_text(groups, utc=utc)
    match = re.match(_UTC_TIME if utc else _GENERALIZED_TIME, text)
    if match is None:
        raise DerError(f"a time is not valid: {text[:40]!r}")
    return _time_text(match.groupdict(), utc=utc)


def _time_text(groups: dict[str, str], *, utc: bool) -> str:
    from datetime import datetime, timedelta

    year = int(groups["year"])
    if utc:
        year += 2000 if year < 50 else 1900
    if groups["dsign"] and timedelta(hours=int(groups["dhour"]),
                                     minutes=int(groups["dminute"] or 0)) >= timedelta(hours=24):
        raise DerError("a time zone offset is 24 hours or more")
    # datetime has no year 0; the proleptic calendar repeats every 400 years (asn1crypto's
    # extended_datetime computes year 0 as year 2000 the same way).
    shift = 2000 if year == 0 else 0
    try:
        value = datetime(year + shift, int(groups["month"]), int(groups["day"]),
                         int(groups["hour"]), int(groups["minute"] or 0),
                         int(groups["second"] or 0))
        if groups["fraction"]:
            value += timedelta(microseconds=_fraction_usec(groups))
    except (ValueError, OverflowError) as exc:
        raise DerError(f"a time is out of range ({exc})") from None
    return (f"{value.year - shift:04d}-{value.month:02d}-{value.day:02d}T"
            f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}Z")


def _fraction_usec(groups: dict[str, str]) -> int:
    """The fraction in microseconds, rounded as asn1crypto (``Fraction.limit_denominator``)."""
    from fractions import Fraction

    digits = groups["fraction"]
    fraction = Fraction(int(digits), 10 ** len(digits)) * 1000000
    if groups["minute"] is None:
        fraction *= 3600
    elif groups["second"] is None:
        fraction *= 60
    return int(fraction.limit_denominator(1))


# --- names ---------------------------------------------------------------------------------


def read_name(encoded: bytes) -> Name:
    """An encoded Name: its RDNs and attributes (values are decoded by ``attribute_value``)."""
    item = _choice(_top(encoded, UNIVERSAL, SEQUENCE, "a Name"), "a Name")
    rdns = []
    for rdn in children(encoded, item):
        _expect(rdn, UNIVERSAL, SET, "a relative distinguished name")
        attributes = []
        for ava in children(encoded, rdn):
            _expect(ava, UNIVERSAL, SEQUENCE, "a name attribute")
            kind, value = _required(_fields(encoded, ava, (None, None), "a name attribute"),
                                    0, 1)
            oid = _oid(encoded, kind)
            attributes.append(Attribute(type=NAME_TYPES.get(oid, oid),
                                        value=_encoded(encoded, value)))
        rdns.append(tuple(attributes))
    return Name(rdns=tuple(rdns))


def attribute_value(attribute: Attribute) -> str | bytes | int:
    """The value as asn1crypto's ``ava["value"].native`` gives it (a str for string types)."""
    data = attribute.value
    item = element(data, 0, len(data))
    kind = _VALUE_KINDS.get(attribute.type, "directory" if attribute.type in _KNOWN else "")
    if kind == "directory":
        _choice(_string_type(item, tuple(_DIRECTORY), attribute.type), attribute.type)
        return _decode(_string(data, item, (item[2],)), _DIRECTORY[item[2]])
    if kind in ("printable", "utf8"):
        tag, codec = (PRINTABLE, "latin-1") if kind == "printable" else (UTF8, "utf-8")
        return _decode(_string(data, _string_type(item, (tag,), attribute.type), (tag,)), codec)
    if kind == "email":
        tags = (IA5, UTF8, PRINTABLE)
        raw = _string(data, _string_type(item, tags, attribute.type), tags)
        if b"@" not in raw:
            return _decode(raw, "cp1252")
        mailbox, host = raw.rsplit(b"@", 1)
        return _decode(mailbox, "cp1252") + "@" + _idna(host)
    if kind == "dns":
        dns_tags = (IA5, UTF8, PRINTABLE)
        return _idna(_string(data, _string_type(item, dns_tags, attribute.type), dns_tags))
    if kind == "bits" or item[0] != UNIVERSAL:
        raise DerError(f"the value of {attribute.type} has a type this reader does not read")
    if item[2] in _UNIVERSAL_STRINGS:
        return _decode(_string(data, item, (item[2],)), _UNIVERSAL_STRINGS[item[2]])
    if item[1]:
        raise DerError(f"the value of {attribute.type} is constructed")
    if item[2] == INTEGER:
        return int.from_bytes(data[item[4] : item[5]], "big", signed=True)
    if item[2] in (OCTET_STRING, 21):  # a VideotexString is an OCTET STRING to asn1crypto
        return data[item[4] : item[5]]
    if item[2] == OID:
        return _oid(data, item)
    raise DerError(f"the value of {attribute.type} has a type this reader does not read")


_KNOWN = frozenset(NAME_TYPES.values())


def _string_type(item: Element, tags: tuple[int, ...], what: str) -> Element:
    if item[0] != UNIVERSAL or item[2] not in tags:
        raise DerError(f"the value of {what} has the wrong type")
    return item


def names_equal(first: Name, second: Name) -> bool:
    """RFC 5280 section 7.1 name equality, as asn1crypto's ``Name.__eq__``.

    RDNs compare in order; within one, the sets of attribute types must be equal and, per
    type, the values after RFC 4518 string preparation (case folded, spaces collapsed). A
    value that cannot be prepared (not a string, or prohibited characters) raises
    ``DerError`` when the comparison reaches it.
    """
    if len(first.rdns) != len(second.rdns):
        return False
    for mine, other in zip(first.rdns, second.rdns, strict=True):
        if len(mine) != len(other) or {a.type for a in other} != {a.type for a in mine}:
            return False
        other_values = {a.type: prepare(attribute_value(a)) for a in other}
        mine_values = {a.type: prepare(attribute_value(a)) for a in mine}
        if other_values != mine_values:
            return False
    return True


def prepare(value: object) -> str:
    """RFC 4518 string preparation of a name value (asn1crypto's ``_ldap_string_prep``)."""
    if not isinstance(value, str):
        raise DerError("a name value that is not a string cannot be compared")
    if value.isascii() and value.isprintable():
        # Printable ASCII: the mapping is case folding, nothing is prohibited or bidi, and
        # the spaces are the only white space (runs become two spaces, ends are stripped).
        return " " + "  ".join(part for part in value.lower().split(" ") if part) + " "
    return _prepare_unicode(value)


def _prepare_unicode(string: str) -> str:
    import stringprep
    import unicodedata

    string = re.sub("[\u00ad\u1806\u034f\u180b-\u180d\ufe0f-\uff00\ufffc]+", "", string)
    string = re.sub("[\u0009\u000a\u000b\u000c\u000d\u0085]", " ", string)
    string = re.sub("[\U0001d173-\U0001d17a\U000e0020-\U000e007f\U000e0001]", "", string)
    string = re.sub(
        "[\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f\u06dd\u070f\u180e\u200c-\u200f"
        "\u202a-\u202e\u2060-\u2063\u206a-\u206f\ufeff\ufff9-\ufffb]+",
        "",
        string,
    )
    string = string.replace("\u200b", "")
    string = re.sub("[\u00a0\u1680\u2000-\u200a\u2028-\u2029\u202f\u205f\u3000]", " ", string)
    string = "".join(map(stringprep.map_table_b2, string))
    string = unicodedata.normalize("NFKC", string)
    for char in string:
        if (stringprep.in_table_a1(char) or stringprep.in_table_c8(char)
                or stringprep.in_table_c3(char) or stringprep.in_table_c4(char)
                or stringprep.in_table_c5(char) or char == "\ufffd"):
            raise DerError("a name value holds a character RFC 4518 prohibits")
    rtl = any(stringprep.in_table_d1(c) for c in string)
    ltr = any(not stringprep.in_table_d1(c) and stringprep.in_table_d2(c) for c in string)
    if rtl and (ltr or not stringprep.in_table_d1(string[0])
                or not stringprep.in_table_d1(string[-1])):
        raise DerError("a name value mixes left-to-right and right-to-left text")
    return " " + re.sub(" +", "  ", string).strip() + " "


# --- certificates and SignedData -----------------------------------------------------------

#: TBSCertificate: version [0] DEFAULT, serial, signature, issuer, validity, subject, key,
#: issuerUniqueID [1], subjectUniqueID [2], extensions [3] (OPTIONAL).
_TBS = ((CONTEXT, 0), None, None, None, None, None, None, (CONTEXT, 1), (CONTEXT, 2),
        (CONTEXT, 3))


def read_certificate(data: bytes) -> X509:
    """An X.509 certificate: the outer element of ``data`` (bytes after it are ignored)."""
    item = _top(data, UNIVERSAL, SEQUENCE, "a certificate")
    (tbs,) = _required(_fields(data, item, (None, None, None), "a certificate"), 0)
    _expect(tbs, UNIVERSAL, SEQUENCE, "a TBSCertificate")
    fields = _fields(data, tbs, _TBS, "a TBSCertificate")
    serial, issuer, validity, subject = _required(fields, 1, 3, 4, 5)
    return X509(
        encoded=data[: item[6]], serial_number=_encoded(data, serial),
        issuer=_encoded(data, issuer), subject=_encoded(data, subject),
        validity=_encoded(data, validity),
        extensions=_encoded(data, fields[9]) if fields[9] is not None else b"",
    )


def key_identifier(certificate: X509) -> bytes | None:
    """The subject key identifier extension's value (the last one, as asn1crypto), or None."""
    data = certificate.extensions
    if not data:
        return None
    extensions = _expect(_explicit(data, element(data, 0, len(data)), 3, "the extensions"),
                         UNIVERSAL, SEQUENCE, "the extensions")
    found = None
    for extension in children(data, extensions):
        _expect(extension, UNIVERSAL, SEQUENCE, "an extension")
        kind, value = _required(_fields(data, extension, (None, (UNIVERSAL, 1), None),
                                         "an extension"), 0, 2)
        if _oid(data, kind) == SUBJECT_KEY_IDENTIFIER:
            inner = _string(data, _string_type(value, (OCTET_STRING,), "an extension"),
                            (OCTET_STRING,))
            identifier = _string_type(element(inner, 0, len(inner)), (OCTET_STRING,),
                                      "a key identifier")
            found = _string(inner, identifier, (OCTET_STRING,))
    return found


#: SignedData: version, digestAlgorithms, encapContentInfo, certificates [0], crls [1],
#: signerInfos. SignerInfo: version, sid, digestAlgorithm, signedAttrs [0],
#: signatureAlgorithm, signature, unsignedAttrs [1].
_SIGNED_DATA = (None, None, None, (CONTEXT, 0), (CONTEXT, 1), None)
_SIGNER_INFO = (None, None, None, (CONTEXT, 0), None, None, (CONTEXT, 1))
#: CertificateChoices: certificate, then [0]..[3] (extended, attribute and other formats).
_CERTIFICATE_CHOICES = {(UNIVERSAL, SEQUENCE), *((CONTEXT, tag) for tag in range(4))}


def read_signed_data(data: bytes) -> SignedData | None:
    """A PKCS#7 ContentInfo's SignedData; None when the content type is not SignedData."""
    item = _top(data, UNIVERSAL, SEQUENCE, "a ContentInfo")
    parts = children(data, item)
    if not parts:
        raise DerError("a ContentInfo lacks its content type")
    if _oid(data, parts[0]) != SIGNED_DATA:
        return None
    if len(parts) < 2:
        raise DerError("a ContentInfo lacks its content")
    signed = _expect(_explicit(data, parts[1], 0, "the content"), UNIVERSAL, SEQUENCE,
                     "a SignedData")
    fields = _fields(data, signed, _SIGNED_DATA, "a SignedData")
    certificates = []
    if fields[3] is not None:
        for choice in children(data, fields[3]):
            if (choice[0], choice[2]) not in _CERTIFICATE_CHOICES or not choice[1]:
                raise DerError("a certificate of the SignedData has the wrong tag")
            _choice(choice, "a certificate of the SignedData")
            if choice[0] == UNIVERSAL:
                certificates.append(_encoded(data, choice))
    (signer_infos,) = _required(fields, 5)
    infos = children(data, _expect(signer_infos, UNIVERSAL, SET, "the SignerInfos"))
    for info in infos:
        _expect(info, UNIVERSAL, SEQUENCE, "a SignerInfo")
    first = _signer_id(data, infos[0]) if infos else None
    return SignedData(certificates=tuple(certificates), signer_count=len(infos),
                      first_signer=first)


def _signer_id(data: bytes, info: Element) -> SignerId:
    (sid,) = _required(_fields(data, info, _SIGNER_INFO, "a SignerInfo"), 1)
    _choice(sid, "a signer identifier")
    if (sid[0], sid[2]) == (CONTEXT, 0):
        if sid[1]:
            raise DerError("a subject key identifier is constructed")
        return SignerId(key_identifier=data[sid[4] : sid[5]])
    _expect(sid, UNIVERSAL, SEQUENCE, "a signer identifier")
    issuer, serial = _required(_fields(data, sid, (None, None), "an issuer and serial"), 0, 1)
    if (issuer[0], issuer[2]) != (UNIVERSAL, SEQUENCE):
        raise DerError("a Name is not a SEQUENCE")
    _choice(issuer, "a Name")
    return SignerId(issuer=_encoded(data, issuer),
                    serial_number=read_integer(_encoded(data, serial)))
