"""Parse a text resource XML file (``res/xml/*.xml`` of a source tree) safely into the
shared element tree, typed as aapt compiles it, with text content kept.

Safety as for text manifests (``text_manifest``): expat, refused at the first
``<!DOCTYPE`` or entity declaration, size, element count and nesting bounded, built with an
explicit stack. Typing: attribute values become booleans, integers or references as aapt
compiles attributes without a definition (``true``/``false``, decimal and hex integers,
``@type/name``); everything else stays a string. Text runs that are only whitespace are
dropped and others kept as written, as aapt2's ``XmlFlattener`` does.
"""

from __future__ import annotations

from permaudit.errors import ManifestError
from permaudit.inputs.binary.xmltree import Attribute, Element
from permaudit.inputs.text_manifest import compile_value

MAX_SIZE = 4 * 1024 * 1024
MAX_ELEMENTS = 200_000
MAX_DEPTH = 256


class _Open:
    __slots__ = ("attributes", "children", "first_text", "line", "namespace", "nodes",
                 "pending", "tag")

    def __init__(self, tag: str, namespace: str | None, attributes: tuple[Attribute, ...],
                 line: int) -> None:
        self.tag = tag
        self.namespace = namespace
        self.attributes = attributes
        self.line = line
        self.children: list[Element] = []
        #: Content nodes (elements, non-blank text runs) and the first one's text if text.
        self.nodes = 0
        self.first_text: str | None = None
        self.pending: list[str] = []

    def flush(self) -> None:
        """End the current text run: a content node unless it is only whitespace."""
        if not self.pending:
            return
        run = "".join(self.pending)
        self.pending = []
        if run.strip():
            self.nodes += 1
            if self.nodes == 1:
                self.first_text = run


def parse_resource_xml(data: bytes, what: str) -> Element:
    """The element tree of text XML ``data``; ``ManifestError`` naming ``what`` if refused."""
    from xml.parsers import expat

    if len(data) > MAX_SIZE:
        raise ManifestError(f"{what} is larger than {MAX_SIZE} bytes")
    stack: list[_Open] = []
    roots: list[Element] = []
    count = 0
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.ordered_attributes = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(name: str, *_: object) -> None:
        raise ManifestError(f"{what} declares a DTD or entity ({name!r}): refused")

    def start(name: str, raw: list[str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_ELEMENTS:
            raise ManifestError(f"{what} has more than {MAX_ELEMENTS} elements")
        if len(stack) >= MAX_DEPTH:
            raise ManifestError(f"{what} nests elements deeper than {MAX_DEPTH}")
        namespace, _, tag = name.rpartition(" ")
        attributes = []
        for qualified, value in zip(raw[0::2], raw[1::2], strict=True):
            ns, _, local = qualified.rpartition(" ")
            attributes.append(Attribute(namespace=ns or None, name=local, raw=value,
                                        value=compile_value(local, value)))
        if stack:
            stack[-1].flush()
            stack[-1].nodes += 1
        stack.append(_Open(tag, namespace or None, tuple(attributes), parser.CurrentLineNumber))

    def text(chunk: str) -> None:
        if not stack:
            return
        stack[-1].pending.append(chunk)

    def end(_name: str) -> None:
        node = stack.pop()
        node.flush()
        element = Element(tag=node.tag, namespace=node.namespace, attributes=node.attributes,
                          children=tuple(node.children), line=node.line,
                          text=node.first_text if node.nodes == 1 else None)
        if stack:
            stack[-1].children.append(element)
        else:
            roots.append(element)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ManifestError(f"{what} is not well-formed XML ({exc})") from None
    except (ValueError, LookupError) as exc:
        raise ManifestError(f"{what} cannot be decoded ({exc})") from None
    if not roots:
        raise ManifestError(f"{what} has no root element")
    return roots[0]
