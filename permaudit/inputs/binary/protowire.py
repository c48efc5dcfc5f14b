"""The protobuf wire format, read in place: varints and the fields of one message, checked.

Shared by the protobuf XML pre-scan (``protoxml``) and the lazy resource table reader
(``respb``). Nothing is allocated from a declared length: a length-delimited field is
returned as a ``(start, end)`` span inside the buffer, after checking that it fits in
its message. Groups (wire types 3 and 4) and invalid wire types are errors, as they are
for protobuf's own decoder; so are truncated and over-long (more than 10 bytes) varints.
"""

from __future__ import annotations

from collections.abc import Iterator

from permaudit.errors import InputError

WIRE_VARINT = 0
WIRE_FIXED64 = 1
WIRE_LENGTH = 2
WIRE_FIXED32 = 5
#: A varint is at most 10 bytes (64 bits, 7 per byte).
MAX_VARINT_BYTES = 10


class WireError(InputError):
    """Bytes that are not a well-formed protobuf message."""


def varint(data: bytes, pos: int, end: int) -> tuple[int, int]:
    """The varint at ``pos`` (before ``end``) and the position after it; ``(-1, end)``
    when truncated or longer than ``MAX_VARINT_BYTES``."""
    value = shift = 0
    while pos < end and shift < 7 * MAX_VARINT_BYTES:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
    return -1, end


#: One field: (number, wire type, value). The value is the integer for varint and fixed
#: fields, and the ``(start, end)`` span of the payload for length-delimited ones.
Field = tuple[int, int, "int | tuple[int, int]"]


def fields(data: bytes, start: int, end: int, what: str) -> Iterator[Field]:
    """The fields of the message in ``data[start:end]``, in wire order (``WireError`` for
    malformed bytes, naming ``what``). Each step consumes at least one byte, so a walk is
    linear in the span."""
    pos = start
    while pos < end:
        at = pos
        key, pos = varint(data, pos, end)
        if key < 0:
            raise WireError(f"{what}: truncated field key at byte {at}")
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError(f"{what}: field number 0 at byte {at}")
        if wire == WIRE_VARINT:
            value, pos = varint(data, pos, end)
            if value < 0:
                raise WireError(f"{what}: truncated varint at byte {at}")
            yield number, wire, value
        elif wire in (WIRE_FIXED64, WIRE_FIXED32):
            width = 8 if wire == WIRE_FIXED64 else 4
            if pos + width > end:
                raise WireError(f"{what}: fixed-width field at byte {at} runs past its message")
            yield number, wire, int.from_bytes(data[pos : pos + width], "little")
            pos += width
        elif wire == WIRE_LENGTH:
            length, pos = varint(data, pos, end)
            if length < 0:
                raise WireError(f"{what}: truncated or over-long length at byte {at}")
            if length > end - pos:
                raise WireError(
                    f"{what}: field {number} at byte {at} declares {length} bytes, "
                    f"more than its message holds ({end - pos})"
                )
            yield number, wire, (pos, pos + length)
            pos += length
        else:
            raise WireError(f"{what}: unsupported wire type {wire} at byte {at}")


def as_int32(value: int) -> int:
    """A varint as protobuf's ``int32`` (negative values are 10-byte two's complement)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value
