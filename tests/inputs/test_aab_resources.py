"""App Bundle resources: base/resources.pb resolves what resources.arsc resolves for an APK.

Three oracles: the same app built as an APK (arsc_writer + axml_writer) must give the same
manifest, network security config and backup rules; the corpus bundles' resources.pb
decoded *in full* by protobuf's own parser (a schema declared here from the public
Resources.proto, independent of the lazy reader) must give the same default values for
every entry; and the hand-written wire bytes of fixtures/aab_writer.py.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures import aab_writer as bw
from fixtures import resource_apks as ra
from permaudit.inputs.binary.arsc import TYPE_INT_BOOLEAN, TYPE_INT_DEC, TYPE_REFERENCE
from permaudit.inputs.binary.protoxml import parse_proto_xml
from permaudit.inputs.binary.respb import ProtoResourceTable, RespbError
from permaudit.inputs.loader import load
from permaudit.inputs.resources import MAX_CHAIN, resolve
from tests.conftest import corpus_files


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _flat_types() -> bw.Types:
    """The edge types with the density-only value made default (arsc_writer writes
    locale configs only)."""
    types = bw.edge_types()
    types["bool"]["hdpi_true"] = {"": True}
    return types


@pytest.mark.parametrize("locale", [None, "ru", "ru-rRU", "pt-rBR", "uk"])
def test_bundle_reads_like_the_same_app_as_an_apk(tmp_path: Path, locale: str | None) -> None:
    types = _flat_types()
    aab = _write(tmp_path, "e.aab", bw.build_aab(
        bw.edge_manifest(), types, ra.edge_files(), package=bw.EDGE_PACKAGE))
    apk = _write(tmp_path, "e.apk", ra.build_apk(bw.edge_manifest(), ra.edge_files(), types))
    bundle, package = load(aab, code=False, locale=locale), load(apk, code=False, locale=locale)
    assert bundle.manifest == package.manifest
    assert bundle.network_security == package.network_security
    assert bundle.backup == package.backup
    assert bundle.network_security is not None and bundle.network_security.source == "config"


@pytest.mark.parametrize(("locale", "label"), [
    (None, "Edge Bundle"),
    ("ru", "Пограничный пакет"),
    ("ru-rRU", "Пограничный пакет"),  # no ru-RU value: the language's
    ("pt-rBR", "Pacote de borda"),
    ("pt", "Edge Bundle"),  # only pt-BR is defined: the default, as Android picks
    ("uk", "Edge Bundle"),
])
def test_label_and_locale_fallback(tmp_path: Path, locale: str | None, label: str) -> None:
    app = load(_write(tmp_path, "e.aab", bw.edge_bundle()), code=False, locale=locale)
    assert app.manifest.label == label
    assert app.manifest.version_name == "3.1.4"  # a reference to a reference
    assert app.manifest.target_sdk == 34


def test_flags_by_reference_feed_the_model(tmp_path: Path) -> None:
    app = load(_write(tmp_path, "e.aab", bw.edge_bundle()), code=False)
    application = app.manifest.application
    assert (application.debuggable, application.allow_backup) == (True, True)
    assert application.uses_cleartext_traffic is False
    exported = {c.name.rsplit(".", 1)[1]: c.exported for c in app.manifest.components}
    # .Sync's value exists only for hdpi: every device matches a density-only config.
    assert exported == {"Main": False, "Sync": True, "Loop": False, "RuOnly": False}
    assert app.manifest.unresolved == ()
    assert [b.kind for b in app.backup] == ["fullBackupContent", "dataExtractionRules"]
    assert app.network_security is not None
    names = {d.name for c in app.network_security.domains for d in c.domains}
    assert "api.example.ru" in names and "pinned.example.com" in names


def _edge_table() -> ProtoResourceTable:
    return ProtoResourceTable(bw.resource_table(bw.edge_types(), package=bw.EDGE_PACKAGE))


def test_reference_loops_and_configuration_dependent_values_say_why() -> None:
    table = _edge_table()
    loop = resolve(table, bw.LOOP_A)
    assert loop.value is None and f"longer than {MAX_CHAIN}" in (loop.reason or "")
    only_ru = resolve(table, bw.RU_ONLY)
    assert only_ru.value is None
    assert "configuration-dependent" in (only_ru.reason or "") and "ru" in (only_ru.reason or "")
    assert resolve(table, bw.RU_ONLY, "ru").value == "только по-русски"
    missing = resolve(table, 0x7F0300FF)
    assert missing.reason == "no entry @0x7f0300ff in resources.pb"
    assert "framework" in (resolve(table, 0x01040000).reason or "")
    assert resolve(table, ra.NSC_ID).value == "res/xml/network_security_config.xml"


def test_no_or_broken_resources_pb_leaves_references_unresolved_with_the_reason(
    tmp_path: Path,
) -> None:
    with zipfile.ZipFile(io.BytesIO(bw.edge_bundle())) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    for table, reason in [
        (None, "no base/resources.pb in the app bundle"),
        (b"\x12\xff\xff\xff\x0f", "base/resources.pb cannot be read (resources.pb: "),
    ]:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data in members.items():
                if name == "base/resources.pb" and table is None:
                    continue
                archive.writestr(name, table if name == "base/resources.pb" and table else data)
        app = load(_write(tmp_path, "b.aab", buffer.getvalue()), code=False)
        reasons = {u.reason for u in app.manifest.unresolved}
        assert len(reasons) == 1 and next(iter(reasons)).startswith(reason), reasons
        assert app.manifest.label is None
        assert app.network_security is not None
        assert app.network_security.problems[0].startswith(
            "android:networkSecurityConfig=@0x7f010000: " + reason)


def test_proto_xml_text_nodes_are_kept_as_the_binary_xml_has_them() -> None:
    element = bw.Element(tag="domain-config", children=(
        bw.Element(tag="domain", text="a.example"),
        bw.Element(tag="pin", text="  \n  "),
    ))
    root = parse_proto_xml(bw.xml_node(element))
    assert [c.text for c in root.children] == ["a.example", None]
    assert root.text is None  # whitespace between children, and children


# --- the lazy reader against protobuf's full decode ---------------------------------------

_M, _S, _U, _I, _B, _F = "msg", "str", "u32", "i32", "b", "f"
#: From the public tools/aapt2/Resources.proto and Configuration.proto, only the fields
#: compared here (proto2 syntax, for field presence; same wire format); protobuf skips the
#: others as unknown fields.
_SCHEMA: dict[str, list[tuple[str, int, str, str | None, bool]]] = {
    "ResourceTable": [("package", 2, _M, "Package", True)],
    "Package": [("package_id", 1, _M, "Id", False), ("type", 3, _M, "Type", True)],
    "Id": [("id", 1, _U, None, False)],
    "Type": [("type_id", 1, _M, "Id", False), ("name", 2, _S, None, False),
             ("entry", 3, _M, "Entry", True)],
    "Entry": [("entry_id", 1, _M, "Id", False), ("name", 2, _S, None, False),
              ("config_value", 6, _M, "ConfigValue", True)],
    "ConfigValue": [("config", 1, _M, "Configuration", False), ("value", 2, _M, "Value", False)],
    "Configuration": [("locale", 3, _S, None, False), ("density", 18, _U, None, False)],
    "Value": [("item", 4, _M, "Item", False), ("compound_value", 5, _M, "Empty", False)],
    "Empty": [],
    "Item": [("ref", 1, _M, "Reference", False), ("str", 2, _M, "Text", False),
             ("raw_str", 3, _M, "Text", False), ("styled_str", 4, _M, "Text", False),
             ("file", 5, _M, "Text", False), ("id", 6, _M, "Empty", False),
             ("prim", 7, _M, "Primitive", False)],
    "Reference": [("type", 1, _I, None, False), ("id", 2, _U, None, False)],
    "Text": [("value", 1, _S, None, False)],
    "Primitive": [("int_decimal_value", 6, _I, None, False),
                  ("boolean_value", 8, _B, None, False)],
}


def _table_class() -> Any:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    proto = descriptor_pb2.FieldDescriptorProto
    kinds = {_M: proto.TYPE_MESSAGE, _S: proto.TYPE_STRING, _U: proto.TYPE_UINT32,
             _I: proto.TYPE_INT32, _B: proto.TYPE_BOOL, _F: proto.TYPE_FLOAT}
    file = descriptor_pb2.FileDescriptorProto(name="t.proto", package="t", syntax="proto2")
    for name, fields in _SCHEMA.items():
        message = file.message_type.add(name=name)
        for fname, number, kind, type_name, repeated in fields:
            added = message.field.add(
                name=fname, number=number, type=kinds[kind],
                label=proto.LABEL_REPEATED if repeated else proto.LABEL_OPTIONAL)
            if type_name:
                added.type_name = f".t.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("t.ResourceTable"))


def _defaults(data: bytes) -> Iterator[tuple[int, object]]:
    """(resource id, default value) of every plain entry, by protobuf's full decode."""
    table = _table_class()()
    table.ParseFromString(data)
    for package in table.package:
        for type_ in package.type:
            for entry in type_.entry:
                res_id = package.package_id.id << 24 | type_.type_id.id << 16 | entry.entry_id.id
                for config_value in entry.config_value:
                    config = config_value.config
                    # ByteSize counts the fields the schema above leaves unknown too
                    # (orientation, screen size, ...): only a config with none is default.
                    if config.ByteSize() or not config_value.value.HasField("item"):
                        continue
                    yield res_id, _item_value(config_value.value.item)
                    break


def _item_value(item: Any) -> object:
    for name in ("str", "raw_str", "styled_str", "file"):
        if item.HasField(name):
            return getattr(item, name).value
    if item.HasField("ref"):
        return ("ref", item.ref.id) if item.ref.type == 0 else ("attr", item.ref.id)
    if item.HasField("id"):
        return False  # an @id entry: aapt2's Id::Flatten writes a boolean false
    if item.HasField("prim"):
        prim = item.prim
        if prim.HasField("boolean_value"):
            return bool(prim.boolean_value)
        return ("prim", prim.int_decimal_value)
    return None


def _lazy_value(table: ProtoResourceTable, res_id: int) -> object:
    default = next(c for c in table.candidates(res_id) if c.config.is_default)
    value = default.value
    assert value is not None
    if value.data_type == 0x03:
        return table.string(value.data)
    if value.data_type == TYPE_REFERENCE:
        return ("ref", value.data)
    if value.data_type == 0x02:
        return ("attr", value.data)
    if value.data_type == TYPE_INT_BOOLEAN:
        return value.data != 0
    if value.data_type == TYPE_INT_DEC:
        return ("prim", value.data - (1 << 32) if value.data & 0x80000000 else value.data)
    return ("other", value.data_type)


def _bundle_tables() -> list[tuple[str, bytes]]:
    """The edge tables, and every module's resources.pb of the corpus bundles."""
    found = [("edge", bw.resource_table(bw.edge_types(), package=bw.EDGE_PACKAGE)),
             *((f"edge {m}", t) for m, t in bw.feature_tables().items())]
    for path in corpus_files("bundles", "*.aab"):
        with zipfile.ZipFile(path) as archive:
            found.extend((f"{path.name} {name}", archive.read(name))
                         for name in archive.namelist() if name.endswith("/resources.pb"))
    return found


@pytest.mark.parametrize(("name", "data"), _bundle_tables(),
                         ids=[name for name, _ in _bundle_tables()])
def test_lazy_reader_agrees_with_protobufs_full_decode(name: str, data: bytes) -> None:
    table = ProtoResourceTable(data)
    compared = 0
    for res_id, expected in _defaults(data):
        got = _lazy_value(table, res_id)
        if isinstance(expected, tuple) and expected[0] == "prim" and got[0] == "other":  # type: ignore[index]
            continue  # a float, dimension or colour: not compared (the schema above omits them)
        assert got == expected, (name, hex(res_id))
        compared += 1
    # Entry 0 of each type (an empty EntryId: proto3 leaves zeros out) is compared too.
    plain = sum(1 for _ in _defaults(data))
    assert compared >= (10 if name == "edge" else min(plain, 1)), (name, compared)


def test_corpus_bundle_labels_are_their_tables_default_strings() -> None:
    for path in corpus_files("bundles", "*.aab"):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if "base/resources.pb" not in names:
                continue
            manifest = parse_proto_xml(archive.read("base/manifest/AndroidManifest.xml"))
            data = archive.read("base/resources.pb")
        application = next(c for c in manifest.children if c.tag == "application")
        label = application.android(0x01010001)
        assert label is not None and label.value.type == TYPE_REFERENCE
        expected = dict(_defaults(data))[label.value.data]
        assert load(str(path), code=False).manifest.label == expected


# --- hostile tables -----------------------------------------------------------------------


def _probe(data: bytes) -> None:
    """Build and query; only RespbError may come out."""
    try:
        table = ProtoResourceTable(data)
    except RespbError:
        return
    for res_id in (bw.APP_NAME, bw.VERSION, bw.LOOP_A, bw.DEBUG, ra.NSC_ID, bw.TARGET):
        with contextlib.suppress(RespbError):
            resolve(table, res_id, "ru")


def test_every_truncation_and_byte_flip_is_an_error_or_a_value() -> None:
    data = bw.resource_table(bw.edge_types(), package=bw.EDGE_PACKAGE)
    for end in range(len(data)):
        _probe(data[:end])
    for pos in range(len(data)):
        flipped = bytearray(data)
        flipped[pos] ^= 0xFF
        _probe(bytes(flipped))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_an_error_or_a_table(data: bytes) -> None:
    _probe(data)


def test_a_large_table_resolves_the_label_without_decoding_the_rest() -> None:
    """Work is counted in protobuf fields visited, not time: 5,000 strings in 30 locales
    (4 MB, 330,000 fields); a lookup costs its type's entry index (a few fields per entry:
    the entry and its id, never its values) and the one entry's values."""
    locales = [f"l{i:02d}"[:2] + chr(97 + i % 26) for i in range(29)]
    strings = {f"s{i}": {"": f"value {i}", **{loc: f"{loc} {i}" for loc in locales}}
               for i in range(5000)}
    types: bw.Types = {"string": {"app_name": {"": "Big", "ru": "Большой"}, **strings},
                       "bool": {f"b{i}": {"": True} for i in range(5000)}}
    data = bw.resource_table(types, package="org.example.big")
    table = ProtoResourceTable(data)
    built = table.steps
    assert built < 50
    assert resolve(table, 0x7F010000, "ru").value == "Большой"
    assert resolve(table, 0x7F020010).value is True
    entries, total_fields = 5001 + 5000, 5000 * (4 + 2 * 31) + 5000 * 6
    assert table.steps < 3 * entries + 100, (table.steps, len(data))
    assert table.steps < total_fields // 10


def test_scan_of_a_bundle_shows_the_localized_label_and_the_network_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from permaudit.cli import main

    path = _write(tmp_path, "e.aab", bw.edge_bundle())
    assert main(["scan", path, "--locale", "ru", "--format", "json"]) in (0, 1)
    out, err = capsys.readouterr()
    document = json.loads(out)
    text = json.dumps(document, ensure_ascii=False)
    assert "Пограничный пакет" in text and "api.example.ru" in text
    assert "Traceback" not in err
    broken = _write(tmp_path, "b.aab", bw.edge_bundle(table=b"\x0a\x05\x08"))
    assert main(["scan", broken]) in (0, 1)
    out, err = capsys.readouterr()
    assert "Traceback" not in err and bw.EDGE_PACKAGE in out


@pytest.mark.parametrize(("data", "message"), [
    (bw.field(2, b"")[:1] + bw.varint(2**31), "declares 2147483648 bytes"),
    (b"\x12" + b"\xff" * 11, "truncated or over-long length"),
    (b"\x13\x00", "unsupported wire type 3"),
    (bw.field(2, bw.field(1, bw.field(1, 0x7F))) * 257, "more than 256 packages"),
    (bw.field(2, bw.field(1, bw.field(1, 0x7F)) + bw.field(3, b"") * 513),
     "more than 512 types"),
])
def test_hostile_tables_are_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(RespbError, match=message):
        ProtoResourceTable(data)
