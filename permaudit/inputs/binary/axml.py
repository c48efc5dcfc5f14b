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

``decode_axml`` also returns tamper evidence: tricks Android reads through (so the tree
above is what Android sees) but that make other tools see something else. Chunk level:
``axml.chunk_type`` (outer type is not RES_XML_TYPE), ``axml.trailing_data`` (bytes past
the declared document size), ``axml.string_pool_count`` (the offset table has room for
more strings than the count says), ``axml.bad_string`` (a referenced string Android
reads as NULL: index past the count, length past the pool, no terminator),
``axml.multiple_string_pools``/``axml.multiple_resource_maps`` (Android keeps the last),
``axml.unknown_chunk`` (skipped chunk types), ``axml.data_between_elements`` (node chunks
larger than their content, with data hidden in the slack), ``axml.attribute_layout``
(attribute start/size other than 20, which Android honours), ``axml.invalid_after_root``
(malformed chunks after the root closes, never read). Tree level: ``axml.namespaced_tag``
(element tags in the android namespace or carrying a prefix),
``axml.namespace_undeclared`` (attributes in a namespace no node declares: stripped
declarations defeat prefix-mapping tools), ``axml.attribute_name``
(a framework attribute whose name string or namespace does not match its resource id:
Android reads by id), ``axml.attribute_without_id`` (an ``android:`` attribute Android
ignores because it has no resource id), ``axml.attribute_order`` (ids out of order, so
Android's merge walk misses some).
"""

from __future__ import annotations

import struct

from permaudit._infra.records import record
from permaudit.android.attributes import ANDROID_NS, ATTRIBUTE_IDS
from permaudit.errors import ManifestError
from permaudit.inputs.binary.resstrings import StringPool, validate_chunk
from permaudit.inputs.binary.xmltree import Attribute, Element, TypedValue
from permaudit.model import TamperEvidence

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


MAX_ELEMENTS = 200_000
MAX_DEPTH = 1000
#: Attributes decoded over the whole document. Android reads attribute ``i`` at
#: ``attributeStart + attributeSize * i`` and ``validateNode`` only checks that the last one
#: ends inside the node, so ``attributeSize`` 0 with ``attributeCount`` 65535 passes: 65,535
#: aliases of one 20-byte record. Aliases at the same offset are the same bytes, so we decode
#: each distinct offset once (Android's lookups give the same answer); overlapping strides
#: below 20 still cost at most one attribute per byte, and this cap bounds the total.
MAX_ATTRIBUTES = 500_000

_CHUNK = struct.Struct("<HHI")
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


#: Framework attribute resource ids start with the android package id 0x01.
_FRAMEWORK_ID_MASK = 0xFF000000
_FRAMEWORK_PACKAGE = 0x01000000
_ATTRIBUTE_NAMES = {v: k for k, v in ATTRIBUTE_IDS.items()}
#: Examples named in one piece of evidence.
_SHOWN = 3


@record
class Decoded:
    """The element tree Android reads, and the tricks found on the way."""

    root: Element
    evidence: tuple[TamperEvidence, ...] = ()


def parse_axml(data: bytes) -> Element:
    """Decode ``data`` and return the root element; ``ManifestError`` if Android would fail."""
    return decode_axml(data).root


def decode_axml(data: bytes) -> Decoded:
    """Decode ``data`` like ``parse_axml`` and collect tamper evidence (see the module doc)."""
    try:
        decoder = _Decoder(data)
        root = decoder.root()
    except (struct.error, IndexError, ValueError, OverflowError) as exc:
        raise ManifestError(f"binary XML is corrupt ({exc})") from exc
    notes = decoder.notes
    if decoder.strings is not None and decoder.strings.bad:
        shown = ", ".join(str(i) for i in sorted(decoder.strings.bad)[:_SHOWN])
        notes["axml.bad_string"] = (
            f"string index {shown} ({len(decoder.strings.bad)} in all) read as missing: out "
            "of the pool's declared range or not terminated; Android sees no value, tools "
            "that read past the bounds see text"
        )
    notes.update(_tree_notes(root, decoder.declared))
    evidence = tuple(TamperEvidence(id=key, detail=text) for key, text in notes.items())
    return Decoded(root=root, evidence=evidence)


def _tree_notes(root: Element, declared: set[str | None]) -> dict[str, str]:
    """Element and attribute tricks, over the whole tree (iteratively)."""
    undeclared: list[str] = []
    tags: list[str] = []
    names: list[str] = []
    without_id: list[str] = []
    unordered: list[str] = []
    stack = [root]
    while stack:
        element = stack.pop()
        stack.extend(element.children)
        if element.namespace == ANDROID_NS or ":" in element.tag:
            tags.append(element.tag)
        last = 0
        for attribute in element.attributes:
            if attribute.namespace is not None and attribute.namespace not in declared:
                undeclared.append(repr(attribute.namespace))
            res_id = attribute.resource_id
            if res_id:
                if res_id < last:
                    unordered.append(f"<{element.tag}> {attribute.name}")
                last = max(last, res_id)
                expected = _ATTRIBUTE_NAMES.get(res_id)
                if (res_id & _FRAMEWORK_ID_MASK) == _FRAMEWORK_PACKAGE and expected and (
                    attribute.name != expected or attribute.namespace != ANDROID_NS
                ):
                    names.append(f"{attribute.name!r} carries the id of android:{expected}")
            elif attribute.namespace == ANDROID_NS and attribute.name in ATTRIBUTE_IDS:
                without_id.append(f"<{element.tag}> android:{attribute.name}")
    notes = {}
    if undeclared:
        notes["axml.namespace_undeclared"] = (
            f"attributes use namespace {_examples(undeclared)} that the document never "
            "declares; Android resolves attributes by id, tools that map prefixes fail"
        )
    if tags:
        notes["axml.namespaced_tag"] = (
            f"element tags with a namespace or prefix: {_examples(tags)}; Android matches "
            "the bare tag string, tools that print or strip prefixes see other elements"
        )
    if names:
        notes["axml.attribute_name"] = (
            f"attributes whose name does not match their resource id: {_examples(names)}; "
            "Android reads framework attributes by id only, tools that read names are misled"
        )
    if without_id:
        notes["axml.attribute_without_id"] = (
            f"android: attributes without a resource id: {_examples(without_id)}; Android "
            "ignores them, tools that read names do not"
        )
    if unordered:
        notes["axml.attribute_order"] = (
            f"attributes out of resource-id order: {_examples(unordered)}; Android's lookup "
            "assumes sorted ids and misses some of them, tools that scan all attributes do not"
        )
    return notes


def _examples(items: list[str]) -> str:
    unique = list(dict.fromkeys(items))
    text = ", ".join(unique[:_SHOWN])
    more = len(unique) - _SHOWN
    return text + (f" and {more} more" if more > 0 else "")


class _Builder:
    """Mutable element under construction (frozen into ``Element`` when closed)."""

    __slots__ = ("attributes", "children", "line", "namespace", "nodes", "tag", "text")

    def __init__(self, tag: str, namespace: str | None, attrs: tuple[Attribute, ...], line: int):
        self.tag = tag
        self.namespace = namespace
        self.attributes = attrs
        self.line = line
        self.children: list[Element] = []
        #: Content nodes (elements and text) seen, and the first one's text if it was text.
        self.nodes = 0
        self.text: str | None = None

    def freeze(self) -> Element:
        return Element(
            tag=self.tag,
            namespace=self.namespace,
            attributes=self.attributes,
            children=tuple(self.children),
            line=self.line,
            text=self.text if self.nodes == 1 else None,
        )


class _Decoder:
    """One decoding pass over one document."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.strings: StringPool | None = None
        self.res_ids: tuple[int, ...] = ()
        #: Tamper evidence by id, one sentence each (first occurrence wins).
        self.notes: dict[str, str] = {}
        #: Namespace URIs declared by START_NAMESPACE nodes.
        self.declared: set[str | None] = set()
        self.attributes = 0

    def note(self, key: str, text: str) -> None:
        """Record evidence ``key`` once."""
        self.notes.setdefault(key, text)

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
        if _type != RES_XML_TYPE:
            self.note("axml.chunk_type", f"the document chunk has type 0x{_type:04x}, not "
                      "RES_XML_TYPE (0x0003); Android does not check it, strict tools refuse")
        if size < len(data):
            self.note("axml.trailing_data", f"{len(data) - size} bytes follow the declared "
                      f"document size {size}; Android never reads them, tools that parse the "
                      "whole file do")
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
            header_size, size = validate_chunk(data, pos, 8, end, "XML chunk")
            (kind,) = struct.unpack_from("<H", data, pos)
            if kind == RES_STRING_POOL_TYPE:
                if self.strings is not None:
                    self.note("axml.multiple_string_pools", "the document has several string "
                              "pools; Android uses the last one, many tools the first")
                self.strings = StringPool(data, pos, size)
                if self.strings.hidden:
                    self.note("axml.string_pool_count", f"the string pool's offset table has "
                              f"{self.strings.hidden} more slots than its declared count; "
                              "Android reads only the declared strings, tools that count "
                              "the table see more")
            elif kind == RES_XML_RESOURCE_MAP_TYPE:
                if self.res_ids:
                    self.note("axml.multiple_resource_maps", "the document has several "
                              "resource maps; Android uses the last one, many tools the first")
                count = (size - header_size) // 4
                self.res_ids = struct.unpack_from(f"<{count}I", data, pos + header_size)
            elif RES_XML_FIRST_CHUNK_TYPE <= kind <= RES_XML_LAST_CHUNK_TYPE:
                self._validate_node(pos, end)
                # Android sets mCurNode = lastChunk and calls nextNode(): the walk starts
                # at the chunk *after* lastChunk, which skips this node when it is the
                # very first chunk of the document.
                (last_size,) = struct.unpack_from("<I", data, last + 4)
                return last + int(last_size)
            else:
                self.note("axml.unknown_chunk", f"chunk type 0x{kind:04x} at offset {pos} is "
                          "not part of binary XML; Android skips it")
            last = pos
            pos += size
        raise ManifestError("binary XML has no root element node")

    def _validate_node(self, pos: int, end: int) -> tuple[int, int]:
        """``ResXMLTree::validateNode``: chunk checks plus START attribute bounds."""
        header_size, size = validate_chunk(data := self.data, pos, _NODE_HEADER_SIZE, end, "node")
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
            elif kind == RES_XML_START_NAMESPACE_TYPE and self.strings is not None:
                (uri,) = struct.unpack_from("<I", data, ext + 4)
                self.declared.add(self.strings.get(uri))
            elif kind == RES_XML_END_ELEMENT_TYPE and stack:
                element = stack.pop().freeze()
                if not stack:
                    self._check_after_root(pos + size, end)
                    return element
                stack[-1].children.append(element)
                stack[-1].nodes += 1
            elif kind == RES_XML_CDATA_TYPE and stack and self.strings is not None:
                (index,) = struct.unpack_from("<I", data, ext)
                parent = stack[-1]
                parent.nodes += 1
                if parent.nodes == 1:
                    parent.text = self.strings.get(index)
            if min_ext is None:
                self.note("axml.unknown_chunk", f"chunk type 0x{kind:04x} at offset {pos} is "
                          "not an XML node; Android skips it")
            else:
                self._check_slack(pos, header_size, size, kind)
            pos += size
        # END_DOCUMENT before the root closed: the framework's loops simply stop here.
        while stack:
            root = stack.pop().freeze()
            if stack:
                stack[-1].children.append(root)
                stack[-1].nodes += 1
        if root is None:
            raise ManifestError("binary XML has no start element")
        return root

    def _check_slack(self, pos: int, header_size: int, size: int, kind: int) -> None:
        """Node chunks bigger than their content hide data Android skips over."""
        used = header_size + _MIN_EXT[kind]
        if kind == RES_XML_START_ELEMENT_TYPE:
            _ns, _name, start, attr_size, count = _ATTR_EXT.unpack_from(
                self.data, pos + header_size
            )
            used = header_size + max(20, start + attr_size * count)
            if count and (start != 20 or attr_size != 20):
                self.note("axml.attribute_layout", f"element at offset {pos} lays out its "
                          f"attributes at start {start} with size {attr_size} (not 20/20); "
                          "Android follows the file, tools that assume 20 misread")
        if size > used or header_size > _NODE_HEADER_SIZE:
            self.note("axml.data_between_elements", f"the node at offset {pos} is "
                      f"{size} bytes but its content needs {used}; Android skips the rest, "
                      "tools that parse sequentially read the hidden data")

    def _check_after_root(self, pos: int, end: int) -> None:
        """Chunks after the root closes are never read; malformed ones are evidence."""
        data = self.data
        while pos < end:
            if pos + 8 > end:
                break
            _kind, header_size, size = _CHUNK.unpack_from(data, pos)
            bad_size = header_size > size or size > end - pos or (header_size | size) & 3
            if header_size < 8 or bad_size:
                self.note("axml.invalid_after_root", f"a malformed chunk follows the root "
                          f"element at offset {pos} (header {header_size}, size {size}); "
                          "Android stops at the root's end, tools that read on fail")
                return
            pos += size

    def _start_element(self, ext: int, end: int, line: int) -> _Builder:
        data = self.data
        strings = self.strings
        if strings is None:
            raise ManifestError("binary XML has no string pool")
        ns_index, name_index, start, attr_size, count = _ATTR_EXT.unpack_from(data, ext)
        tag = strings.get(name_index)
        attrs = []
        if attr_size == 0 and count > 1:
            self.note("axml.attribute_aliasing", f"element with extension at offset {ext} "
                      f"declares {count} attributes of size 0, all aliasing one record; Android "
                      "reads the same attribute each time, tools that expand them blow up")
            count = 1
        self.attributes += count
        if self.attributes > MAX_ATTRIBUTES:
            raise ManifestError(f"binary XML has more than {MAX_ATTRIBUTES} attributes")
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
