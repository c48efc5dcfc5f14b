"""Config splits add configurations to the base's entries: a label whose Russian value is
only in ``config.ru.apk`` resolves to it with ``--locale ru``, as Android's AssetManager2
does (the tables of one package id form one group; the best configuration is chosen
across all of them, the first loaded on a tie).

Oracles: the same app as one APK holding every configuration in its own table (what
``bundletool build-apks --mode=universal`` makes), which the split set must read the same;
and, for the corpus's real ``.apks``, ``aapt dump --values resources`` of each locale
split: the strings it gives for a locale are what the set resolves for that locale.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from fixtures import aab_writer as bw
from fixtures import arsc_writer
from fixtures import resource_apks as ra
from fixtures.arsc_writer import Types
from fixtures.axml_writer import Element, Ref, encode
from fixtures.bundle_writer import archive
from fixtures.icon_png import square_png
from permaudit.inputs.apk import read_apk
from permaudit.inputs.binary.arsc import ResourceTable
from permaudit.inputs.loader import load, load_inputs
from permaudit.inputs.resources import resolve
from permaudit.inputs.split_rules import split_name
from permaudit.inputs.table_set import TableCache, TableSet, search_order
from permaudit.model import Manifest
from tests.conftest import corpus_files

LOCALES = ("ru", "pt-BR")


def _types() -> Types:
    types = bw.edge_types()
    types["bool"]["hdpi_true"] = {"": True}  # arsc_writer writes locale configs only
    return types


def _only(types: Types, keep: str | None) -> Types:
    """``types`` with, per entry, only the default values (``keep=None``) or only those of
    locale ``keep``; every entry stays, so the resource ids are the same."""
    return {
        type_name: {
            name: {config: value for config, value in per_config.items()
                   if (config == "" if keep is None else config == keep)}
            for name, per_config in entries.items()
        }
        for type_name, entries in types.items()
    }


def _config_split(locale: str, types: Types) -> bytes:
    root = Element(tag="manifest", attrs={
        "package": bw.EDGE_PACKAGE, "split": f"config.{locale.split('-')[0]}",
        "android:versionCode": 7})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as apk:
        apk.writestr("AndroidManifest.xml", encode(root))
        apk.writestr("resources.arsc", arsc_writer.build_table(
            _only(types, locale), package_name=bw.EDGE_PACKAGE))
    return buffer.getvalue()


def _split_set() -> bytes:
    types = _types()
    members = {"base.apk": ra.build_apk(bw.edge_manifest(), ra.edge_files(), _only(types, None))}
    for locale in LOCALES:
        members[f"config.{locale.split('-')[0]}.apk"] = _config_split(locale, types)
    return archive(members)


def _universal() -> bytes:
    return ra.build_apk(bw.edge_manifest(), ra.edge_files(), _types())


def _facts(manifest: Manifest) -> tuple[object, ...]:
    return (manifest.label, manifest.version_name, manifest.target_sdk, manifest.application,
            sorted((u.attribute, u.reference) for u in manifest.unresolved))


@pytest.mark.parametrize("locale", [None, "ru", "pt-BR", "pt", "de"])
def test_a_split_set_reads_the_labels_of_its_config_splits(
        tmp_path: Path, locale: str | None) -> None:
    (tmp_path / "set.apks").write_bytes(_split_set())
    (tmp_path / "one.apk").write_bytes(_universal())
    split = load(str(tmp_path / "set.apks"), code=False, locale=locale).manifest
    universal = load(str(tmp_path / "one.apk"), code=False, locale=locale).manifest
    assert _facts(split) == _facts(universal)
    expected = bw.LABELS.get(locale or "", bw.LABELS[""])
    assert split.label == expected


def test_the_russian_label_is_only_in_the_config_split() -> None:
    """The fixture is what it claims: the base's table has no Russian value."""
    with zipfile.ZipFile(io.BytesIO(_split_set())) as outer:
        base = outer.read("base.apk")
    with zipfile.ZipFile(io.BytesIO(base)) as apk:
        table = apk.read("resources.arsc")
    assert bw.LABELS["ru"].encode() not in table
    assert bw.LABELS[""].encode() in table


@pytest.mark.parametrize("locale", [None, "ru", "pt-BR"])
def test_loose_split_files_read_the_labels_of_their_config_splits(
        tmp_path: Path, locale: str | None) -> None:
    """The same set as files in a directory: the base is loaded alone first, then read
    again with its splits."""
    with zipfile.ZipFile(io.BytesIO(_split_set())) as outer:
        for name in outer.namelist():
            (tmp_path / name).write_bytes(outer.read(name))
    (one := tmp_path / "universal").mkdir()
    (one / "one.apk").write_bytes(_universal())
    [split] = load_inputs([str(tmp_path / n) for n in ("base.apk", "config.ru.apk",
                                                      "config.pt.apk")],
                          code=False, locale=locale)
    [universal] = load_inputs([str(one / "one.apk")], code=False, locale=locale)
    assert split.input.kind == "splits"
    assert _facts(split.manifest) == _facts(universal.manifest)
    assert split.manifest.label == bw.LABELS.get(locale or "", bw.LABELS[""])


# --- the corpus: real config splits, aapt as the oracle -----------------------------------

AAPT = shutil.which("aapt")
SPLIT_SETS = corpus_files("bundles", "*.apks")
#: Strings checked per config split (the first ones aapt lists with a plain value).
PER_SPLIT = 25
_RESOURCE = re.compile(r"^\s+resource (0x7f[0-9a-f]{6}) \S+:string/\S+: t=0x03 ")
_VALUE = re.compile(r'^\s+\(string8\) "([^"\\]*)"$')
_CONFIG = re.compile(r"^\s+config (\S+):$")
_LOCALE = re.compile(r"[a-z]{2,3}(-r[A-Z]{2})?")


def _aapt_strings(apk: Path) -> dict[tuple[str, int], str]:
    """The string values aapt dumps for a config split (``aapt dump --values resources``),
    by (locale configuration, id); configurations with other qualifiers are left out."""
    lines = subprocess.run([str(AAPT), "dump", "--values", "resources", str(apk)],
                           capture_output=True, text=True, check=True, timeout=120).stdout
    found: dict[tuple[str, int], str] = {}
    config: str | None = None
    pending: int | None = None
    for line in lines.splitlines():
        if (header := _CONFIG.match(line)) is not None:
            config = header.group(1) if _LOCALE.fullmatch(header.group(1)) else None
        elif (resource := _RESOURCE.match(line)) is not None:
            pending = int(resource.group(1), 16)
        elif pending is not None and (value := _VALUE.match(line)) is not None:
            if config is not None:
                found.setdefault((config, pending), value.group(1))
            pending = None
        else:
            pending = None
    return found


@pytest.mark.skipif(AAPT is None, reason="needs Debian's aapt")
@pytest.mark.parametrize("path", SPLIT_SETS, ids=lambda p: p.name)
def test_a_real_split_set_resolves_strings_from_its_locale_splits(
        path: Path, tmp_path: Path) -> None:
    """Each locale config split of a real ``.apks``: the first strings aapt gives for its
    configuration are what the set resolves for that locale (the base alone gives
    another value or none)."""
    tables: dict[str, ResourceTable] = {}
    locale_files: dict[str, Path] = {}
    with zipfile.ZipFile(path) as outer:
        for member in outer.namelist():
            data = outer.read(member)
            contents = read_apk(io.BytesIO(data), len(data), signing=False)
            name = split_name(contents.root) or ""
            if contents.table is None:  # an ABI split: native code only
                continue
            tables[name] = contents.table
            if re.fullmatch(r"config\.[a-z]{2,3}", name):
                locale_files[name] = tmp_path / member
                locale_files[name].write_bytes(data)
    cache = TableCache({n: (lambda t=t: t) for n, t in tables.items()},
                       {n: n or "base" for n in tables})
    others = sorted(n for n in tables if n)
    configs = {n: None for n in others if n.startswith("config.")}
    whole = TableSet(cache, search_order("", base="", parents=dict.fromkeys(tables),
                                         isolated=False, configures=configs, others=others),
                     configs=configs)
    checked = 0
    for name, file in locale_files.items():
        expected = list(_aapt_strings(file).items())[:PER_SPLIT]
        assert len(expected) == PER_SPLIT, name
        for (locale, res_id), value in expected:
            assert resolve(whole, res_id, locale).value == value, (name, locale, hex(res_id))
            checked += 1
    assert checked == PER_SPLIT * len(locale_files) > 0
    assert resolve(tables[""], 0x7F100000, "de").value != resolve(whole, 0x7F100000, "de").value


# --- the icon: its PNG versions in the density splits ---------------------------------------

ICON = 0x7F010000
PNG = "res/mipmap-xxhdpi-v4/ic_launcher.png"
XML = "res/mipmap-anydpi-v26/ic_launcher.xml"


def _icon_member(types: Types, files: dict[str, bytes], split: str | None) -> bytes:
    attrs: dict[str, object] = {"package": "com.example.icon", "android:versionCode": 1}
    children: tuple[Element, ...] = ()
    if split is None:
        children = (Element("application", {"android:icon": Ref(ICON)}),)
    else:
        attrs["split"] = split
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as apk:
        apk.writestr("AndroidManifest.xml", encode(Element("manifest", attrs, children=children)))
        apk.writestr("resources.arsc", arsc_writer.build_table(types))
        for name, data in files.items():
            apk.writestr(name, data)
    return buffer.getvalue()


def _icon_set(density_split: bool, *, png_in_split: bool = True) -> dict[str, bytes]:
    """A base whose icon has only its adaptive XML, and (optionally) the density split that
    holds its PNG, as bundletool splits an app (``png_in_split=False``: the split's table
    names a file it does not hold)."""
    members = {"base.apk": _icon_member({"mipmap": {"ic_launcher": {"anydpi-v26": XML}}},
                                        {XML: b"\x03\x00\x08\x00"}, None)}
    if density_split:
        members["config.xxhdpi.apk"] = _icon_member(
            {"mipmap": {"ic_launcher": {"xxhdpi": PNG}}},
            {PNG: square_png(8, (1, 2, 3))} if png_in_split else {}, "config.xxhdpi")
    return members


def _load_set(tmp_path: Path, members: dict[str, bytes], given_as: str):  # type: ignore[no-untyped-def]
    if given_as == "apks":
        (tmp_path / "set.apks").write_bytes(archive(members))
        paths = [str(tmp_path / "set.apks")]
    else:
        for name, data in members.items():
            (tmp_path / name).write_bytes(data)
        paths = [str(tmp_path / name) for name in members]
    [app] = load_inputs(paths, code=False)
    return app


@pytest.mark.parametrize("given_as", ["apks", "files"])
def test_a_split_sets_icon_is_read_from_its_density_split(tmp_path: Path, given_as: str) -> None:
    app = _load_set(tmp_path, _icon_set(True), given_as)
    assert app.icon is not None and app.icon.image is not None
    assert (app.icon.image.path, app.icon.image.density) == (PNG, 480)
    assert app.icon.image.data == square_png(8, (1, 2, 3))
    assert app.icon.note is not None and XML in app.icon.note


@pytest.mark.parametrize("given_as", ["apks", "files"])
def test_without_a_density_split_the_base_icon_stands(tmp_path: Path, given_as: str) -> None:
    app = _load_set(tmp_path, _icon_set(False), given_as)
    assert app.icon is not None and app.icon.image is None and app.icon.note is not None
    assert app.icon.note.startswith("the icon is an XML drawable")


@pytest.mark.parametrize("given_as", ["apks", "files"])
def test_a_density_split_without_the_file_says_so(tmp_path: Path, given_as: str) -> None:
    app = _load_set(tmp_path, _icon_set(True, png_in_split=False), given_as)
    assert app.icon is not None and app.icon.image is None
    assert app.icon.note == f"{PNG} is not in any APK of the set"


def test_a_set_whose_apks_cannot_be_read_again_says_so() -> None:
    """Members without a reader (none of today's containers): the note names the splits."""
    from permaudit.inputs.apk import read_apk
    from permaudit.inputs.split_rules import set_icon
    from permaudit.inputs.splits import split_apk

    members = _icon_set(True)
    apks = {name: split_apk(read_apk(io.BytesIO(data), len(data), signing=False), name)
            for name, data in members.items()}
    base, split = apks["base.apk"], apks["config.xxhdpi.apk"]
    icon, evidence = set_icon(base.icon, base, [split])
    assert evidence == ()
    assert icon is not None and icon.image is None and icon.note is not None
    assert icon.note.endswith("; the density config splits of this set (config.xxhdpi), "
                              "which may hold its PNG versions, are not read for the icon")
