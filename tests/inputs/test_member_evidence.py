"""Every member an input reader reads reports its tamper evidence, not only the manifest.

A re-packer that edits ``resources.arsc`` or ``classes.dex`` and leaves the old CRC makes
apktool, jadx and zipfile refuse the entry while Android (which does not check CRCs) runs
the app: the report must say so whichever member was edited. Each test flips one member's
CRC (local header and central directory alike) and looks for ``zip.crc_mismatch``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from fixtures import resource_apks as ra
from permaudit.inputs.apk import load
from permaudit.inputs.loader import load_inputs
from permaudit.model import App
from tests.inputs.binary.test_zip64_crc import _wrong_crc
from tests.inputs.test_config_split_resources import PNG, _icon_set, _load_set

SIGNAL = Path(__file__).resolve().parents[2] / "fixtures" / "apk" / "signal-0036b8e2.apk"


def _crc_notes(app: App) -> list[tuple[str | None, str]]:
    """(member, detail) of each CRC mismatch the app's report carries."""
    return [(e.member, e.detail) for e in app.tamper if e.id == "zip.crc_mismatch"]


@pytest.mark.parametrize("name", [
    "resources.arsc", "classes.dex", "res/mipmap-xxhdpi-v4/ic_launcher.png",
])
def test_an_edited_member_of_a_real_apk_is_reported(tmp_path: Path, name: str) -> None:
    path = tmp_path / "edited.apk"
    path.write_bytes(_wrong_crc(SIGNAL.read_bytes(), name))
    with pytest.raises(zipfile.BadZipFile):  # what zipfile-based tools do with it
        zipfile.ZipFile(path).read(name)
    app = load(str(path))
    [(member, detail)] = _crc_notes(app)
    assert member is None and f"'{name}'" in detail
    assert app.manifest.package == load(str(SIGNAL)).manifest.package
    # Android reads the data all the same: the table still resolves, the icon still draws.
    assert (app.icon is not None) and (app.icon.image is not None)
    assert app.code is not None and app.code.dex


def test_the_manifest_only_scan_reports_the_tables_and_icons_but_reads_no_code(
    tmp_path: Path,
) -> None:
    path = tmp_path / "edited.apk"
    path.write_bytes(_wrong_crc(SIGNAL.read_bytes(), "classes.dex"))
    assert _crc_notes(load(str(path), code=False)) == []
    path.write_bytes(_wrong_crc(SIGNAL.read_bytes(), "resources.arsc"))
    assert len(_crc_notes(load(str(path), code=False))) == 1


def test_an_edited_network_security_config_is_reported(tmp_path: Path) -> None:
    files = ra.edge_files()
    blob = ra.build_apk(ra.manifest(target=34), files)
    [xml] = [n for n in zipfile.ZipFile(io.BytesIO(blob)).namelist()
             if n.startswith("res/xml/") and "network" in n]
    path = tmp_path / "edge.apk"
    path.write_bytes(_wrong_crc(blob, xml))
    app = load(str(path), code=False)
    [(member, detail)] = _crc_notes(app)
    assert member is None and f"'{xml}'" in detail
    assert app.network_security is not None


def test_an_edited_nested_archive_and_its_dex_are_reported_by_path(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("classes.dex", zipfile.ZipFile(SIGNAL).read("classes.dex"))
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_STORED) as archive:
        for name in zipfile.ZipFile(SIGNAL).namelist():
            archive.writestr(name, zipfile.ZipFile(SIGNAL).read(name))
        archive.writestr("assets/inner.apk", _wrong_crc(inner.getvalue(), "classes.dex"))
    path = tmp_path / "nested.apk"
    path.write_bytes(_wrong_crc(outer.getvalue(), "assets/inner.apk"))
    details = [detail for _, detail in _crc_notes(load(str(path)))]
    assert len(details) == 2
    assert "'assets/inner.apk'" in details[0] and not details[0].startswith("in ")
    assert details[1].startswith("in assets/inner.apk: ") and "'classes.dex'" in details[1]


@pytest.mark.parametrize("given_as", ["apks", "files"])
def test_an_edited_icon_in_a_density_split_is_the_splits_evidence(
    tmp_path: Path, given_as: str
) -> None:
    members = _icon_set(True)
    members["config.xxhdpi.apk"] = _wrong_crc(members["config.xxhdpi.apk"], PNG)
    app = _load_set(tmp_path, members, given_as)
    assert app.icon is not None and app.icon.image is not None
    [(member, detail)] = _crc_notes(app)
    split = "config.xxhdpi.apk" if given_as == "apks" else str(tmp_path / "config.xxhdpi.apk")
    assert member == split and f"'{PNG}'" in detail


def test_an_edited_dex_in_a_split_set_member_names_the_member(tmp_path: Path) -> None:
    base = SIGNAL.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("base.apk", _wrong_crc(base, "classes.dex"))
    path = tmp_path / "set.apks"
    path.write_bytes(buffer.getvalue())
    [app] = load_inputs([str(path)])
    [(member, detail)] = _crc_notes(app)
    assert member == "base.apk" and "'classes.dex'" in detail and not detail.startswith("in ")


def test_a_nested_archives_zip_tricks_are_reported_once_and_by_path(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("classes.dex", zipfile.ZipFile(SIGNAL).read("classes.dex"))
        archive.writestr("../../escape.so", b"x")
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_STORED) as archive:
        for name in zipfile.ZipFile(SIGNAL).namelist():
            archive.writestr(name, zipfile.ZipFile(SIGNAL).read(name))
        archive.writestr("assets/inner.apk", inner.getvalue())
    path = tmp_path / "nested.apk"
    path.write_bytes(outer.getvalue())
    app = load(str(path))
    [trick] = [e for e in app.tamper if e.id == "zip.path_traversal"]
    assert trick.member is None and trick.detail.startswith("in assets/inner.apk: ")
    assert load(str(path), code=False).tamper == ()  # the manifest scan opens no archive
