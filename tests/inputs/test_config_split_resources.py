"""Config splits add configurations to the base's entries: a label whose Russian value is
only in ``config.ru.apk`` resolves to it with ``--locale ru``, as Android's AssetManager2
does (the tables of one package id form one group; the best configuration is chosen
across all of them, the first loaded on a tie).

Oracle: the same app as one APK holding every configuration in its own table (what
``bundletool build-apks --mode=universal`` makes); the split set must read the same.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from fixtures import aab_writer as bw
from fixtures import arsc_writer
from fixtures import resource_apks as ra
from fixtures.arsc_writer import Types
from fixtures.axml_writer import Element, encode
from fixtures.bundle_writer import archive
from permaudit.inputs.loader import load, load_inputs
from permaudit.model import Manifest

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
