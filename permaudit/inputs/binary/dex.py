"""Read the id tables of one DEX file (strings, types, methods, class definitions), hostile-first.

Why our own reader: androguard's ``androguard.core.dex.DEX`` parses every class, method and
code item into Python objects. Measured on this machine (2 shared cores, load ~5, 2026-12-03)
over the corpus's 177 DEX files (142 MB): importing it costs 0.37-0.48 s and ``DEX(data)``
0.60-0.85 s per MB (85-120 s in all); this reader takes 33-52 ms per MB (the largest DEX,
14.6 MB, in 0.45-0.75 s), against the goal of a whole 60-80 MB multi-DEX scan in 1 s.
Static evidence only needs the id tables, flat arrays of little-endian integers:
``struct.unpack_from`` reads each table in one call, and string data laid out as d8 writes
it (back to back, in ``string_ids`` order) is verified and decoded in bulk, the few
non-ASCII or long strings one by one (1.2-1.75x faster than string by string over the
510k strings of a 71 MB multi-DEX APK, paired, same result; anything else one by one).

What is read (DEX format, source.android.com/docs/core/runtime/dex-format):
* the header (0x70 bytes): magic ``dex\\n`` + version ``035``..``041`` + NUL, ``file_size``
  (not more than the bytes we have; fewer bytes after it is a note), ``header_size`` 0x70
  (0x78 allowed for 041's container header), ``endian_tag`` 0x12345678 (the reverse tag is
  refused: no shipped runtime reads byte-swapped DEX). The Adler-32 checksum over bytes 12..
  ``file_size`` is checked; a mismatch is ``checksum_ok=False`` (tamper evidence, Android's
  installer re-verifies and dex2oat rejects it, but many tools never look);
* ``string_ids`` and their ``string_data_item`` (ULEB128 UTF-16 length, then MUTF-8 bytes up
  to a NUL): MUTF-8 as the spec defines it: 1-, 2- and 3-byte forms over UTF-16 code units,
  ``C0 80`` for U+0000, supplementary characters as two 3-byte surrogates (joined into one
  code point when they pair; a lone surrogate is kept as is, as in Java), 4-byte forms and
  bad continuation bytes are errors; the decoded UTF-16 length must equal the declared one;
* ``type_ids`` (string indices), ``method_ids`` (class type, proto, name string) and
  ``class_defs`` (the defined class's type); ``proto_ids`` are not needed and only checked
  for bounds.

Every count and offset is checked against the file before a table is read (``DexError``,
a ``ManifestError`` subclass so callers turn it into a note naming the entry). Work is
linear in the file size: each table is at most ``file_size`` bytes, and string data scans
share one budget of ``2 * file_size`` bytes, so overlapping or repeated string offsets
cannot make decoding quadratic (repeated offsets are decoded once).
"""

from __future__ import annotations

import operator
import re
import struct
import zlib
from itertools import compress, islice, repeat

from permaudit._infra.records import record
from permaudit.errors import InputError

HEADER_SIZE = 0x70
HEADER_SIZE_V41 = 0x78
ENDIAN_CONSTANT = 0x12345678
REVERSE_ENDIAN_CONSTANT = 0x78563412
VERSIONS = ("035", "036", "037", "038", "039", "040", "041")
NO_INDEX = 0xFFFFFFFF

# magic(8) checksum signature(20) file_size header_size endian link(2) map
# string_ids(2) type_ids(2) proto_ids(2) field_ids(2) method_ids(2) class_defs(2) data(2)
_HEADER = struct.Struct("<8sI20sIII" + "I" * 17)


class DexError(InputError):
    """A DEX file that cannot be read: the message says what is wrong and where."""


@record
class DexFile:
    """The id tables of one DEX file, as indices into its own string and type tables."""

    version: str
    size: int
    checksum_ok: bool
    strings: tuple[str, ...]
    #: Type descriptors, ``Lcom/example/Foo;``, ``[I``.
    types: tuple[str, ...]
    #: ``(class type index, name string index)`` per ``method_id_item``.
    methods: tuple[tuple[int, int], ...]
    #: Type index of each ``class_def_item``'s class, in file order.
    class_defs: tuple[int, ...]
    #: Caveats: bytes after ``file_size``, and the like.
    notes: tuple[str, ...] = ()


@record
class DexHeader:
    """A checked DEX header: the file's bytes (up to ``file_size``) and where each table is.

    Every table named here lies inside the file, 4-byte aligned (``_table``); indices inside
    the tables are not checked yet.
    """

    version: str
    size: int
    checksum_ok: bool
    #: ``data`` itself, or its first ``file_size`` bytes when bytes follow the file.
    view: bytes
    strings: tuple[int, int]
    types: tuple[int, int]
    methods: tuple[int, int]
    classes: tuple[int, int]
    notes: tuple[str, ...] = ()


def read_header(data: bytes) -> DexHeader:
    """The checked header of ``data`` (one whole DEX file); ``DexError`` naming the problem."""
    if len(data) < HEADER_SIZE:
        raise DexError(f"DEX is {len(data)} bytes, shorter than its {HEADER_SIZE}-byte header")
    fields = _HEADER.unpack_from(data, 0)
    magic, checksum, _signature, file_size, header_size, endian = fields[:6]
    (_link_size, _link_off, _map_off, strings_n, strings_off, types_n, types_off, protos_n,
     protos_off, fields_n, fields_off, methods_n, methods_off, classes_n, classes_off,
     _data_size, _data_off) = fields[6:]
    version = _version(magic)
    if endian == REVERSE_ENDIAN_CONSTANT:
        raise DexError("DEX is byte-swapped (endian_tag 0x78563412), which no runtime reads")
    if endian != ENDIAN_CONSTANT:
        raise DexError(f"DEX endian_tag is {endian:#x}, not 0x12345678")
    allowed = (HEADER_SIZE, HEADER_SIZE_V41) if version == "041" else (HEADER_SIZE,)
    if header_size not in allowed:
        raise DexError(f"DEX header_size is {header_size:#x}, not {HEADER_SIZE:#x}")
    if file_size > len(data):
        raise DexError(f"DEX file_size {file_size} is past the end of the {len(data)}-byte entry")
    if file_size < header_size:
        raise DexError(f"DEX file_size {file_size} is smaller than its header")
    notes = []
    if file_size < len(data):
        notes.append(f"{len(data) - file_size} bytes after the DEX file_size are ignored")
    view = data[:file_size] if file_size < len(data) else data
    checksum_ok = zlib.adler32(memoryview(view)[12:]) == checksum
    _table(file_size, header_size, "string_ids", strings_n, strings_off, 4)
    _table(file_size, header_size, "type_ids", types_n, types_off, 4)
    _table(file_size, header_size, "proto_ids", protos_n, protos_off, 12)
    _table(file_size, header_size, "field_ids", fields_n, fields_off, 8)
    _table(file_size, header_size, "method_ids", methods_n, methods_off, 8)
    _table(file_size, header_size, "class_defs", classes_n, classes_off, 32)
    if types_n > 0xFFFF:
        raise DexError(f"DEX type_ids_size {types_n} is more than 65535")
    if protos_n > 0xFFFF:
        raise DexError(f"DEX proto_ids_size {protos_n} is more than 65535")
    # An empty table's offset is not looked at (the format says 0; a file may say anything).
    return DexHeader(
        version=version, size=file_size, checksum_ok=checksum_ok, view=view,
        strings=(strings_n, strings_off if strings_n else 0),
        types=(types_n, types_off if types_n else 0),
        methods=(methods_n, methods_off if methods_n else 0),
        classes=(classes_n, classes_off if classes_n else 0), notes=tuple(notes),
    )


def read_dex(data: bytes) -> DexFile:
    """Parse ``data`` (one whole DEX file); ``DexError`` naming the first problem found.

    Every string is decoded and validated (the oracle tests and the fuzz harness use this;
    a code scan reads through ``dex_ids.read_dex_ids``, which decodes only what it needs).
    """
    head = read_header(data)
    view, file_size = head.view, head.size
    strings_n, strings_off = head.strings
    types_n, types_off = head.types
    methods_n, methods_off = head.methods
    classes_n, classes_off = head.classes
    strings = _strings(view, file_size, strings_n, strings_off)
    type_strings = check_types(view, strings_n, types_n, types_off)
    types = tuple(strings[s] for s in type_strings)
    raw = struct.unpack_from("<" + "HHI" * methods_n, view, methods_off)
    method_classes, method_names = raw[0::3], raw[2::3]
    if methods_n and (max(method_classes) >= types_n or max(method_names) >= strings_n):
        raise DexError(method_error(types_n, strings_n))
    methods = tuple(zip(method_classes, method_names, strict=True))
    class_defs = check_class_defs(view, types_n, classes_n, classes_off)
    return DexFile(
        version=head.version, size=file_size, checksum_ok=head.checksum_ok, strings=strings,
        types=types, methods=methods, class_defs=class_defs, notes=head.notes,
    )


def check_types(view: bytes, strings_n: int, types_n: int, types_off: int) -> tuple[int, ...]:
    """The string index of each ``type_id_item``; ``DexError`` if one is out of range."""
    type_strings: tuple[int, ...] = struct.unpack_from(f"<{types_n}I", view, types_off)
    bad = next((i for i, s in enumerate(type_strings) if s >= strings_n), None)
    if bad is not None:
        raise DexError(f"DEX type_ids[{bad}] names string {type_strings[bad]} of {strings_n}")
    return type_strings


def method_error(types_n: int, strings_n: int) -> str:
    """The message for a ``method_id_item`` naming a type or string past its table."""
    return (f"DEX method_ids name a type or string past the {types_n} types and "
            f"{strings_n} strings")


def check_class_defs(view: bytes, types_n: int, classes_n: int, classes_off: int
                     ) -> tuple[int, ...]:
    """The type index of each ``class_def_item``; ``DexError`` if one is out of range."""
    class_defs: tuple[int, ...] = struct.unpack_from(f"<{classes_n * 8}I", view,
                                                     classes_off)[0::8]
    bad = next((i for i, t in enumerate(class_defs) if t >= types_n), None)
    if bad is not None:
        raise DexError(f"DEX class_defs[{bad}] names type {class_defs[bad]} of {types_n}")
    return class_defs


def _version(magic: bytes) -> str:
    if magic[:4] != b"dex\n" or magic[7:8] != b"\0":
        raise DexError(f"not a DEX file (magic {magic!r})")
    version = magic[4:7].decode("latin-1")
    if version not in VERSIONS:
        raise DexError(f"DEX version {version!r} is not one of 035..041")
    return version


def _table(file_size: int, header_size: int, name: str, count: int, offset: int, item: int) -> None:
    """``DexError`` unless ``count`` items of ``item`` bytes at ``offset`` lie inside the file."""
    if count == 0:
        return
    if offset < header_size or offset + count * item > file_size:
        raise DexError(
            f"DEX {name}: {count} items at offset {offset:#x} run past the {file_size}-byte file"
        )
    if offset % 4:
        raise DexError(f"DEX {name} offset {offset:#x} is not 4-byte aligned")


def _strings(data: bytes, file_size: int, count: int, offset: int) -> tuple[str, ...]:
    """Decode every ``string_data_item``: in bulk when laid out as d8 writes them, else each."""
    offsets = struct.unpack_from(f"<{count}I", data, offset)
    bulk = _strings_contiguous(data, file_size, offsets)
    return bulk if bulk is not None else _strings_each(data, file_size, offsets)


def _strings_contiguous(
    data: bytes, file_size: int, offsets: tuple[int, ...]
) -> tuple[str, ...] | None:
    """The strings when their items are back to back in ``string_ids`` order, else ``None``.

    d8 and dx write ``string_data_item``s contiguously, sorted like ``string_ids``, so item
    ``i`` spans ``offsets[i]`` up to ``offsets[i + 1]``. That layout is verified with
    C-level passes over the whole table (offsets strictly increasing; every span ends in a
    NUL and holds no other NUL than an empty string's length byte), then each span whose
    one-byte length equals its byte count is ASCII-decoded in bulk, and only the others
    (non-ASCII, 128+ units) go through ``string_item``. Anything unexpected returns
    ``None`` and the caller decodes string by string, which reports the exact fault. The
    result equals ``_strings_each`` whenever that succeeds (tests/inputs/binary/test_dex.py).
    Why: the per-string loop costs ~1.5 us a string; a 71 MB multi-DEX APK has 510k of them.
    """
    count = len(offsets)
    if count == 0 or offsets[0] < HEADER_SIZE:
        return None
    if not all(map(operator.lt, offsets, islice(offsets, 1, None))):
        return None  # shared or out-of-order items: decoded one by one
    last = offsets[-1]
    if last >= file_size:
        return None
    try:
        _, last_start = uleb128(data, last, file_size, count - 1)
    except DexError:
        return None
    last_end = data.find(b"\0", last_start, file_size)
    if last_end < 0:
        return None
    ends = (*islice(offsets, 1, None), last_end + 1)
    lengths = list(map(operator.sub, ends, offsets))
    if min(lengths) < 2:
        return None
    get = data.__getitem__
    if bytes(map(get, map(operator.sub, ends, repeat(1)))).count(0) != count:
        return None  # a span that does not end in its NUL
    firsts = bytes(map(get, offsets))
    base = offsets[0]
    if data.count(b"\0", base, last_end + 1) != count + firsts.count(0):
        return None  # a NUL inside a string: items are not back to back
    simple = list(map(operator.and_,
                      map(operator.eq, firsts, map(operator.sub, lengths, repeat(2))),
                      map(operator.lt, firsts, repeat(0x80))))
    # One latin-1 decode of the whole region, then one str slice per string.
    region = data[base:last_end + 1].decode("latin-1")
    starts = map(operator.sub, offsets, repeat(base - 1))  # after the one-byte length
    stops = map(operator.sub, ends, repeat(base + 1))  # before the NUL
    texts = list(map(region.__getitem__, map(slice, starts, stops)))
    if not "".join(compress(texts, simple)).isascii():
        return None  # equal byte and unit counts but not ASCII: malformed, reported each
    for index in compress(range(count), map(operator.not_, simple)):
        texts[index] = string_item(data, file_size, offsets[index], index, file_size)[0]
    return tuple(texts)


def string_item(
    data: bytes, file_size: int, at: int, index: int, budget: int
) -> tuple[str, int]:
    """The string of the item at ``at`` and the bytes its scan used (at most ``budget``)."""
    if not HEADER_SIZE <= at < file_size:
        raise DexError(f"DEX string_ids[{index}] offset {at:#x} is outside the file")
    length = data[at]
    if length < 0x80:
        start = at + 1
    else:
        length, start = uleb128(data, at, file_size, index)
    end = data.find(b"\0", start, min(file_size, start + budget + 1))
    if end < 0:
        if start + budget + 1 < file_size:
            raise DexError("DEX string data overlaps: more string bytes than the file has")
        raise DexError(f"DEX string {index} at {at:#x} runs off the end of the file")
    raw = data[start:end]
    if raw.isascii():
        text, units = raw.decode("ascii"), end - start
    else:
        text = decode_mutf8(raw, index)
        units = _utf16_length(text)
    if units != length:
        raise DexError(
            f"DEX string {index} decodes to {units} UTF-16 units, its header says {length}"
        )
    return text, end - start


def _strings_each(data: bytes, file_size: int, offsets: tuple[int, ...]) -> tuple[str, ...]:
    """Decode every ``string_data_item`` one by one; repeated offsets once, scan bounded."""
    budget = 2 * file_size
    decoded: dict[int, str] = {}
    out = []
    for index, at in enumerate(offsets):
        text = decoded.get(at)
        if text is None:
            text, used = string_item(data, file_size, at, index, budget)
            budget -= used
            decoded[at] = text
        out.append(text)
    return tuple(out)


def uleb128(data: bytes, at: int, limit: int, index: int) -> tuple[int, int]:
    """The ULEB128 at ``at`` (before ``limit``) and the offset after it; ``DexError`` if bad."""
    value = 0
    for shift in range(0, 35, 7):
        if at >= limit:
            break
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if value > 0xFFFFFFFF:
                break
            return value, at
    raise DexError(f"DEX string {index}: bad or truncated ULEB128 length")


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_FOUR_BYTE = re.compile(rb"[\xf0-\xff]")
_BELOW_F0 = bytes(range(0xF0))


def decode_mutf8(raw: bytes, index: int = 0) -> str:
    """Decode Modified UTF-8 (no NUL inside) into a str; ``DexError`` on a malformed sequence.

    MUTF-8 is UTF-8 but for ``C0 80`` (U+0000), surrogates encoded one by one in 3 bytes,
    and no 4-byte forms. ``C0`` is never a continuation byte, so replacing ``C0 80`` with a
    NUL is exact; strict UTF-8 then rejects overlong and truncated forms as Android's
    verifier does, ``surrogatepass`` accepts the surrogates, and a UTF-16 round trip joins
    each high+low pair into one code point (a lone surrogate stays, as in Java).
    """
    # Deleting every byte below 0xF0 leaves nothing for MUTF-8: a C pass ~8x faster than
    # the regex scan, which runs only to name the bad byte.
    if raw.translate(None, _BELOW_F0):
        bad = _FOUR_BYTE.search(raw)
        at = bad.start() if bad is not None else 0
        raise DexError(f"DEX string {index}: byte {raw[at]:#04x} at {at} is not MUTF-8")
    try:
        text = raw.replace(b"\xc0\x80", b"\0").decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise DexError(f"DEX string {index}: bad MUTF-8 sequence at byte {exc.start}") from None
    if b"\xed" in raw:
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return text


def java_name(descriptor: str) -> str | None:
    """``com.example.Foo`` for ``Lcom/example/Foo;`` (array dimensions dropped); else ``None``."""
    base = descriptor.lstrip("[")
    if len(base) < 3 or base[0] != "L" or base[-1] != ";":
        return None
    return base[1:-1].replace("/", ".")
