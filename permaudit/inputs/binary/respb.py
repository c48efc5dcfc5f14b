"""Read an App Bundle's ``resources.pb`` lazily, just enough to resolve ``@0x7f...`` references.

A bundle module's resource table is aapt2's protobuf ``aapt.pb.ResourceTable``, not the
binary ``resources.arsc`` (bundletool writes the arsc when it builds the APKs). Field
numbers from the public frameworks/base ``tools/aapt2/Resources.proto`` and
``Configuration.proto`` (proto3), verified field by field::

    ResourceTable { StringPool source_pool = 1; repeated Package package = 2; ... }
    Package       { PackageId package_id = 1; string package_name = 2; repeated Type type = 3; }
    PackageId / TypeId / EntryId { uint32 id = 1; }
    Type          { TypeId type_id = 1; string name = 2; repeated Entry entry = 3; }
    Entry         { EntryId entry_id = 1; string name = 2; ...;
                    repeated ConfigValue config_value = 6; }
    ConfigValue   { Configuration config = 1; Value value = 2; }
    Value         { ...; oneof value { Item item = 4; CompoundValue compound_value = 5; } }
    Item          { oneof value { Reference ref = 1; String str = 2; RawString raw_str = 3;
                    StyledString styled_str = 4; FileReference file = 5; Id id = 6;
                    Primitive prim = 7; } }
    Reference     { Type type = 1 (REFERENCE = 0, ATTRIBUTE = 1); uint32 id = 2; ...;
                    Boolean is_dynamic = 5; }
    String / RawString / StyledString { string value = 1; }   FileReference { string path = 1; }
    Primitive     { as in ``protoxml`` (int_decimal_value = 6, boolean_value = 8, ...) }
    Configuration { uint32 mcc = 1; uint32 mnc = 2; string locale = 3 (BCP-47); ...;
                    uint32 density = 18; ...; uint32 sdk_version = 24; string product = 25; }

Lazy, like the arsc reader: the constructor walks the table and package messages and
reads each ``Type``'s id (aapt2 writes it first), skipping over its entries; a type's
entries are indexed (entry id -> span) the first time one of its resources is asked for;
an entry's values are decoded only when asked. ``steps`` counts the protobuf fields
visited, so a test can show that resolving a label does not decode the whole table.

Hostile-first: every field goes through ``protowire.fields`` (lengths checked against
the enclosing message, truncated varints and groups refused); at most ``MAX_PACKAGES``
packages and ``MAX_TYPES`` types per package; a string longer than ``MAX_STRING_BYTES``
reads as a bad string; the schema fixes the nesting depth (no recursion on input).
A malformed table is ``RespbError``; the bundle reader turns it into an unresolved reason.
Reference chains are followed by ``permaudit.inputs.resources``, bounded there.
"""

from __future__ import annotations

from permaudit.inputs.binary.arsc import (
    MAX_STRING_BYTES,
    TYPE_ATTRIBUTE,
    TYPE_DYNAMIC_REFERENCE,
    TYPE_INT_BOOLEAN,
    TYPE_INT_DEC,
    TYPE_INT_HEX,
    TYPE_NULL,
    TYPE_REFERENCE,
    TYPE_STRING,
    Candidate,
    Config,
    ResValue,
)
from permaudit.inputs.binary.protowire import (
    WIRE_FIXED32,
    WIRE_LENGTH,
    WIRE_VARINT,
    WireError,
    as_int32,
    fields,
)

MAX_PACKAGES = 256
MAX_TYPES = 512
#: A base module's resources.pb is a few MB; 256 MiB is generous (bounded memory).
MAX_TABLE_SIZE = 256 * 1024 * 1024

_TYPE_FLOAT = 0x04
_TYPE_DIMENSION = 0x05
_TYPE_FRACTION = 0x06
_TYPE_DYNAMIC_ATTRIBUTE = 0x08
#: ``Primitive`` field number -> ``Res_value`` type (ResourceTypes.h), for the fields
#: whose data is the varint or the float bits as they are.
_PRIMITIVES = {
    3: _TYPE_FLOAT, 4: _TYPE_DIMENSION, 5: _TYPE_FRACTION,
    7: TYPE_INT_HEX, 9: 0x1C, 10: 0x1D, 11: 0x1E, 12: 0x1F, 13: _TYPE_DIMENSION,
    14: _TYPE_FRACTION,
}  # fmt: skip
#: ``Configuration`` fields every device matches for resolution (density, sdk_version);
#: ``product`` (25) is build-time only (aapt2 keeps the default product in a bundle).
_GENERIC_FIELDS = frozenset({18, 24})
_PRODUCT = 25
_LOCALE = 3

Span = tuple[int, int]


class RespbError(WireError):
    """resources.pb is malformed (not a protobuf ``ResourceTable`` we can walk)."""


class ProtoResourceTable:
    """The lazily parsed index of a ``resources.pb``; values are decoded on demand."""

    NAME = "resources.pb"

    def __init__(self, data: bytes) -> None:
        if len(data) > MAX_TABLE_SIZE:
            raise RespbError(f"resources.pb: larger than {MAX_TABLE_SIZE} bytes")
        self.data = data
        #: protobuf fields visited so far (work done, for tests and benchmarks).
        self.steps = 0
        #: package id -> type id -> the spans of its ``Type`` messages, in table order.
        self.types: dict[int, dict[int, list[Span]]] = {}
        self._entries: dict[Span, dict[int, Span]] = {}
        self._texts: list[str | None] = []
        self._text_at: dict[int, int] = {}
        packages = 0
        for number, wire, value in self._fields(0, len(data), "resource table"):
            if number != 2 or wire != WIRE_LENGTH:
                continue
            packages += 1
            if packages > MAX_PACKAGES:
                raise RespbError(f"resources.pb: more than {MAX_PACKAGES} packages")
            self._package(_span(value))

    def _fields(self, start: int, end: int, what: str) -> list[tuple[int, int, int | Span]]:
        try:
            found = list(fields(self.data, start, end, f"resources.pb: {what}"))
        except WireError as exc:
            raise RespbError(exc.detail) from None
        self.steps += len(found)
        return found

    def _id(self, span: Span, what: str) -> int:
        """The ``uint32 id = 1`` of a PackageId/TypeId/EntryId message: 0 when the field
        is not written, as proto3 never writes a zero (aapt2's entry 0 of every type is an
        empty ``EntryId`` message)."""
        found = 0
        for number, wire, value in self._fields(*span, what):
            if number == 1 and wire == WIRE_VARINT and isinstance(value, int):
                found = value & 0xFFFFFFFF
        return found

    def _package(self, span: Span) -> None:
        package_id: int | None = None
        types: list[Span] = []
        for number, wire, value in self._fields(*span, "package"):
            if wire != WIRE_LENGTH:
                continue
            if number == 1:
                package_id = self._id(_span(value), "package id")
            elif number == 3:
                types.append(_span(value))
                if len(types) > MAX_TYPES:
                    raise RespbError(f"resources.pb: a package has more than {MAX_TYPES} types")
        if package_id is None or package_id in self.types:
            return  # unassigned id, or a second package with one id: the first one wins
        by_id: dict[int, list[Span]] = {}
        for type_span in types:
            type_id = self._type_id(type_span)
            if type_id is not None:
                by_id.setdefault(type_id, []).append(type_span)
        self.types[package_id] = by_id

    def _type_id(self, span: Span) -> int | None:
        """A ``Type``'s id, read from its first fields (aapt2 writes it first)."""
        start, end = span
        for number, wire, value in _first_fields(self.data, start, end):
            self.steps += 1
            if number == 1 and wire == WIRE_LENGTH:
                return self._id(_span(value), "type id")
        # Not written first: walk every field (still linear in the type's size).
        for number, wire, value in self._fields(start, end, "type"):
            if number == 1 and wire == WIRE_LENGTH:
                return self._id(_span(value), "type id")
        return None

    def _entry_index(self, span: Span) -> dict[int, Span]:
        index = self._entries.get(span)
        if index is not None:
            return index
        index = {}
        for number, wire, value in self._fields(*span, "type"):
            if number != 3 or wire != WIRE_LENGTH:
                continue
            entry = _span(value)
            entry_id = self._entry_id(entry)
            if entry_id is not None:
                index.setdefault(entry_id, entry)
        self._entries[span] = index
        return index

    def _entry_id(self, span: Span) -> int | None:
        for number, wire, value in _first_fields(self.data, *span):
            self.steps += 1
            if number == 1 and wire == WIRE_LENGTH:
                return self._id(_span(value), "entry id")
        # Not written first: walk every field (linear in the entry's size).
        for number, wire, value in self._fields(*span, "entry"):
            if number == 1 and wire == WIRE_LENGTH:
                return self._id(_span(value), "entry id")
        return None

    def candidates(self, res_id: int) -> list[Candidate]:
        """Every configuration's value of ``res_id`` (0xPPTTEEEE), in table order."""
        found: list[Candidate] = []
        for type_span in self.types.get(res_id >> 24, {}).get((res_id >> 16) & 0xFF, []):
            entry = self._entry_index(type_span).get(res_id & 0xFFFF)
            if entry is None:
                continue
            for number, wire, value in self._fields(*entry, "entry"):
                if number == 6 and wire == WIRE_LENGTH:
                    found.append(self._config_value(_span(value)))
        return found

    def _config_value(self, span: Span) -> Candidate:
        config = Config(language="", country="", is_default=True, is_generic=True)
        value: ResValue | None = None
        for number, wire, field in self._fields(*span, "config value"):
            if wire != WIRE_LENGTH:
                continue
            if number == 1:
                config = self._config(_span(field))
            elif number == 2:
                value = self._value(_span(field))
        return Candidate(config=config, value=value)

    def _config(self, span: Span) -> Config:
        language = country = ""
        default = generic = True
        for number, wire, value in self._fields(*span, "configuration"):
            if number == _PRODUCT or value in (0, (0, 0)) or (
                wire == WIRE_LENGTH and _span(value)[0] == _span(value)[1]
            ):
                continue  # proto3 never writes a zero; a zero written is the same as unset
            default = False
            if number == _LOCALE and wire == WIRE_LENGTH:
                generic = False
                language, country = _bcp47(self._utf8(_span(value)) or "")
            elif number not in _GENERIC_FIELDS:
                generic = False
        return Config(language=language, country=country, is_default=default,
                      is_generic=generic)

    def _value(self, span: Span) -> ResValue | None:
        """A ``Value``'s item as a ``Res_value``; None for a compound (bag) value."""
        item: Span | None = None
        for number, wire, value in self._fields(*span, "value"):
            if number == 4 and wire == WIRE_LENGTH:
                item = _span(value)
            elif number == 5 and wire == WIRE_LENGTH:
                item = None
        return None if item is None else self._item(item)

    def _item(self, span: Span) -> ResValue:
        result = ResValue(data_type=TYPE_NULL, data=0)
        for number, wire, value in self._fields(*span, "item"):
            if wire != WIRE_LENGTH:
                continue
            inner = _span(value)
            if number == 1:
                result = self._reference(inner)
            elif number in (2, 3, 4, 5):  # str, raw_str, styled_str (spans dropped), file
                result = ResValue(data_type=TYPE_STRING, data=self._text(inner))
            elif number == 6:
                result = ResValue(data_type=TYPE_INT_BOOLEAN, data=0)  # aapt2 Id::Flatten
            elif number == 7:
                result = self._primitive(inner)
        return result

    def _reference(self, span: Span) -> ResValue:
        kind = ref_id = 0
        dynamic = False
        for number, wire, value in self._fields(*span, "reference"):
            if number == 1 and wire == WIRE_VARINT and isinstance(value, int):
                kind = value
            elif number == 2 and wire == WIRE_VARINT and isinstance(value, int):
                ref_id = value & 0xFFFFFFFF
            elif number == 5 and wire == WIRE_LENGTH:
                dynamic = self._id(_span(value), "boolean") != 0
        if kind == 1:
            return ResValue(data_type=_TYPE_DYNAMIC_ATTRIBUTE if dynamic else TYPE_ATTRIBUTE,
                            data=ref_id)
        return ResValue(data_type=TYPE_DYNAMIC_REFERENCE if dynamic else TYPE_REFERENCE,
                        data=ref_id)

    def _primitive(self, span: Span) -> ResValue:
        result = ResValue(data_type=TYPE_NULL, data=0)  # DATA_NULL_UNDEFINED
        for number, wire, value in self._fields(*span, "primitive"):
            if not isinstance(value, int) or wire not in (WIRE_VARINT, WIRE_FIXED32):
                result = ResValue(data_type=TYPE_NULL, data=1 if number == 2 else 0)
                continue
            if number == 6:
                result = ResValue(data_type=TYPE_INT_DEC, data=as_int32(value) & 0xFFFFFFFF)
            elif number == 8:
                result = ResValue(data_type=TYPE_INT_BOOLEAN, data=0xFFFFFFFF if value else 0)
            elif number in _PRIMITIVES:
                result = ResValue(data_type=_PRIMITIVES[number], data=value & 0xFFFFFFFF)
        return result

    def _utf8(self, span: Span) -> str | None:
        start, end = span
        if end - start > MAX_STRING_BYTES:
            return None
        return self.data[start:end].decode("utf-8", errors="replace")

    def _text(self, span: Span) -> int:
        """The handle (for ``string``) of the ``value``/``path`` string of a message."""
        known = self._text_at.get(span[0])
        if known is not None:
            return known
        text: str | None = ""
        for number, wire, value in self._fields(*span, "string"):
            if number == 1 and wire == WIRE_LENGTH:
                text = self._utf8(_span(value))
        self._text_at[span[0]] = len(self._texts)
        self._texts.append(text)
        return len(self._texts) - 1

    def string(self, index: int) -> str | None:
        """The string a ``TYPE_STRING`` value of this table stands for (None: bad string)."""
        return self._texts[index] if 0 <= index < len(self._texts) else None


def _span(value: int | Span) -> Span:
    if isinstance(value, tuple):  # length-delimited fields carry spans (protowire)
        return value
    raise RespbError("resources.pb: a length-delimited field without a span")


def _first_fields(data: bytes, start: int, end: int) -> list[tuple[int, int, int | Span]]:
    """The first two fields of a message (or fewer), for ids that aapt2 writes first."""
    found: list[tuple[int, int, int | Span]] = []
    try:
        for field in fields(data, start, end, "resources.pb"):
            found.append(field)
            if len(found) == 2:
                break
    except WireError as exc:
        raise RespbError(exc.detail) from None
    return found


def _bcp47(tag: str) -> tuple[str, str]:
    """(language, region) of a BCP-47 tag as aapt2 writes it (``ru``, ``pt-BR``,
    ``sr-Latn-RS``); a script or variant does not change the pair."""
    parts = tag.replace("_", "-").split("-")
    language = parts[0].lower() if parts[0].isalpha() and 2 <= len(parts[0]) <= 3 else ""
    region = next(
        (p.upper() for p in parts[1:] if (len(p) == 2 and p.isalpha()) or
         (len(p) == 3 and p.isdigit())), "",
    )
    return language, region

