"""Read ``resources.arsc`` just enough to resolve a few ``@0x7f...`` references.

Why our own reader (``bench/bench_resources.py``, docs/performance.md, issue 12 section;
2026-12-06, androguard 4.1.4, fresh processes, load 1.3-1.6): ``from androguard.core.axml
import ARSCParser`` costs 92-101 ms; ``ARSCParser(data)`` decodes the whole table eagerly,
273 ms for the 4.4 MB table of ``SystemWebView-repack.apk`` and 0.65 s over the corpus'
107 tables, where permaudit's whole resource step (read, index, resolve, res/xml, icon)
takes 20 ms and 65 ms (ratios 13.7 and 9.9, median per round). The issue's budget is
30 ms for a 150 MB APK, so androguard is an oracle here, not the reader.

This reader indexes chunk *headers* only (packages, type chunks and their configs) and
decodes an entry, a value or a string only when asked. Behaviour follows
``ResTable``/``ResStringPool`` (frameworks/base libs/androidfw/ResourceTypes.cpp):

* every chunk: ``8 <= headerSize <= size``, chunk within its parent, else ``ArscError``;
* string pools: count and offsets checked against the pool, length prefixes checked,
  at most ``MAX_STRING_BYTES`` decoded per string; a bad string reads as ``None``;
* type chunks: ``entryCount`` and ``entriesStart`` checked against the chunk (a chunk
  that claims 2**31 entries or 65,535 configurations only costs its own size);
  sparse (``FLAG_SPARSE``) and 16-bit offset (``FLAG_OFFSET16``) tables and compact
  entries (``FLAG_COMPACT``) are supported;
* at most ``MAX_TYPE_CHUNKS`` type chunks are indexed; work is linear in the table size.

Reference chains are followed by ``permaudit.inputs.resources``, bounded there.
"""

from __future__ import annotations

import struct

from permaudit._infra.records import record
from permaudit.errors import InputError

RES_STRING_POOL = 0x0001
RES_TABLE = 0x0002
RES_TABLE_PACKAGE = 0x0200
RES_TABLE_TYPE = 0x0201
RES_TABLE_TYPE_SPEC = 0x0202

TYPE_NULL = 0x00
TYPE_REFERENCE = 0x01
TYPE_ATTRIBUTE = 0x02
TYPE_STRING = 0x03
TYPE_DYNAMIC_REFERENCE = 0x07
TYPE_INT_DEC = 0x10
TYPE_INT_HEX = 0x11
TYPE_INT_BOOLEAN = 0x12
DENSITY_ANY = 0xFFFE
DENSITY_NONE = 0xFFFF

FLAG_COMPLEX = 0x0001
FLAG_COMPACT = 0x0008
TYPE_FLAG_SPARSE = 0x01
TYPE_FLAG_OFFSET16 = 0x02
NO_ENTRY = 0xFFFFFFFF

MAX_STRING_BYTES = 64 * 1024
MAX_TYPE_CHUNKS = 200_000
MAX_PACKAGES = 256


class ArscError(InputError):
    """resources.arsc is malformed in a way Android would reject."""


@record
class ResValue:
    """One ``Res_value``: Android's type code and 32-bit data."""

    data_type: int
    data: int


@record
class Config:
    """The parts of ``ResTable_config`` resolution here needs."""

    language: str
    country: str
    is_default: bool
    #: only density and/or platform-version qualifiers, which every device matches
    is_generic: bool
    #: ``density`` (0: none, ``DENSITY_ANY`` anydpi, ``DENSITY_NONE`` nodpi) and
    #: ``sdkVersion`` (the ``-vN`` qualifier, 0: none), for picking a drawable
    density: int = 0
    sdk: int = 0


@record
class Candidate:
    """An entry's value in one configuration; ``value`` is None for a complex (bag) entry."""

    config: Config
    value: ResValue | None


def _u16(data: bytes, pos: int) -> int:
    return int(struct.unpack_from("<H", data, pos)[0])


def _u32(data: bytes, pos: int) -> int:
    return int(struct.unpack_from("<I", data, pos)[0])


def _chunk(data: bytes, pos: int, end: int, what: str) -> tuple[int, int, int]:
    """Return (type, header_size, size) of the chunk at ``pos``, validated within ``end``."""
    if pos + 8 > end:
        raise ArscError(f"resources.arsc: {what} chunk header past the end at {pos}")
    ctype, hsize, size = struct.unpack_from("<HHI", data, pos)
    if hsize < 8 or hsize > size or pos + size > end:
        raise ArscError(
            f"resources.arsc: {what} chunk at {pos} has bad sizes (header {hsize}, size {size})"
        )
    return int(ctype), int(hsize), int(size)


class StringPool:
    """A ``ResStringPool`` decoded lazily; ``get`` returns None for a bad index or string."""

    def __init__(self, data: bytes, pos: int, what: str, end: int) -> None:
        ctype, hsize, size = _chunk(data, pos, end, what)
        if ctype != RES_STRING_POOL or hsize < 28:
            raise ArscError(f"resources.arsc: {what} is not a string pool (type {ctype:#x})")
        count, _styles, flags, strings_start, _styles_start = struct.unpack_from(
            "<IIIII", data, pos + 8
        )
        self.data = data
        self.end = pos + size
        if pos + hsize + 4 * count > self.end:
            raise ArscError(f"resources.arsc: {what} claims {count} strings, more than fit")
        if count and pos + strings_start > self.end:
            raise ArscError(f"resources.arsc: {what} strings start past the pool")
        self.count = int(count)
        self.offsets_at = pos + hsize
        self.strings_at = pos + int(strings_start)
        self.utf8 = bool(flags & 0x100)

    def get(self, index: int) -> str | None:
        if not 0 <= index < self.count:
            return None
        pos = self.strings_at + _u32(self.data, self.offsets_at + 4 * index)
        try:
            return self._utf8(pos) if self.utf8 else self._utf16(pos)
        except (struct.error, UnicodeDecodeError, IndexError):
            return None

    def _utf8(self, pos: int) -> str | None:
        data, end = self.data, self.end
        for _ in range(2):  # character count, then byte count
            if pos >= end:
                return None
            first = data[pos]
            pos += 1
            if first & 0x80:
                if pos >= end:
                    return None
                length = ((first & 0x7F) << 8) | data[pos]
                pos += 1
            else:
                length = first
        if length > MAX_STRING_BYTES or pos + length >= end or data[pos + length] != 0:
            return None
        return data[pos : pos + length].decode("utf-8", errors="replace")

    def _utf16(self, pos: int) -> str | None:
        data, end = self.data, self.end
        if pos + 2 > end:
            return None
        length = _u16(data, pos)
        pos += 2
        if length & 0x8000:
            if pos + 2 > end:
                return None
            length = ((length & 0x7FFF) << 16) | _u16(data, pos)
            pos += 2
        if 2 * length > MAX_STRING_BYTES or pos + 2 * length + 2 > end:
            return None
        if _u16(data, pos + 2 * length) != 0:
            return None
        return data[pos : pos + 2 * length].decode("utf-16-le", errors="replace")


def _config(data: bytes, pos: int, limit: int) -> Config:
    size = _u32(data, pos)
    if size < 12 or pos + size > limit:
        raise ArscError(f"resources.arsc: type config at {pos} has bad size {size}")
    raw = data[pos + 4 : pos + size]
    lang = raw[4:6]
    country = raw[6:8]
    language = lang.decode("ascii", "replace").rstrip("\x00") if lang[0] < 0x80 else ""
    region = country.decode("ascii", "replace").rstrip("\x00") if country[:1] < b"\x80" else ""
    generic = raw[:10] + raw[12:20] + raw[24:]  # drop density and sdkVersion/minorVersion
    return Config(
        language=language, country=region, is_default=not any(raw), is_generic=not any(generic),
        density=_u16(raw, 10) if len(raw) >= 12 else 0,
        sdk=_u16(raw, 20) if len(raw) >= 22 else 0,
    )


class TypeChunk:
    """One ``ResTable_type``: its config and a bounded view of its entry offsets."""

    def __init__(self, data: bytes, pos: int, hsize: int, size: int) -> None:
        if hsize < 20 + 12:
            raise ArscError(f"resources.arsc: type chunk at {pos} header too small ({hsize})")
        self.data = data
        self.pos = pos
        self.end = pos + size
        self.type_id = data[pos + 8]
        self.flags = data[pos + 9]
        self.entry_count = _u32(data, pos + 12)
        entries_start = _u32(data, pos + 16)
        self.config = _config(data, pos + 20, pos + hsize)
        self.offsets_at = pos + hsize
        width = 2 if self.flags & TYPE_FLAG_OFFSET16 and not self.flags & TYPE_FLAG_SPARSE else 4
        if self.offsets_at + width * self.entry_count > self.end:
            raise ArscError(
                f"resources.arsc: type chunk at {pos} claims {self.entry_count} entries, "
                "more than fit"
            )
        self.entries_at = pos + entries_start
        if entries_start > size:
            raise ArscError(f"resources.arsc: type chunk at {pos} entries start past its end")

    def _entry_offset(self, index: int) -> int | None:
        data = self.data
        if self.flags & TYPE_FLAG_SPARSE:
            lo, hi = 0, self.entry_count  # sorted (index, offset/4) pairs: binary search
            while lo < hi:
                mid = (lo + hi) // 2
                key = _u16(data, self.offsets_at + 4 * mid)
                if key == index:
                    return 4 * _u16(data, self.offsets_at + 4 * mid + 2)
                if key < index:
                    lo = mid + 1
                else:
                    hi = mid
            return None
        if not 0 <= index < self.entry_count:
            return None
        if self.flags & TYPE_FLAG_OFFSET16:
            off = _u16(data, self.offsets_at + 2 * index)
            return None if off == 0xFFFF else 4 * off
        off = _u32(data, self.offsets_at + 4 * index)
        return None if off == NO_ENTRY else off

    def value(self, index: int) -> Candidate | None:
        """The entry ``index`` in this configuration, or None when absent or out of range."""
        off = self._entry_offset(index)
        if off is None:
            return None
        pos = self.entries_at + off
        if pos + 8 > self.end:
            raise ArscError(f"resources.arsc: entry {index} at {pos} past its type chunk")
        esize, eflags = struct.unpack_from("<HH", self.data, pos)
        if eflags & FLAG_COMPACT:
            return Candidate(
                config=self.config,
                value=ResValue(data_type=eflags >> 8, data=_u32(self.data, pos + 4)),
            )
        if eflags & FLAG_COMPLEX:
            return Candidate(config=self.config, value=None)
        if esize < 8 or pos + esize + 8 > self.end:
            raise ArscError(f"resources.arsc: entry {index} at {pos} has bad size {esize}")
        vpos = pos + esize
        value = ResValue(data_type=self.data[vpos + 3], data=_u32(self.data, vpos + 4))
        return Candidate(config=self.config, value=value)


class Package:
    """A ``ResTable_package``: its id, key/type pools and type chunks by type id."""

    def __init__(self, data: bytes, pos: int, hsize: int, size: int) -> None:
        if hsize < 12 + 256 + 16:
            raise ArscError(f"resources.arsc: package header at {pos} too small ({hsize})")
        end = pos + size
        self.id = _u32(data, pos + 8)
        self.name = data[pos + 12 : pos + 12 + 256].decode("utf-16-le", "replace").split("\x00")[0]
        type_strings = _u32(data, pos + 268)
        key_strings = _u32(data, pos + 276)
        self.type_names = StringPool(data, pos + type_strings, "type strings", end)
        self.key_names = StringPool(data, pos + key_strings, "key strings", end)
        self.types: dict[int, list[TypeChunk]] = {}
        at = pos + hsize
        seen = 0
        while at < end:
            ctype, chsize, csize = _chunk(data, at, end, "package child")
            if ctype == RES_TABLE_TYPE:
                seen += 1
                if seen > MAX_TYPE_CHUNKS:
                    raise ArscError("resources.arsc: too many type chunks")
                chunk = TypeChunk(data, at, chsize, csize)
                self.types.setdefault(chunk.type_id, []).append(chunk)
            at += csize

    def type_name(self, type_id: int) -> str | None:
        return self.type_names.get(type_id - 1)


class ResourceTable:
    """The parsed index of a resources.arsc; values are decoded on demand."""

    NAME = "resources.arsc"

    def __init__(self, data: bytes) -> None:
        ctype, hsize, size = _chunk(data, 0, len(data), "table")
        if ctype != RES_TABLE or hsize < 12:
            raise ArscError(f"resources.arsc: not a resource table (type {ctype:#x})")
        package_count = _u32(data, 8)
        if package_count > MAX_PACKAGES:
            raise ArscError(f"resources.arsc: claims {package_count} packages")
        self.strings: StringPool | None = None
        self.packages: dict[int, Package] = {}
        at = hsize
        while at < size:
            ctype, chsize, csize = _chunk(data, at, size, "table child")
            if ctype == RES_STRING_POOL and self.strings is None:
                self.strings = StringPool(data, at, "value strings", size)
            elif ctype == RES_TABLE_PACKAGE:
                if len(self.packages) >= MAX_PACKAGES:
                    raise ArscError("resources.arsc: too many packages")
                package = Package(data, at, chsize, csize)
                self.packages.setdefault(package.id, package)
            at += csize

    def candidates(self, res_id: int) -> list[Candidate]:
        """Every configuration's value of ``res_id`` (0xPPTTEEEE), in table order."""
        package = self.packages.get(res_id >> 24)
        if package is None:
            return []
        found: list[Candidate] = []
        for chunk in package.types.get((res_id >> 16) & 0xFF, []):
            candidate = chunk.value(res_id & 0xFFFF)
            if candidate is not None:
                found.append(candidate)
        return found

    def string(self, index: int) -> str | None:
        return None if self.strings is None else self.strings.get(index)
