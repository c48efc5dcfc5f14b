"""Decode aapt2's protobuf XML (the manifests inside an ``.aab``) into the shared element tree.

An Android App Bundle stores each module's ``AndroidManifest.xml`` as an ``aapt.pb.XmlNode``
message, not binary AXML. The schema is built here in Python with ``descriptor_pb2`` (no
``protoc`` at run time), from the field numbers of the public
frameworks/base ``tools/aapt2/Resources.proto`` (proto3 version, verified field by field)::

    SourcePosition { uint32 line_number = 1; uint32 column_number = 2; }
    XmlNode        { oneof node { XmlElement element = 1; string text = 2; }
                     SourcePosition source = 3; }
    XmlElement     { repeated XmlNamespace namespace_declaration = 1; string namespace_uri = 2;
                     string name = 3; repeated XmlAttribute attribute = 4;
                     repeated XmlNode child = 5; }
    XmlNamespace   { string prefix = 1; string uri = 2; SourcePosition source = 3; }
    XmlAttribute   { string namespace_uri = 1; string name = 2; string value = 3;
                     SourcePosition source = 4; uint32 resource_id = 5; Item compiled_item = 6; }
    Item           { oneof value { Reference ref = 1; String str = 2; RawString raw_str = 3;
                     StyledString styled_str = 4; FileReference file = 5; Id id = 6;
                     Primitive prim = 7; } }
    Reference      { Type type = 1 (REFERENCE = 0, ATTRIBUTE = 1); uint32 id = 2;
                     string name = 3; bool private = 4; Boolean is_dynamic = 5; }
    Boolean        { bool value = 1; }
    String / RawString / StyledString { string value = 1; }   FileReference { string path = 1; }
    Primitive      { oneof oneof_value { NullType null_value = 1; EmptyType empty_value = 2;
                     float float_value = 3; float dimension_value_deprecated = 4;
                     float fraction_value_deprecated = 5; int32 int_decimal_value = 6;
                     uint32 int_hexadecimal_value = 7; bool boolean_value = 8;
                     uint32 color_argb8_value = 9; uint32 color_rgb8_value = 10;
                     uint32 color_argb4_value = 11; uint32 color_rgb4_value = 12;
                     uint32 dimension_value = 13; uint32 fraction_value = 14; } }

Fields we do not declare (spans, comments) are skipped as unknown fields. Semantics are
those of the binary manifest Android actually installs: bundletool turns this message into
AXML with aapt2's ``XmlFlattener`` (tools/aapt2/format/binary/XmlFlattener.cpp), which drops
``tools:`` attributes, sorts attributes with a resource id first by id
(``cmp_xml_attribute_by_id``), keeps the raw string only when the value is not compiled, and
writes the compiled ``Item`` as a ``Res_value`` (aapt2 ``ProtoDeserialize.cpp``). So
``Element.android`` reads these attributes exactly as ``obtainAttributes`` would.
"""

from __future__ import annotations

import struct
from typing import Any

from permaudit.errors import ManifestError
from permaudit.inputs.binary.protowire import varint
from permaudit.inputs.binary.xmltree import (
    TYPE_ATTRIBUTE,
    TYPE_DIMENSION,
    TYPE_DYNAMIC_REFERENCE,
    TYPE_FLOAT,
    TYPE_FRACTION,
    TYPE_INT_BOOLEAN,
    TYPE_INT_DEC,
    TYPE_INT_HEX,
    TYPE_NULL,
    TYPE_REFERENCE,
    TYPE_STRING,
    Attribute,
    Element,
    TypedValue,
)

TOOLS_NS = "http://schemas.android.com/tools"
#: A module manifest larger than this is refused (real ones are a few KiB).
MAX_PROTO_SIZE = 16 * 1024 * 1024
#: Element nesting bound; protobuf's own decoder stops at 100 nested messages as well.
MAX_DEPTH = 48
MAX_ELEMENTS = 200_000
#: Nodes, attributes and namespace declarations, counted on the wire *before* protobuf builds
#: objects: 16 KB of deflate expands to millions of 2-byte empty ``child`` messages, each a
#: Python object once parsed. ``MAX_FIELDS`` bounds the pre-scan itself (every field, known or
#: not, is one step), so both the scan and the parse are linear in the bytes with a cap.
MAX_MESSAGES = 400_000
MAX_FIELDS = 2_000_000

_PACKAGE = "permaudit.aapt.pb"
_TYPE_DYNAMIC_ATTRIBUTE = 0x08
#: ``Res_value`` colour types (ResourceTypes.h): argb8, rgb8, argb4, rgb4.
_COLOR_TYPES = {
    "color_argb8_value": 0x1C,
    "color_rgb8_value": 0x1D,
    "color_argb4_value": 0x1E,
    "color_rgb4_value": 0x1F,
}

# (message, [(field, number, type, message type or None, repeated, oneof)])
_T_MSG, _T_STRING, _T_UINT32, _T_INT32, _T_BOOL, _T_FLOAT = "msg", "str", "u32", "i32", "b", "f"
_SCHEMA: tuple[tuple[str, tuple[tuple[str, int, str, str | None, bool, str | None], ...]], ...] = (
    ("SourcePosition", (
        ("line_number", 1, _T_UINT32, None, False, None),
        ("column_number", 2, _T_UINT32, None, False, None),
    )),
    ("XmlNode", (
        ("element", 1, _T_MSG, "XmlElement", False, "node"),
        ("text", 2, _T_STRING, None, False, "node"),
        ("source", 3, _T_MSG, "SourcePosition", False, None),
    )),
    ("XmlElement", (
        ("namespace_declaration", 1, _T_MSG, "XmlNamespace", True, None),
        ("namespace_uri", 2, _T_STRING, None, False, None),
        ("name", 3, _T_STRING, None, False, None),
        ("attribute", 4, _T_MSG, "XmlAttribute", True, None),
        ("child", 5, _T_MSG, "XmlNode", True, None),
    )),
    ("XmlNamespace", (
        ("prefix", 1, _T_STRING, None, False, None),
        ("uri", 2, _T_STRING, None, False, None),
        ("source", 3, _T_MSG, "SourcePosition", False, None),
    )),
    ("XmlAttribute", (
        ("namespace_uri", 1, _T_STRING, None, False, None),
        ("name", 2, _T_STRING, None, False, None),
        ("value", 3, _T_STRING, None, False, None),
        ("source", 4, _T_MSG, "SourcePosition", False, None),
        ("resource_id", 5, _T_UINT32, None, False, None),
        ("compiled_item", 6, _T_MSG, "Item", False, None),
    )),
    ("Item", (
        ("ref", 1, _T_MSG, "Reference", False, "value"),
        ("str", 2, _T_MSG, "String", False, "value"),
        ("raw_str", 3, _T_MSG, "RawString", False, "value"),
        ("styled_str", 4, _T_MSG, "StyledString", False, "value"),
        ("file", 5, _T_MSG, "FileReference", False, "value"),
        ("id", 6, _T_MSG, "Id", False, "value"),
        ("prim", 7, _T_MSG, "Primitive", False, "value"),
    )),
    ("Reference", (
        ("type", 1, _T_INT32, None, False, None),  # enum Type: wire-compatible with int32
        ("id", 2, _T_UINT32, None, False, None),
        ("name", 3, _T_STRING, None, False, None),
        ("private", 4, _T_BOOL, None, False, None),
        ("is_dynamic", 5, _T_MSG, "Boolean", False, None),
    )),
    ("Boolean", (("value", 1, _T_BOOL, None, False, None),)),
    ("String", (("value", 1, _T_STRING, None, False, None),)),
    ("RawString", (("value", 1, _T_STRING, None, False, None),)),
    ("StyledString", (("value", 1, _T_STRING, None, False, None),)),
    ("FileReference", (("path", 1, _T_STRING, None, False, None),)),
    ("Id", ()),
    ("NullType", ()),
    ("EmptyType", ()),
    ("Primitive", (
        ("null_value", 1, _T_MSG, "NullType", False, "oneof_value"),
        ("empty_value", 2, _T_MSG, "EmptyType", False, "oneof_value"),
        ("float_value", 3, _T_FLOAT, None, False, "oneof_value"),
        ("dimension_value_deprecated", 4, _T_FLOAT, None, False, "oneof_value"),
        ("fraction_value_deprecated", 5, _T_FLOAT, None, False, "oneof_value"),
        ("int_decimal_value", 6, _T_INT32, None, False, "oneof_value"),
        ("int_hexadecimal_value", 7, _T_UINT32, None, False, "oneof_value"),
        ("boolean_value", 8, _T_BOOL, None, False, "oneof_value"),
        ("color_argb8_value", 9, _T_UINT32, None, False, "oneof_value"),
        ("color_rgb8_value", 10, _T_UINT32, None, False, "oneof_value"),
        ("color_argb4_value", 11, _T_UINT32, None, False, "oneof_value"),
        ("color_rgb4_value", 12, _T_UINT32, None, False, "oneof_value"),
        ("dimension_value", 13, _T_UINT32, None, False, "oneof_value"),
        ("fraction_value", 14, _T_UINT32, None, False, "oneof_value"),
    )),
)  # fmt: skip


def xml_node_class() -> Any:
    """Build the ``XmlNode`` message class from ``_SCHEMA`` (a fresh descriptor pool each call)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    kinds = {
        _T_MSG: field.TYPE_MESSAGE,
        _T_STRING: field.TYPE_STRING,
        _T_UINT32: field.TYPE_UINT32,
        _T_INT32: field.TYPE_INT32,
        _T_BOOL: field.TYPE_BOOL,
        _T_FLOAT: field.TYPE_FLOAT,
    }
    file = descriptor_pb2.FileDescriptorProto(
        name="permaudit/aapt_resources.proto", package=_PACKAGE, syntax="proto3"
    )
    for name, fields in _SCHEMA:
        message = file.message_type.add(name=name)
        oneofs: list[str] = []
        for fname, number, kind, type_name, repeated, oneof in fields:
            proto = message.field.add(
                name=fname,
                number=number,
                type=kinds[kind],
                label=field.LABEL_REPEATED if repeated else field.LABEL_OPTIONAL,
            )
            if type_name is not None:
                proto.type_name = f".{_PACKAGE}.{type_name}"
            if oneof is not None:
                if oneof not in oneofs:
                    oneofs.append(oneof)
                    message.oneof_decl.add(name=oneof)
                proto.oneof_index = oneofs.index(oneof)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.XmlNode"))


def parse_proto_xml(data: bytes) -> Element:
    """Decode a serialized ``aapt.pb.XmlNode`` into the root ``Element`` (``ManifestError``)."""
    from google.protobuf.message import DecodeError

    if len(data) > MAX_PROTO_SIZE:
        raise ManifestError(f"protobuf manifest is larger than {MAX_PROTO_SIZE} bytes")
    _check_wire_counts(data)
    node = xml_node_class()()
    try:
        node.ParseFromString(data)
    except (DecodeError, RecursionError) as exc:
        raise ManifestError(f"protobuf manifest cannot be decoded ({exc})") from None
    if node.WhichOneof("node") != "element":
        raise ManifestError("protobuf manifest has no root element")
    return _convert(node, [0])


def _check_wire_counts(data: bytes) -> None:
    """Count XmlNode/XmlElement sub-messages on the wire; ``ManifestError`` above the caps."""
    todo = [(0, len(data), True)]  # (start, end, is an XmlNode)
    messages = fields = 0
    while todo:
        pos, end, is_node = todo.pop()
        while pos < end:
            key, pos = varint(data, pos, end)
            fields += 1
            if key < 0 or fields > MAX_FIELDS:
                if fields > MAX_FIELDS:
                    raise ManifestError(f"protobuf manifest has more than {MAX_FIELDS} fields")
                break
            wire = key & 7
            if wire == 0:
                _value, pos = varint(data, pos, end)
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            elif wire == 2:
                length, pos = varint(data, pos, end)
                if length < 0 or length > end - pos:
                    break
                number = key >> 3
                if is_node and number == 1:  # XmlNode.element
                    todo.append((pos, pos + length, False))
                elif not is_node and number in (1, 4, 5):  # namespace, attribute, child
                    messages += 1
                    if messages > MAX_MESSAGES:
                        raise ManifestError(
                            f"protobuf manifest has more than {MAX_MESSAGES} nodes and attributes"
                        )
                    if number == 5:
                        todo.append((pos, pos + length, True))
                pos += length
            else:
                break  # groups or invalid wire types: protobuf's decoder reports them


def _convert(node: Any, count: list[int], depth: int = 0) -> Element:
    """Turn an ``XmlNode`` holding an element into ``Element``.

    Text nodes are kept the way the binary XML that bundletool installs has them: aapt2's
    ``XmlFlattener`` drops whitespace-only text nodes, so ``Element.text`` is the text
    when the element's only other content is such whitespace (``<domain>a.org</domain>``),
    as the AXML decoder sets it.
    """
    if depth > MAX_DEPTH:
        raise ManifestError(f"protobuf manifest nests elements deeper than {MAX_DEPTH}")
    count[0] += 1
    if count[0] > MAX_ELEMENTS:
        raise ManifestError(f"protobuf manifest has more than {MAX_ELEMENTS} elements")
    element = node.element
    attributes = [_attribute(attr) for attr in element.attribute if attr.namespace_uri != TOOLS_NS]
    children = tuple(
        _convert(child, count, depth + 1)
        for child in element.child
        if child.WhichOneof("node") == "element"
    )
    texts = [
        child.text for child in element.child
        if child.WhichOneof("node") == "text" and child.text.strip(" \t\n\r\f\v")
    ]
    text = texts[0] if len(texts) == 1 and not children else None
    return Element(
        tag=element.name,
        namespace=element.namespace_uri or None,
        attributes=tuple(sorted_like_aapt2(attributes)),
        children=children,
        line=node.source.line_number or None if node.HasField("source") else None,
        text=text,
    )


def sorted_like_aapt2(attributes: list[Attribute]) -> list[Attribute]:
    """aapt2's ``cmp_xml_attribute_by_id``: attributes with an id by id, then by (ns, name)."""
    with_id = sorted((a for a in attributes if a.resource_id), key=lambda a: a.resource_id)
    without = sorted(
        (a for a in attributes if not a.resource_id),
        key=lambda a: (a.namespace or "", a.name or ""),
    )
    return with_id + without


def _attribute(attr: Any) -> Attribute:
    compiled = attr.HasField("compiled_item")
    return Attribute(
        namespace=attr.namespace_uri or None,
        name=attr.name,
        resource_id=attr.resource_id,
        raw=None if compiled else attr.value,
        value=_typed(attr.compiled_item)
        if compiled
        else TypedValue(type=TYPE_STRING, string=attr.value),
    )


def _typed(item: Any) -> TypedValue:
    """An ``Item`` as the ``Res_value`` aapt2 flattens it to."""
    kind = item.WhichOneof("value")
    if kind == "ref":
        ref = item.ref
        dynamic = ref.HasField("is_dynamic") and ref.is_dynamic.value
        if ref.type == 1:
            return TypedValue(
                type=_TYPE_DYNAMIC_ATTRIBUTE if dynamic else TYPE_ATTRIBUTE, data=ref.id
            )
        return TypedValue(type=TYPE_DYNAMIC_REFERENCE if dynamic else TYPE_REFERENCE, data=ref.id)
    if kind in ("str", "raw_str", "styled_str"):
        return TypedValue(type=TYPE_STRING, string=getattr(item, kind).value)
    if kind == "file":
        return TypedValue(type=TYPE_STRING, string=item.file.path)
    if kind == "id":
        return TypedValue(type=TYPE_INT_BOOLEAN, data=0)  # aapt2 Id::Flatten
    if kind == "prim":
        return _primitive(item.prim)
    return TypedValue()


def _primitive(prim: Any) -> TypedValue:
    kind = prim.WhichOneof("oneof_value")
    if kind is None or kind == "null_value":
        return TypedValue(type=TYPE_NULL, data=0)  # DATA_NULL_UNDEFINED
    if kind == "empty_value":
        return TypedValue(type=TYPE_NULL, data=1)  # DATA_NULL_EMPTY
    value = getattr(prim, kind)
    if kind in ("float_value", "dimension_value_deprecated", "fraction_value_deprecated"):
        bits = struct.unpack("<I", struct.pack("<f", value))[0]
        kinds = {"float_value": TYPE_FLOAT, "dimension_value_deprecated": TYPE_DIMENSION}
        return TypedValue(type=kinds.get(kind, TYPE_FRACTION), data=bits)
    if kind == "boolean_value":
        return TypedValue(type=TYPE_INT_BOOLEAN, data=0xFFFFFFFF if value else 0)
    if kind == "int_decimal_value":
        return TypedValue(type=TYPE_INT_DEC, data=value & 0xFFFFFFFF)
    if kind == "int_hexadecimal_value":
        return TypedValue(type=TYPE_INT_HEX, data=value)
    if kind == "dimension_value":
        return TypedValue(type=TYPE_DIMENSION, data=value)
    if kind == "fraction_value":
        return TypedValue(type=TYPE_FRACTION, data=value)
    return TypedValue(type=_COLOR_TYPES[kind], data=value)
