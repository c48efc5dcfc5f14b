"""A small frozen XML element tree with Android's typed attribute values and lookup rules.

Both the binary (AXML) reader and a future text-XML reader produce this tree, so the
manifest semantics in ``manifest_parser`` are written once. Attribute lookup follows
Android's two access paths:

* ``Element.android(res_id)`` is ``Resources.obtainAttributes``: framework attributes are
  matched by *resource id only*, with the merge walk of ``RetrieveAttributes``
  (frameworks/base libs/androidfw/AttributeResolution.cpp). The walk assumes the element's
  attributes are sorted by resource id (aapt writes them so); for a requested id R it
  skips attributes whose id is below R and takes the first one only if its id equals R.
  The position reached for R does not depend on which other ids the styleable requests,
  so "the first attribute whose id is >= R, if its id == R" is exactly Android's answer:
  an attribute written out of order is missed exactly when Android misses it, and the
  attribute's name string is never consulted.
* ``Element.by_name(name, namespace)`` is ``XmlPullParser.getAttributeValue(ns, name)``
  (``ResXMLParser::indexOfAttribute``): the first attribute whose name *string* and
  namespace match, in document order. Android uses it for ``package`` on ``<manifest>``
  (namespace ``None``) and for ``<action>``/``<category>`` names in intent filters.
"""

from __future__ import annotations

from permaudit._infra.records import record

# Res_value data types (frameworks/base libs/androidfw/include/androidfw/ResourceTypes.h).
TYPE_NULL = 0x00
TYPE_REFERENCE = 0x01
TYPE_ATTRIBUTE = 0x02
TYPE_STRING = 0x03
TYPE_FLOAT = 0x04
TYPE_DIMENSION = 0x05
TYPE_FRACTION = 0x06
TYPE_DYNAMIC_REFERENCE = 0x07
TYPE_FIRST_INT = 0x10
TYPE_INT_DEC = 0x10
TYPE_INT_HEX = 0x11
TYPE_INT_BOOLEAN = 0x12
TYPE_LAST_INT = 0x1F


@record
class TypedValue:
    """A ``Res_value``: data type, 32-bit data, and the pooled string for ``TYPE_STRING``."""

    type: int = TYPE_NULL
    data: int = 0
    string: str | None = None

    @property
    def is_int(self) -> bool:
        """``TYPE_FIRST_INT <= type <= TYPE_LAST_INT`` (decimal, hex, boolean, colours)."""
        return TYPE_FIRST_INT <= self.type <= TYPE_LAST_INT

    @property
    def is_reference(self) -> bool:
        """A resource reference (``@7f...``) that only resources.arsc could resolve."""
        return self.type in (TYPE_REFERENCE, TYPE_DYNAMIC_REFERENCE, TYPE_ATTRIBUTE)

    @property
    def signed(self) -> int:
        """``data`` as a Java ``int`` (two's complement)."""
        return self.data - (1 << 32) if self.data & 0x80000000 else self.data


@record
class Attribute:
    """One attribute: namespace uri, name string, resource id (0 if none), raw and typed value."""

    namespace: str | None
    name: str | None
    resource_id: int = 0
    raw: str | None = None
    value: TypedValue = TypedValue()
    #: For a reference value: why it could not be resolved (set by ``inputs.resources``).
    unresolved: str | None = None

    def coerce_to_string(self) -> str | None:
        """The value as ``XmlBlock.Parser.getAttributeValue`` returns it (raw string first)."""
        if self.raw is not None:
            return self.raw
        return coerce_to_string(self.value)


@record
class Element:
    """An element: tag, namespace, attributes in document order, children, source line."""

    tag: str
    namespace: str | None = None
    attributes: tuple[Attribute, ...] = ()
    children: tuple[Element, ...] = ()
    line: int | None = None
    #: The element's text when its whole content is one text node (``<domain>a.org</domain>``),
    #: else ``None``: what ``XmlPullParser.next() == TEXT`` then ``END_TAG`` reads. Manifests
    #: never need it; resource XML files (network security config) do.
    text: str | None = None

    def android(self, resource_id: int) -> Attribute | None:
        """The attribute ``obtainAttributes`` finds for ``resource_id`` (merge walk, id only)."""
        for attribute in self.attributes:
            if attribute.resource_id >= resource_id:
                return attribute if attribute.resource_id == resource_id else None
        return None

    def by_name(self, name: str, namespace: str | None = None) -> Attribute | None:
        """The first attribute whose name string and namespace equal ``name``/``namespace``."""
        for attribute in self.attributes:
            if attribute.name == name and attribute.namespace == namespace:
                return attribute
        return None


def coerce_to_string(value: TypedValue) -> str | None:
    """``TypedValue.coerceToString`` for the types a manifest can hold without resources."""
    if value.type == TYPE_NULL:
        return None
    if value.type == TYPE_STRING:
        return value.string
    if value.type in (TYPE_REFERENCE, TYPE_DYNAMIC_REFERENCE):
        return f"@0x{value.data:08x}"
    if value.type == TYPE_ATTRIBUTE:
        return f"?0x{value.data:08x}"
    if value.type == TYPE_INT_BOOLEAN:
        return "true" if value.data else "false"
    if value.type == TYPE_INT_HEX:
        return f"0x{value.data:08x}"
    if value.is_int:
        return str(value.signed)
    return None
