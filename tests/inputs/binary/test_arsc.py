"""resources.arsc reader and reference resolution: generated tables, hostile tables, aapt oracle."""

from __future__ import annotations

import json
import re
import struct
import time
import zipfile
from pathlib import Path

import pytest

from fixtures.arsc_writer import Ref, build_table
from permaudit.errors import InputError
from permaudit.inputs.binary.arsc import ArscError, ResourceTable
from permaudit.inputs.binary.axml import parse_axml
from permaudit.inputs.loader import load
from permaudit.inputs.resources import MAX_CHAIN, resolve

LABEL = 0x7F010000
STRING = 0x7F01
BOOL = 0x7F02
INT = 0x7F03

TABLE = build_table(
    {
        "string": {
            "app_name": {
                "": "Messenger",
                "ru": "Мессенджер",
                "pt-BR": "Mensageiro BR",
                "pt": "Mensageiro",
            },
            "alias": {"": Ref(LABEL)},
            "only_ru": {"ru": "только"},
        },
        "bool": {"debug": {"": True}, "backup": {"": False}, "debug_alias": {"": Ref(0x7F020000)}},
        "integer": {"min_sdk": {"": 24}, "negative": {"": -3}},
    }
)


def test_default_and_locales() -> None:
    table = ResourceTable(TABLE)
    assert resolve(table, LABEL).value == "Messenger"
    assert resolve(table, LABEL, "ru").value == "Мессенджер"
    assert resolve(table, LABEL, "pt-BR").value == "Mensageiro BR"
    assert resolve(table, LABEL, "pt-rPT").value == "Mensageiro"  # language fallback
    assert resolve(table, LABEL, "de").value == "Messenger"  # default fallback
    assert resolve(table, 0x7F010001).value == "Messenger"  # reference chain
    only_ru = resolve(table, 0x7F010002)
    assert only_ru.value is None and "configuration-dependent" in (only_ru.reason or "")
    assert resolve(table, 0x7F010002, "ru").value == "только"


def test_bool_int_and_missing() -> None:
    table = ResourceTable(TABLE)
    assert resolve(table, 0x7F020000).value is True
    assert resolve(table, 0x7F020001).value is False
    assert resolve(table, 0x7F020002).value is True
    assert resolve(table, 0x7F030000).value == 24
    assert resolve(table, 0x7F030001).value == -3
    assert "no entry" in (resolve(table, 0x7F030009).reason or "")
    assert "no entry" in (resolve(table, 0x7F090000).reason or "")
    assert "framework" in (resolve(table, 0x01040000).reason or "")
    assert "no resources.arsc" in (resolve(None, LABEL).reason or "")


def test_reference_loop_is_bounded() -> None:
    table = ResourceTable(
        build_table({"string": {"a": {"": Ref(0x7F010001)}, "b": {"": Ref(0x7F010000)}}})
    )
    result = resolve(table, 0x7F010000)
    assert result.value is None and str(MAX_CHAIN) in (result.reason or "")


@pytest.mark.parametrize(
    "data",
    [
        build_table({"string": {"a": {"": "x"}}}, entry_count_override=2**31),
        build_table({"string": {"a": {"": "x"}}}, entry_count_override=65_535),
        build_table({"string": {"a": {"": "x"}}}, string_count_override=2**31),
        TABLE[:-7],
        TABLE[:100],
        b"\x02\x00\x0c\x00\xff\xff\xff\x7f\x01\x00\x00\x00",
    ],
    ids=[
        "entries-2^31",
        "entries-65535",
        "strings-2^31",
        "truncated",
        "cut-in-package",
        "huge-size",
    ],
)
def test_hostile_tables_fail_cleanly_and_fast(data: bytes) -> None:
    start = time.perf_counter()
    with pytest.raises(ArscError):
        table = ResourceTable(data)
        resolve(table, 0x7F010000)
    assert time.perf_counter() - start < 0.5


def test_out_of_range_string_index_reads_as_unresolved() -> None:
    data = bytearray(TABLE)
    table = ResourceTable(bytes(data))
    assert table.string(10_000) is None
    assert table.string(-1) is None


def test_every_byte_flip_is_bounded() -> None:
    """Corrupting any single header byte gives a value, an unresolved reason or ArscError."""
    for pos in range(0, 400):
        data = bytearray(TABLE)
        data[pos] ^= 0xFF
        try:
            table = ResourceTable(bytes(data))
            for res_id in (LABEL, 0x7F020000, 0x7F030000):
                resolve(table, res_id, "ru")
        except ArscError:
            pass


#: corpus APKs where our label differs from aapt's ``application-label:`` line, and why
EXPLAINED = {
    "apk/apktool-issue1730.apk": (
        "the label is a literal manifest string; this crafted (Appdome) manifest makes "
        "Debian aapt 0.2 print label='' and no application-label line, Android shows it"
    ),
}
#: Files Debian's aapt (Android 10's libziparchive) reads but the loader refuses, as AOSP
#: main's zip reader does (tests/inputs/binary/test_ziparchive*.py hold the reasons).
REFUSED = {
    "malformed/apksig-v1-only-max-sized-eocd-comment.apk": "comment is 65535 bytes long",
}


def _has_table(path: Path) -> bool:
    """Python's zipfile opens it (malformed/ holds archives only Android reads) with a table."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "resources.arsc" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _label(path: Path, locale: str | None = None) -> str | None:
    """The label the loader puts in the model (``Manifest.label``)."""
    return load(str(path), code=False, locale=locale).manifest.label


def test_labels_agree_with_aapt(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compared = agreed = 0
    for oracle in sorted((corpus / "oracle").glob("*.apk.json")):
        facts = json.loads(oracle.read_text())
        badging = facts.get("aapt", {}).get("badging") or {}
        if badging.get("rc") != 0:
            continue
        path = corpus / facts["file"]
        if not _has_table(path):
            continue
        match = re.search(r"^application-label:'(.*)'$", badging.get("stdout", ""), re.M)
        expected = match.group(1) if match else None
        if facts["file"] in REFUSED:
            with pytest.raises(InputError, match=REFUSED[facts["file"]]):
                _label(path)
            continue
        got = _label(path)
        compared += 1
        if facts["file"] in EXPLAINED:
            assert got != expected, f"{facts['file']} now agrees; drop it from EXPLAINED"
            continue
        assert got == expected, facts["file"]
        agreed += 1
    assert compared >= 100 and agreed == compared - len(EXPLAINED)
    with capsys.disabled():
        print(f"\napplication-label: {agreed} of {compared} agree with aapt, "
              f"{compared - agreed} explained ({', '.join(EXPLAINED)})")


#: corpus APKs whose ``application-label-ru:`` differs from our ``--locale ru`` label, and why
EXPLAINED_RU: dict[str, str] = {}


def test_russian_labels_agree_with_aapt(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """aapt prints ``application-label-ru:`` for a table with a ``ru`` configuration of the
    label (or any ru resource): with ``--locale ru`` our label must be that line's."""
    compared = agreed = 0
    for oracle in sorted((corpus / "oracle").glob("*.apk.json")):
        facts = json.loads(oracle.read_text())
        badging = facts.get("aapt", {}).get("badging") or {}
        match = re.search(r"^application-label-ru:'(.*)'$", badging.get("stdout", ""), re.M)
        if badging.get("rc") != 0 or match is None or facts["file"] in REFUSED:
            continue
        path = corpus / facts["file"]
        if not _has_table(path):
            continue
        got = _label(path, "ru")
        compared += 1
        if facts["file"] in EXPLAINED_RU:
            assert got != match.group(1), f"{facts['file']} now agrees; drop it"
            continue
        assert got == match.group(1), facts["file"]
        agreed += 1
    assert compared >= 15 and agreed == compared - len(EXPLAINED_RU)
    with capsys.disabled():
        print(f"\napplication-label-ru: {agreed} of {compared} agree with aapt, "
              f"{compared - agreed} explained")


def test_version_name_references_agree_with_aapt(corpus: Path) -> None:
    checked = 0
    for oracle in sorted((corpus / "oracle").glob("*.apk.json")):
        facts = json.loads(oracle.read_text())
        badging = facts.get("aapt", {}).get("badging") or {}
        match = re.search(r"versionName='([^']*)'", badging.get("stdout", ""))
        if badging.get("rc") != 0 or not match:
            continue
        if not _has_table(corpus / facts["file"]):
            continue
        with zipfile.ZipFile(corpus / facts["file"]) as archive:
            root = parse_axml(archive.read("AndroidManifest.xml"))
            attribute = root.android(0x0101021C)
            if attribute is None or not attribute.value.is_reference:
                continue
            table = ResourceTable(archive.read("resources.arsc"))
        assert resolve(table, attribute.value.data).value == match.group(1), facts["file"]
        checked += 1
    assert checked >= 1


def test_struct_sanity() -> None:
    assert struct.calcsize("<HHI") == 8


def test_resolving_a_deep_tree_does_not_recurse() -> None:
    """A tree as deep as the AXML decoder accepts (and deeper) resolves iteratively; only
    the elements on the path to a changed attribute are rebuilt."""
    from permaudit.inputs.binary.xmltree import Attribute, Element, TypedValue
    from permaudit.inputs.resources import mark_unresolved, resolve_manifest_tree

    debuggable = Attribute(
        namespace="http://schemas.android.com/apk/res/android", name="debuggable",
        resource_id=0x0101000F, value=TypedValue(type=0x01, data=0x7F020000),
    )
    node = Element(tag="application", attributes=(debuggable,))
    sibling = Element(tag="uses-permission")
    for _ in range(5000):
        node = Element(tag="x", children=(node, sibling))
    root = Element(tag="manifest", children=(node,))
    resolved = resolve_manifest_tree(root, ResourceTable(TABLE))
    marked = mark_unresolved(root, "why")
    for tree, check in ((resolved, "value"), (marked, "unresolved")):
        element = tree
        while element.tag != "application":
            assert element.children[-1] is sibling or element.tag == "manifest"
            element = element.children[0]
        attribute = element.attributes[0]
        if check == "value":
            assert (attribute.value.type, attribute.value.data) == (0x12, 0xFFFFFFFF)
        else:
            assert attribute.unresolved == "why"
    assert resolve_manifest_tree(sibling, None) is sibling
