"""Android App Bundles: aapt2 protobuf XML decoded with the project's schema, base + modules.

The schema's field numbers are checked against hand-encoded wire bytes written from the
public tools/aapt2/Resources.proto (not from our own descriptors), so a wrong number fails
here. The corpus bundles are compared with the oracle's independent protobuf walk.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from permaudit.android.attributes import ANDROID_NS, ATTRIBUTE_IDS
from permaudit.errors import InputError, ManifestError
from permaudit.inputs.binary.protoxml import MAX_DEPTH, parse_proto_xml, xml_node_class
from permaudit.inputs.binary.xmltree import (
    TYPE_ATTRIBUTE,
    TYPE_INT_BOOLEAN,
    TYPE_INT_DEC,
    TYPE_INT_HEX,
    TYPE_REFERENCE,
    TYPE_STRING,
)
from permaudit.inputs.loader import load
from permaudit.inputs.manifest import parse_manifest
from tests.conftest import corpus_dir, corpus_files

TOOLS_NS = "http://schemas.android.com/tools"


# --- protobuf wire format, by hand ------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _text(number: int, value: str) -> bytes:
    return _field(number, value.encode())


def _attr(name: str, value: str, *, ns: str = ANDROID_NS, item: bytes | None = None) -> bytes:
    """XmlAttribute {namespace_uri=1, name=2, value=3, resource_id=5, compiled_item=6}."""
    body = _text(1, ns) + _text(2, name) + _text(3, value)
    if ns == ANDROID_NS:
        body += _field(5, ATTRIBUTE_IDS[name])
    if item is not None:
        body += _field(6, item)
    return body


def _element(name: str, attrs: list[bytes], children: list[bytes], line: int = 0) -> bytes:
    """XmlNode {element=1, source=3 {line_number=1}} holding XmlElement {name=3, attribute=4,
    child=5}."""
    element = _text(3, name)
    element += b"".join(_field(4, a) for a in attrs)
    element += b"".join(_field(5, c) for c in children)
    node = _field(1, element)
    if line:
        node += _field(3, _field(1, line))
    return node


def _prim(field_number: int, value: int) -> bytes:
    """Item {prim=7 {oneof: int_decimal_value=6, int_hexadecimal_value=7, boolean_value=8}}."""
    return _field(7, _field(field_number, value))


def _string_item(value: str) -> bytes:
    return _field(2, _text(1, value))  # Item {str=2 {value=1}}


def _manifest(*children: bytes, attrs: tuple[bytes, ...] = ()) -> bytes:
    package = _text(2, "package") + _text(3, "org.example.aab")  # no namespace, not compiled
    return _element("manifest", [package, *attrs], list(children), line=1)


def test_hand_encoded_manifest_decodes_with_android_semantics() -> None:
    permission = _element(
        "uses-permission",
        [
            _attr("maxSdkVersion", "28", item=_prim(6, 28)),
            _attr(
                "name", "android.permission.CAMERA", item=_string_item("android.permission.CAMERA")
            ),
        ],
        [],
        line=3,
    )
    sdk = _element(
        "uses-sdk",
        [
            _attr("minSdkVersion", "24", item=_prim(6, 24)),
            _attr("targetSdkVersion", "34", item=_prim(6, 34)),
        ],
        [],
    )
    service = _element(
        "service",
        [
            _attr("name", ".Rec", item=_string_item(".Rec")),
            _attr("exported", "true", item=_prim(8, 1)),
            _attr("foregroundServiceType", "microphone", item=_prim(7, 0x80)),
            _attr("node", "replace", ns=TOOLS_NS),
        ],
        [],
    )
    application = _element(
        "application",
        [_attr("debuggable", "true", item=_prim(8, 1))],
        [service],
    )
    root = parse_proto_xml(_manifest(sdk, permission, application))
    assert root.tag == "manifest" and root.line == 1
    manifest = parse_manifest(root, with_lines=True)
    assert manifest.package == "org.example.aab"
    assert (manifest.min_sdk, manifest.target_sdk) == (24, 34)
    assert [(u.name, u.max_sdk, u.line) for u in manifest.uses_permissions] == [
        ("android.permission.CAMERA", 28, 3)
    ]
    assert manifest.application.debuggable is True
    (rec,) = manifest.components
    assert (rec.name, rec.exported, rec.foreground_service_types) == (
        "org.example.aab.Rec",
        True,
        ("microphone",),
    )
    service_element = root.children[2].children[0]
    # tools: attributes are dropped (XmlFlattener) and the rest sorted by resource id.
    assert [a.name for a in service_element.attributes] == [
        "name",
        "exported",
        "foregroundServiceType",
    ]
    types = [a.value.type for a in service_element.attributes]
    assert types == [TYPE_STRING, TYPE_INT_BOOLEAN, TYPE_INT_HEX]


def test_typed_values_follow_aapt2_flattening() -> None:
    reference = _field(1, _field(2, 0x7F010001))  # Item {ref=1 {id=2}}
    theme_attr = _field(1, _field(1, 1) + _field(2, 0x01010000))  # Reference.type=ATTRIBUTE
    element = _element(
        "application",
        [
            _attr("label", "@string/app", item=reference),
            _attr("theme", "?attr/x", item=theme_attr),
            _attr("priority", "-5", item=_prim(6, (1 << 64) - 5)),  # int32 -5 on the wire
            _attr("name", "raw"),  # not compiled: a string, raw value kept
        ],
        [],
    )
    root = parse_proto_xml(element)
    by_name = {a.name: a for a in root.attributes}
    assert (by_name["label"].value.type, by_name["label"].value.data) == (
        TYPE_REFERENCE,
        0x7F010001,
    )
    assert by_name["label"].raw is None
    assert by_name["theme"].value.type == TYPE_ATTRIBUTE
    assert (by_name["priority"].value.type, by_name["priority"].value.signed) == (
        TYPE_INT_DEC,
        -5,
    )
    assert (by_name["name"].raw, by_name["name"].value.string) == ("raw", "raw")


def test_schema_round_trips_through_the_protobuf_runtime() -> None:
    node_class = xml_node_class()
    node = node_class()
    node.element.name = "manifest"
    attribute = node.element.attribute.add()
    attribute.namespace_uri = ANDROID_NS
    attribute.name = "versionCode"
    attribute.resource_id = ATTRIBUTE_IDS["versionCode"]
    attribute.compiled_item.prim.int_decimal_value = 42
    data = node.SerializeToString()
    # The runtime writes exactly the wire bytes of the public schema.
    expected = _field(
        1,
        _text(3, "manifest")
        + _field(
            4,
            _text(1, ANDROID_NS)
            + _text(2, "versionCode")
            + _field(5, ATTRIBUTE_IDS["versionCode"])
            + _field(6, _prim(6, 42)),
        ),
    )
    assert data == expected


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"\x0a\xff\xff", "cannot be decoded"),
        (_field(2, b"just text"), "no root element"),
        (b"", "no root element"),
    ],
    ids=["truncated", "text-root", "empty"],
)
def test_bad_protobuf_is_a_manifest_error(data: bytes, fragment: str) -> None:
    with pytest.raises(ManifestError, match=re.escape(fragment)):
        parse_proto_xml(data)


@pytest.mark.parametrize(
    ("levels", "fragment"),
    [
        (MAX_DEPTH + 1, f"nests elements deeper than {MAX_DEPTH}"),
        # protobuf's own decoder stops at 100 nested messages (2 per element level).
        (60, "cannot be decoded"),
    ],
)
def test_nesting_is_bounded(levels: int, fragment: str) -> None:
    node = _element("x", [], [])
    for _ in range(levels):
        node = _element("x", [], [node])
    with pytest.raises(ManifestError, match=re.escape(fragment)):
        parse_proto_xml(node)


# --- the corpus ---------------------------------------------------------------------------


def _oracle(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((corpus_dir() / "oracle" / f"{path.name}.json").read_text())


def _permission_set(view: dict) -> set[tuple[str, int | None]]:  # type: ignore[type-arg]
    return {
        (p["name"], int(p["maxSdkVersion"]) if p["maxSdkVersion"] else None)
        for p in view["uses_permission"]
    }


@pytest.mark.parametrize("path", corpus_files("bundles", "*.aab"), ids=lambda p: p.name)
def test_corpus_bundles_match_the_oracle(path: Path) -> None:
    modules = _oracle(path)["protobuf_manifest"]
    base = modules["base/manifest/AndroidManifest.xml"]
    app = load(str(path))
    manifest = app.manifest
    assert app.input.kind == "aab"
    assert manifest.package == base["package"]
    assert manifest.version_code == int(base["versionCode"])
    assert manifest.min_sdk == int(base["minSdkVersion"])
    # No targetSdkVersion: Android's default is minSdk (the oracle prints null).
    assert manifest.target_sdk == int(base["targetSdkVersion"] or base["minSdkVersion"])
    ours = {(u.name, u.max_sdk) for u in manifest.uses_permissions}
    assert ours == _permission_set(base)
    assert {s.path for s in app.splits} == set(modules)
    for split in app.splits:
        view = modules[split.path]
        assert split.name == (view["split"] or "base")
        assert split.kind == ("base" if view["split"] is None else "feature")
        assert {(u.name, u.max_sdk) for u in split.uses_permissions} == _permission_set(view)
    assert app.notes[0].startswith("Android App Bundle")


def test_feature_module_components_join_the_app(corpus: Path) -> None:
    app = load(str(corpus / "bundles" / "bundletool-watch-face-from-tool.aab"))
    runtime = next(s for s in app.splits if s.name == "runtime")
    base = next(s for s in app.splits if s.name == "base")
    assert base.components == 0 and runtime.components == 11
    assert len(app.manifest.components) == 11
    # Its permissions are all in the base too (AGP merges them there); Android would
    # ignore them in the split APK, and they are listed as ignored elements.
    assert {u.name for u in runtime.uses_permissions} <= {u.name for u in base.uses_permissions}
    assert runtime.note is not None and "ignored by Android" in runtime.note
    assert sum(1 for e in app.manifest.ignored if e.parent == "split runtime/manifest") == 9


def test_on_demand_modules_are_noted(corpus: Path) -> None:
    app = load(str(corpus / "bundles" / "bundletool-install-time-permanent-modules.aab"))
    on_demand = [n for n in app.notes if "delivered on demand" in n]
    assert [n.split()[1] for n in on_demand] == ["assets", "java"]  # initialInstall: install-time


def _aab(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_broken_module_manifest_names_the_member(tmp_path: Path) -> None:
    path = tmp_path / "broken.aab"
    path.write_bytes(
        _aab(
            {
                "base/manifest/AndroidManifest.xml": _manifest(),
                "feature/manifest/AndroidManifest.xml": b"\x0a\xff\xff",
            }
        )
    )
    with pytest.raises(ManifestError) as info:
        load(str(path))
    assert str(info.value).startswith(f"{path}: feature/manifest/AndroidManifest.xml: ")


def test_inconsistent_module_package_is_refused(tmp_path: Path) -> None:
    other = _element("manifest", [_text(2, "package") + _text(3, "org.other")], [])
    path = tmp_path / "mixed.aab"
    path.write_bytes(
        _aab(
            {
                "base/manifest/AndroidManifest.xml": _manifest(),
                "feature/manifest/AndroidManifest.xml": other,
            }
        )
    )
    with pytest.raises(InputError, match=re.escape("inconsistent package org.other")):
        load(str(path))


def _empty_children(count: int) -> bytes:
    """An XmlNode whose element holds ``count`` empty ``child`` messages (2 bytes each)."""
    element = b"\x1a\x08manifest" + b"\x2a\x00" * count
    return b"\x0a" + _wire_varint(len(element)) + element


def _wire_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def test_millions_of_empty_messages_are_refused_before_they_are_built() -> None:
    import zlib

    from permaudit.inputs.binary import protoxml

    data = _empty_children(4_000_000)  # 8 MB; deflates to a few KB
    assert len(zlib.compress(data, 9)) < 20_000
    with pytest.raises(ManifestError, match=f"more than {protoxml.MAX_MESSAGES} nodes"):
        parse_proto_xml(data)


def test_unknown_fields_bound_the_pre_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    from permaudit.inputs.binary import protoxml

    monkeypatch.setattr(protoxml, "MAX_FIELDS", 1000)
    data = b"\xa0\x06\x00" * 1001  # unknown varint field 100 at the top level
    with pytest.raises(ManifestError, match="more than 1000 fields"):
        parse_proto_xml(data)


def test_children_below_the_cap_still_decode() -> None:
    root = parse_proto_xml(_empty_children(1000))
    assert root.tag == "manifest" and root.children == ()
