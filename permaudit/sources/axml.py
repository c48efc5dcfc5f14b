"""Decode binary XML (AXML) into an ``xmltree.Element`` the way Android's ResXMLTree does.

Why our own decoder: importing ``androguard.core.axml`` costs ~170 ms and 36 MiB RSS
(loguru + lxml + its resource tables) and its parser logs through loguru;
``apkInspector.axml`` calls ``logging.basicConfig(DEBUG)`` at import (an import side
effect) and resolves attributes by name string, which is not what Android does. This
module needs only ``struct``.

Behaviour follows ``ResXMLTree::setTo``/``ResXMLParser::nextNode``/``ResStringPool``
(frameworks/base libs/androidfw/ResourceTypes.cpp):

* the outer chunk's *type* is never checked; only ``headerSize <= size <= len(data)``;
* chunks are validated like ``validate_chunk`` (header size >= minimum, header size <=
  size, both 4-byte aligned, chunk within the data); XML nodes additionally need a
  header of at least ``sizeof(ResXMLTree_node)`` (16) and START nodes attributes that fit;
* before the first XML node, string pools and the resource map are picked up and unknown
  chunks skipped; after it, unknown node types are skipped (``nextNode`` ``continue``);
* an attribute's resource id is ``resIds[name_index]`` when the index is below the map's
  count, else 0; attributes are read with the file's own ``attributeStart``/``attributeSize``;
* strings are UTF-8 or UTF-16 with Android's length encodings; a string that is out of
  range or not NUL-terminated reads as ``None`` (``stringAt`` returns NULL), while a pool
  whose last string is not terminated is an error for the whole document;
* the framework's pull parser stops at the root element's END tag, so whatever follows
  it (e.g. a zero-sized END_NAMESPACE chunk) is never read; a document that ends before
  the root closes is accepted as Android's parser loops run to END_DOCUMENT.

Hostile input ends in bounded time: at most ``MAX_ELEMENTS`` elements and ``MAX_DEPTH``
nesting, every loop advances by a validated, non-zero chunk size.
"""

from __future__ import annotations

import struct

from permaudit.errors import ManifestError
from permaudit.sources.xmltree import Attribute, Element, TypedValue

RES_STRING_POOL_TYPE = 0x0001
RES_XML_TYPE = 0x0003
RES_XML_FIRST_CHUNK_TYPE = 0x0100
RES_XML_START_NAMESPACE_TYPE = 0x0100
RES_XML_END_NAMESPACE_TYPE = 0x0101
RES_XML_START_ELEMENT_TYPE = 0x0102
RES_XML_END_ELEMENT_TYPE = 0x0103
RES_XML_CDATA_TYPE = 0x0104
RES_XML_LAST_CHUNK_TYPE = 0x017F
RES_XML_RESOURCE_MAP_TYPE = 0x0180

UTF8_FLAG = 1 << 8
NO_INDEX = 0xFFFFFFFF

MAX_ELEMENTS = 200_000
MAX_DEPTH = 1000

_CHUNK = struct.Struct("<HHI")
_POOL = struct.Struct("<IIIII")  # stringCount, styleCount, flags, stringsStart, stylesStart
_NODE = struct.Struct("<II")  # lineNumber, comment
_ATTR_EXT = struct.Struct("<IIHHH")  # ns, name, attributeStart, attributeSize, attributeCount
_ATTRIBUTE = struct.Struct("<IIIHBBI")  # ns, name, rawValue, size, res0, dataType, data
_NODE_HEADER_SIZE = 16
_MIN_EXT = {
    RES_XML_START_NAMESPACE_TYPE: 8,
    RES_XML_END_NAMESPACE_TYPE: 8,
    RES_XML_START_ELEMENT_TYPE: 20,
    RES_XML_END_ELEMENT_TYPE: 8,
    RES_XML_CDATA_TYPE: 12,
}


def parse_axml(data: bytes) -> Element:
    """Decode ``data`` and return the root element; ``ManifestError`` if Android would fail."""
    try:
        return _Decoder(data).root()
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        raise ManifestError(f"binary XML is corrupt ({exc})") from exc


def _validate_chunk(data: bytes, pos: int, min_size: int, end: int, what: str) -> tuple[int, int]:
    """``validate_chunk``: return (headerSize, size) or raise ``ManifestError``."""
    if pos + 8 > end:
        raise ManifestError(f"{what} at offset {pos} is truncated")
    _type, header_size, size = _CHUNK.unpack_from(data, pos)
    if header_size < min_size:
        raise ManifestError(f"{what} at offset {pos}: header size {header_size} is too small")
    if header_size > size:
        raise ManifestError(f"{what} at offset {pos}: size {size} is smaller than its header")
    if (header_size | size) & 3:
        raise ManifestError(f"{what} at offset {pos}: size is not on a 4-byte boundary")
    if size > end - pos:
        raise ManifestError(
            f"{what} at offset {pos}: size {size} runs past the end (corrupt binary XML)"
        )
    return header_size, size


class _StringPool:
    """``ResStringPool``: validated at construction, strings decoded lazily and cached."""

    def __init__(self, data: bytes, pos: int, size: int) -> None:
        if size < 28:
            raise ManifestError("string pool header is truncated")
        header_size, _ = _validate_chunk(data, pos, 28, pos + size, "string pool")
        count, style_count, flags, strings_start, styles_start = _POOL.unpack_from(data, pos + 8)
        self._data = data
        self._entries = pos + header_size
        self._utf8 = bool(flags & UTF8_FLAG)
        self._count = count
        self._cache: dict[int, str | None] = {}
        self._start = pos + strings_start
        self._pool_size = 0  # in characters (bytes for UTF-8, 16-bit units for UTF-16)
        char_size = 1 if self._utf8 else 2
        if count:
            if header_size + count * 4 > size:
                raise ManifestError(f"string pool: {count} entries extend past its size {size}")
            if strings_start >= size - 2:
                raise ManifestError("string pool: strings start after the end of the pool")
            if style_count == 0:
                self._pool_size = (size - strings_start) // char_size
            else:
                if styles_start <= strings_start:
                    raise ManifestError("string pool: styles start before the strings")
                self._pool_size = (styles_start - strings_start) // char_size
            if self._pool_size == 0:
                raise ManifestError("string pool: no string data")
            last = self._start + (self._pool_size - 1) * char_size
            if data[last : last + char_size] != b"\0" * char_size:
                raise ManifestError("string pool: last string is not NUL-terminated")
        if style_count:
            if styles_start >= size:
                raise ManifestError("string pool: styles start after the end of the pool")
            if header_size + (count + style_count) * 4 > size:
                raise ManifestError("string pool: style entries extend past its size")
            tail = pos + size - 12
            if size - styles_start < 12 or data[tail : tail + 12] != b"\xff" * 12:
                raise ManifestError("string pool: last style is not 0xFFFFFFFF-terminated")

    def get(self, index: int) -> str | None:
        """``stringAt(index)``: the string, or ``None`` where Android gets NULL."""
        if index >= self._count:
            return None
        if index not in self._cache:
            self._cache[index] = self._decode(index)
        return self._cache[index]

    def _decode(self, index: int) -> str | None:
        data = self._data
        (offset,) = struct.unpack_from("<I", data, self._entries + index * 4)
        if self._utf8:
            if offset >= self._pool_size - 1:
                return None
            pos = self._start + offset
            _, pos = _length8(data, pos)  # UTF-16 length, unused
            length, pos = _length8(data, pos)
            if pos + length - self._start >= self._pool_size or data[pos + length] != 0:
                return None
            return data[pos : pos + length].decode("utf-8", errors="replace")
        if offset // 2 >= self._pool_size - 1:
            return None
        pos = self._start + (offset // 2) * 2
        length, pos = _length16(data, pos)
        end = pos + 2 * length
        if (end - self._start) // 2 >= self._pool_size or data[end : end + 2] != b"\0\0":
            return None
        return data[pos:end].decode("utf-16-le", errors="replace")


def _length8(data: bytes, pos: int) -> tuple[int, int]:
    length = data[pos]
    if length & 0x80:
        length = ((length & 0x7F) << 8) | data[pos + 1]
        return length, pos + 2
    return length, pos + 1


def _length16(data: bytes, pos: int) -> tuple[int, int]:
    (length,) = struct.unpack_from("<H", data, pos)
    if length & 0x8000:
        (low,) = struct.unpack_from("<H", data, pos + 2)
        return ((length & 0x7FFF) << 16) | low, pos + 4
    return length, pos + 2


class _Builder:
    """Mutable element under construction (frozen into ``Element`` when closed)."""

    __slots__ = ("attributes", "children", "line", "namespace", "tag")

    def __init__(self, tag: str, namespace: str | None, attrs: tuple[Attribute, ...], line: int):
        self.tag = tag
        self.namespace = namespace
        self.attributes = attrs
        self.line = line
        self.children: list[Element] = []

    def freeze(self) -> Element:
        return Element(
            tag=self.tag,
            namespace=self.namespace,
            attributes=self.attributes,
            children=tuple(self.children),
            line=self.line,
        )


class _Decoder:
    """One decoding pass over one document."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.strings: _StringPool | None = None
        self.res_ids: tuple[int, ...] = ()

    def root(self) -> Element:
        data = self.data
        if len(data) < 8:
            raise ManifestError("binary XML is truncated (shorter than a chunk header)")
        _type, header_size, size = _CHUNK.unpack_from(data, 0)
        if header_size > size or size > len(data):
            raise ManifestError(
                f"not binary XML: header size {header_size} or total size {size} "
                f"is larger than the data size {len(data)}"
            )
        end = size
        first = self._find_first_node(header_size, end)
        if self.strings is None:
            raise ManifestError("binary XML has no string pool")
        return self._walk(first, end)

    def _find_first_node(self, pos: int, end: int) -> int:
        """The setTo loop: collect pools and the resource map up to the first XML node."""
        data = self.data
        last = pos
        while pos < end - 8 and pos + 8 <= len(data):
            (chunk_size,) = struct.unpack_from("<I", data, pos + 4)
            if not pos < end - chunk_size:
                break
            header_size, size = _validate_chunk(data, pos, 8, end, "XML chunk")
            (kind,) = struct.unpack_from("<H", data, pos)
            if kind == RES_STRING_POOL_TYPE:
                self.strings = _StringPool(data, pos, size)
            elif kind == RES_XML_RESOURCE_MAP_TYPE:
                count = (size - header_size) // 4
                self.res_ids = struct.unpack_from(f"<{count}I", data, pos + header_size)
            elif RES_XML_FIRST_CHUNK_TYPE <= kind <= RES_XML_LAST_CHUNK_TYPE:
                self._validate_node(pos, end)
                # Android sets mCurNode = lastChunk and calls nextNode(): the walk starts
                # at the chunk *after* lastChunk, which skips this node when it is the
                # very first chunk of the document.
                (last_size,) = struct.unpack_from("<I", data, last + 4)
                return last + last_size
            last = pos
            pos += size
        raise ManifestError("binary XML has no root element node")

    def _validate_node(self, pos: int, end: int) -> tuple[int, int]:
        """``ResXMLTree::validateNode``: chunk checks plus START attribute bounds."""
        header_size, size = _validate_chunk(data := self.data, pos, _NODE_HEADER_SIZE, end, "node")
        (kind,) = struct.unpack_from("<H", data, pos)
        if kind == RES_XML_START_ELEMENT_TYPE:
            if size < header_size + 20:
                raise ManifestError(f"start element at offset {pos} is too small")
            _ns, _name, start, attr_size, count = _ATTR_EXT.unpack_from(data, pos + header_size)
            if start + attr_size * count > size - header_size:
                raise ManifestError(f"start element at offset {pos}: attributes overflow it")
        return header_size, size

    def _walk(self, pos: int, end: int) -> Element:
        """``nextNode`` until the root element closes (or the document ends)."""
        data = self.data
        stack: list[_Builder] = []
        elements = 0
        root: Element | None = None
        while pos < end:
            header_size, size = self._validate_node(pos, end)
            (kind,) = struct.unpack_from("<H", data, pos)
            ext = pos + header_size
            min_ext = _MIN_EXT.get(kind)
            if min_ext is not None and size - header_size < min_ext:
                raise ManifestError(f"binary XML node at offset {pos} is too small for its type")
            if kind == RES_XML_START_ELEMENT_TYPE:
                elements += 1
                if elements > MAX_ELEMENTS:
                    raise ManifestError(f"binary XML has more than {MAX_ELEMENTS} elements")
                if len(stack) >= MAX_DEPTH:
                    raise ManifestError(f"binary XML nests deeper than {MAX_DEPTH} elements")
                (line, _comment) = _NODE.unpack_from(data, pos + 8)
                stack.append(self._start_element(ext, end, line))
            elif kind == RES_XML_END_ELEMENT_TYPE and stack:
                element = stack.pop().freeze()
                if not stack:
                    return element
                stack[-1].children.append(element)
            pos += size
        # END_DOCUMENT before the root closed: the framework's loops simply stop here.
        while stack:
            root = stack.pop().freeze()
            if stack:
                stack[-1].children.append(root)
        if root is None:
            raise ManifestError("binary XML has no start element")
        return root

    def _start_element(self, ext: int, end: int, line: int) -> _Builder:
        data = self.data
        strings = self.strings
        if strings is None:
            raise ManifestError("binary XML has no string pool")
        ns_index, name_index, start, attr_size, count = _ATTR_EXT.unpack_from(data, ext)
        tag = strings.get(name_index)
        attrs = []
        for i in range(count):
            at = ext + start + attr_size * i
            if at + 20 > end:
                raise ManifestError(f"attribute at offset {at} extends beyond the data")
            a_ns, a_name, raw, _vsize, _res0, dtype, value = _ATTRIBUTE.unpack_from(data, at)
            res_id = self.res_ids[a_name] if a_name < len(self.res_ids) else 0
            attrs.append(
                Attribute(
                    namespace=strings.get(a_ns),
                    name=strings.get(a_name),
                    resource_id=res_id,
                    raw=strings.get(raw),
                    value=TypedValue(
                        type=dtype,
                        data=value,
                        string=strings.get(value) if dtype == 0x03 else None,
                    ),
                )
            )
        return _Builder(tag or "", strings.get(ns_index), tuple(attrs), line)
