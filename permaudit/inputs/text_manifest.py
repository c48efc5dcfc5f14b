"""Read a text ``AndroidManifest.xml`` (source or merged) safely into the shared element tree.

Safety: parsed with ``xml.parsers.expat`` and refused at the first ``<!DOCTYPE``, so no DTD,
no internal or external entity is ever declared, expanded or fetched (XXE, billion laughs);
an undeclared entity reference is a parse error. Size, element count and nesting are bounded,
and the tree is built with an explicit stack (no recursion).

Semantics: the tree is what aapt2 would compile (``XmlFlattener``): ``android:`` attributes
get their framework resource ids from ``permaudit.android.attributes`` and are sorted by id,
``tools:`` attributes are dropped, and values are typed as aapt2 types them for the
attributes the manifest parser reads -- integers, booleans, ``protectionLevel`` /
``foregroundServiceType`` / ``usesPermissionFlags`` flag names, references (``@...``) and
theme attributes (``?...``); everything else stays a string. So ``manifest_parser`` reads a
text manifest exactly as a binary one, with source lines kept on every element.

Source manifests (``src/main/AndroidManifest.xml``) are not what gets installed: the
Android Gradle plugin merges them with library manifests, fills ``${...}`` placeholders,
injects ``<uses-sdk>`` and (AGP 7+) the ``package`` from ``namespace``. We keep placeholders
as written, apply ``tools:node="remove"``/``"removeAll"`` and ``tools:remove`` (their
effect on the merged result is that the marked element or attributes are absent), give a
placeholder package when there is none, and say all of that in the notes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from permaudit._infra.records import record
from permaudit.android.attributes import ANDROID_NS, ATTRIBUTE_IDS, TOOLS_NS
from permaudit.errors import ManifestError
from permaudit.inputs.binary.protoxml import sorted_like_aapt2
from permaudit.inputs.binary.xmltree import (
    TYPE_ATTRIBUTE,
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
from permaudit.inputs.gradle import SourceSdk, sdk_note, unknown_sdk
from permaudit.inputs.manifest import NEVER_FOR_LOCATION, build_class_name, parse_manifest
from permaudit.inputs.manifest_values import (
    FOREGROUND_SERVICE_TYPES,
    PROTECTION_BASES,
    PROTECTION_FLAGS,
)
from permaudit.inputs.resources import mark_unresolved
from permaudit.model import Manifest, SdkOrigin

MAX_TEXT_SIZE = 16 * 1024 * 1024
MAX_ELEMENTS = 200_000
MAX_DEPTH = 256
#: Attributes over the whole document (real manifests have a few thousand).
MAX_ATTRIBUTES = 200_000
#: Encodings aapt2's expat reads without a conversion handler; anything else is refused.
ENCODINGS = frozenset({"utf-8", "utf8", "utf-16", "iso-8859-1", "latin1", "us-ascii", "ascii"})
_ENCODING_DECL = re.compile(rb"""\A(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
#: Longest integer text that can fit 32 bits ("-0x" + 8 digits, or 11 decimal digits), with
#: room for leading zeros; longer text is never parsed (int() of 4,300+ digits raises).
_MAX_INT_TEXT = 32
#: Manifest attributes Android reads as 32-bit integers: anything else is refused, as aapt2 does.
_INT32_ATTRIBUTES = frozenset({"versionCode", "versionCodeMajor"})
#: The package we show when the manifest has none (AGP 7+ keeps it in build.gradle).
PLACEHOLDER_PACKAGE = "unknown.namespace"

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_DECIMAL = re.compile(r"-?[0-9]+")
_HEX = re.compile(r"-?0[xX][0-9a-fA-F]+")
#: Attributes that must be integers (aapt2) or valid names (the package parser): a
#: placeholder in one cannot be read, so the attribute reads as absent.
_STRICT_ATTRIBUTES = frozenset(
    {"versionCode", "versionCodeMajor", "compileSdkVersion", "maxSdkVersion", "priority",
     "glEsVersion", "minSdkVersion", "targetSdkVersion", "sharedUserId"}
)  # fmt: skip
_FLAGS: dict[str, dict[str, int]] = {
    "protectionLevel": {
        **{name: value for value, name in PROTECTION_BASES.items()},
        **{name: bit for bit, name in PROTECTION_FLAGS},
    },
    "foregroundServiceType": {name: bit for bit, name in FOREGROUND_SERVICE_TYPES},
    "usesPermissionFlags": {"neverForLocation": NEVER_FOR_LOCATION},
}
_BOOLEANS = {"true": 0xFFFFFFFF, "TRUE": 0xFFFFFFFF, "True": 0xFFFFFFFF,
             "false": 0, "FALSE": 0, "False": 0}  # fmt: skip


@record
class TextManifest:
    """A text manifest read as Android would read it once compiled, plus caveats."""

    manifest: Manifest
    notes: tuple[str, ...]
    #: The element tree the manifest was read from (for ``res/xml`` files it points to).
    root: Element | None = None
    #: Where the SDK levels came from; ``None`` when the manifest declares them.
    sdk_origin: SdkOrigin | None = None


class _Open:
    """An element being built (mutable while its children are parsed)."""

    def __init__(
        self,
        *,
        tag: str,
        namespace: str | None,
        attributes: list[Attribute],
        line: int,
        removed: bool = False,
    ) -> None:
        self.tag = tag
        self.namespace = namespace
        self.attributes = attributes
        self.line = line
        self.children: list[Element] = []
        #: Under ``tools:node="remove"`` (itself or an ancestor).
        self.removed = removed


class _State:
    """What one parse collects (local to ``parse_text``)."""

    def __init__(self) -> None:
        self.stack: list[_Open] = []
        self.root: Element | None = None
        self.count = 0
        self.attributes = 0
        self.placeholders: set[str] = set()
        self.removed: list[str] = []
        self.unreadable: list[str] = []
        self.tools_markers = 0
        self.prefixes: list[tuple[str, str]] = []


def read_text_manifest(
    data: bytes, *, sdk: Callable[[], SourceSdk] = unknown_sdk
) -> TextManifest:
    """Parse ``data`` (a text manifest) into a ``Manifest`` with lines, and the caveats.

    ``sdk`` is asked for the levels only when the manifest declares neither
    ``minSdkVersion`` nor ``targetSdkVersion`` (a source manifest: Gradle injects them);
    by default they are unknown.
    """
    root, state = parse_text(data)
    notes: list[str] = []
    package = root.by_name("package", None)
    text = package.coerce_to_string() if package is not None else None
    if not text or _PLACEHOLDER.search(text):
        why = f"package is {text!r}" if text else "<manifest> has no package attribute"
        notes.append(
            f"{why}: since Android Gradle Plugin 7 the package comes from build.gradle's "
            f"namespace/applicationId; shown as {PLACEHOLDER_PACKAGE!r}, and relative class "
            "names are resolved against it."
        )
        text = PLACEHOLDER_PACKAGE
        root = _with_package(root, text)
    uses_sdk = [c for c in root.children if c.tag == "uses-sdk"]
    has_sdk = any(
        c.android(ATTRIBUTE_IDS["minSdkVersion"]) or c.android(ATTRIBUTE_IDS["targetSdkVersion"])
        for c in uses_sdk
    )
    source = bool(notes or state.placeholders or state.tools_markers or not has_sdk)
    if source:
        notes.insert(
            0,
            "Source manifest, not the merged one: the manifests of libraries were not merged "
            "in, so permissions and components they add are missing.",
        )
        root, alias_notes = _fix_aliases(root, text)
        notes.extend(alias_notes)
    root = mark_unresolved(root, "a text manifest: the app's res/values are not read")
    levels = None if has_sdk else sdk()
    fallback = (levels.min_sdk, levels.target_sdk) if levels is not None else (1, 1)
    manifest = parse_manifest(root, with_lines=True, sdk_fallback=fallback)
    if levels is not None:
        notes.append(sdk_note(levels))
        notes.extend(levels.notes)
    if state.placeholders:
        notes.append(
            "Build placeholders kept as written: " + ", ".join(sorted(state.placeholders)) + "."
        )
    if state.unreadable:
        notes.append(
            "Placeholders in attributes that must be integers or names read as absent: "
            + ", ".join(state.unreadable)
            + "."
        )
    if state.removed:
        notes.append(
            "Left out as the manifest merger would (tools:node remove/removeAll): "
            + ", ".join(state.removed)
            + "."
        )
    return TextManifest(
        manifest=manifest,
        notes=tuple(notes),
        root=root,
        sdk_origin=levels.origin if levels is not None else None,
    )


def _fix_aliases(root: Element, package: str) -> tuple[Element, list[str]]:
    """Source manifests only: let ``<activity-alias>`` find targets the merger would provide.

    Android resolves ``targetActivity`` among the activities parsed *before* the alias
    (``ParsedActivityUtils.parseActivityAlias``). In a source manifest the target may be
    declared later in the file or in a library module's manifest; we move aliases after the
    activities and leave out those whose target is not in this file, saying so.
    """
    name_id = ATTRIBUTE_IDS["name"]
    target_id = ATTRIBUTE_IDS["targetActivity"]
    notes: list[str] = []
    children = list(root.children)
    for index, child in enumerate(children):
        if child.tag != "application":
            continue
        activities = {
            build_class_name(package, attr.raw)
            for c in child.children
            if c.tag == "activity" and (attr := c.android(name_id)) is not None and attr.raw
        }
        kept: list[Element] = []
        aliases: list[Element] = []
        for item in child.children:
            target = item.android(target_id) if item.tag == "activity-alias" else None
            if target is None or not target.raw:
                kept.append(item)
            elif build_class_name(package, target.raw) in activities:
                aliases.append(item)
            else:
                notes.append(
                    f"<activity-alias> on line {item.line} targets {target.raw}, which is "
                    "declared in another module's manifest: left out."
                )
        if aliases or len(kept) != len(child.children):
            children[index] = Element(
                tag=child.tag,
                namespace=child.namespace,
                attributes=child.attributes,
                children=(*kept, *aliases),
                line=child.line,
            )
        break  # Android reads only the first <application>
    fixed = Element(
        tag=root.tag,
        namespace=root.namespace,
        attributes=root.attributes,
        children=tuple(children),
        line=root.line,
    )
    return fixed, notes


def parse_text(data: bytes) -> tuple[Element, _State]:
    """Parse ``data`` with expat, refusing any DTD; return the root element and what was seen."""
    from xml.parsers import expat

    if len(data) > MAX_TEXT_SIZE:
        raise ManifestError(f"text manifest is larger than {MAX_TEXT_SIZE} bytes")
    declared = _ENCODING_DECL.match(data[:200])
    if declared is not None and declared.group(1).decode("latin-1").lower() not in ENCODINGS:
        shown = declared.group(1).decode("latin-1")[:40]
        raise ManifestError(
            f"text manifest declares encoding {shown!r}: unsupported (aapt2 reads UTF-8, "
            "UTF-16, ISO-8859-1 and US-ASCII only)"
        )
    state = _State()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.ordered_attributes = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def doctype(name: str, *_: object) -> None:
        raise ManifestError(
            f"text manifest has a <!DOCTYPE {name}> declaration: refused (DTDs and entities "
            "are never processed; Android manifests have none, and they enable XXE attacks)"
        )

    def entity(name: str, *_: object) -> None:
        raise ManifestError(f"text manifest declares entity {name!r}: refused")

    def start_ns(prefix: str | None, uri: str) -> None:
        state.prefixes.append((prefix or "", uri))

    def start(name: str, attributes: list[str]) -> None:
        _start(state, name, attributes, parser.CurrentLineNumber)

    def end(_name: str) -> None:
        _end(state)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.StartNamespaceDeclHandler = start_ns
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise ManifestError(f"text manifest is not well-formed XML ({exc})") from None
    except (ValueError, LookupError) as exc:  # an encoding expat cannot convert
        raise ManifestError(f"text manifest cannot be decoded ({exc})") from None
    if state.root is None:
        raise ManifestError("text manifest has no root element")
    return state.root, state


def _start(state: _State, name: str, raw: list[str], line: int) -> None:
    state.count += 1
    if state.count > MAX_ELEMENTS:
        raise ManifestError(f"text manifest has more than {MAX_ELEMENTS} elements")
    if len(state.stack) >= MAX_DEPTH:
        raise ManifestError(f"text manifest nests elements deeper than {MAX_DEPTH}")
    state.attributes += len(raw) // 2
    if state.attributes > MAX_ATTRIBUTES:
        raise ManifestError(f"text manifest has more than {MAX_ATTRIBUTES} attributes")
    namespace, _, tag = name.rpartition(" ")
    pairs = list(zip(raw[0::2], raw[1::2], strict=True))
    tools = {n.rpartition(" ")[2]: v for n, v in pairs if n.startswith(TOOLS_NS + " ")}
    if tools:
        state.tools_markers += 1
    removed_names = _tools_remove_names(state, tools.get("remove", ""))
    attributes = []
    for qualified, value in pairs:
        ns, _, local = qualified.rpartition(" ")
        if ns == TOOLS_NS or (ns, local) in removed_names:
            continue
        attribute = _attribute(state, ns or None, local, value, line, tag)
        if attribute is not None:
            attributes.append(attribute)
    node = _Open(
        tag=tag,
        namespace=namespace or None,
        attributes=sorted_like_aapt2(attributes),
        line=line,
        removed=tools.get("node") in ("remove", "removeAll")
        or bool(state.stack and state.stack[-1].removed),
    )
    if node.removed and not (state.stack and state.stack[-1].removed):
        label = next((a.raw for a in attributes if a.name == "name" and a.raw), None)
        state.removed.append(f"<{tag}{' ' + label if label else ''}> (line {line})")
    state.stack.append(node)


def _end(state: _State) -> None:
    node = state.stack.pop()
    element = Element(
        tag=node.tag,
        namespace=node.namespace,
        attributes=tuple(node.attributes),
        children=tuple(node.children),
        line=node.line,
    )
    if not state.stack:
        if node.removed:
            raise ManifestError('the root element is marked tools:node="remove"')
        state.root = element
    elif not node.removed:
        state.stack[-1].children.append(element)


def _tools_remove_names(state: _State, text: str) -> set[tuple[str, str]]:
    """``tools:remove="android:foo, android:bar"`` as (namespace uri, local name) pairs."""
    names = set()
    for item in text.split(","):
        prefix, _, local = item.strip().rpartition(":")
        if not local:
            continue
        uri = next((u for p, u in reversed(state.prefixes) if p == prefix), prefix)
        names.add((uri, local))
    return names


def _attribute(
    state: _State, namespace: str | None, name: str, value: str, line: int, tag: str
) -> Attribute | None:
    state.placeholders.update(_PLACEHOLDER.findall(value))
    if namespace != ANDROID_NS:
        return Attribute(
            namespace=namespace, name=name, raw=value,
            value=TypedValue(type=TYPE_STRING, string=value),
        )  # fmt: skip
    if name in _STRICT_ATTRIBUTES and _PLACEHOLDER.search(value):
        state.unreadable.append(f"<{tag}> android:{name}={value!r} (line {line})")
        return None
    typed = compile_value(name, value)
    if name in _INT32_ATTRIBUTES and typed.type not in (TYPE_INT_DEC, TYPE_INT_HEX):
        shown = value if len(value) <= 40 else f"{value[:40]}... ({len(value)} characters)"
        raise ManifestError(
            f"text manifest line {line}: android:{name}={shown!r} is not a 32-bit integer "
            "(aapt2 refuses it)"
        )
    return Attribute(
        namespace=namespace,
        name=name,
        resource_id=ATTRIBUTE_IDS.get(name, 0),
        raw=value,
        value=typed,
    )


def compile_value(name: str, value: str) -> TypedValue:
    """Type ``value`` of ``android:name`` as aapt2 compiles it (for what the parser reads)."""
    text = value.strip()
    if len(text) > _MAX_INT_TEXT and text[:1] in "-0123456789":
        return TypedValue(type=TYPE_STRING, string=value)  # too long for any 32-bit int
    if name in _FLAGS and text and not _DECIMAL.fullmatch(text) and not _HEX.fullmatch(text):
        bits = 0
        for flag in text.split("|"):
            known = _FLAGS[name].get(flag.strip())
            if known is None:
                return TypedValue(type=TYPE_STRING, string=value)
            bits |= known
        return TypedValue(type=TYPE_INT_HEX, data=bits)
    if text in _BOOLEANS:
        return TypedValue(type=TYPE_INT_BOOLEAN, data=_BOOLEANS[text])
    if _DECIMAL.fullmatch(text) and -(1 << 31) <= int(text) < (1 << 32):
        return TypedValue(type=TYPE_INT_DEC, data=int(text) & 0xFFFFFFFF)
    if _HEX.fullmatch(text) and -(1 << 31) <= int(text, 16) < (1 << 32):
        return TypedValue(type=TYPE_INT_HEX, data=int(text, 16) & 0xFFFFFFFF)
    if text == "@null":
        return TypedValue(type=TYPE_NULL, data=0)
    if text.startswith("@") and not text.startswith("@@"):
        return TypedValue(type=TYPE_REFERENCE, data=0)  # unresolvable without resources
    if text.startswith("?"):
        return TypedValue(type=TYPE_ATTRIBUTE, data=0)
    return TypedValue(type=TYPE_STRING, string=value)


def _with_package(root: Element, package: str) -> Element:
    attributes = tuple(a for a in root.attributes if not (a.name == "package" and not a.namespace))
    added = Attribute(
        namespace=None, name="package", raw=package,
        value=TypedValue(type=TYPE_STRING, string=package),
    )  # fmt: skip
    return Element(
        tag=root.tag,
        namespace=root.namespace,
        attributes=(*attributes, added),
        children=root.children,
        line=root.line,
    )
