"""The launcher icon: Android's choice of file (aapt's ``application-icon-480`` on the
corpus), the raster fallback of adaptive icons, and hostile icon entries."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from fixtures.arsc_writer import Ref as TableRef
from fixtures.arsc_writer import Types, build_table
from fixtures.axml_writer import Element, Ref, encode
from fixtures.icon_png import square_png
from permaudit.inputs.apk import load, read_apk
from permaudit.inputs.binary.arsc import DENSITY_ANY, Config
from permaudit.inputs.icon import (
    MAX_ICON_BYTES,
    MAX_ICON_SIDE,
    better,
    check_image,
    icon_files,
    icon_reference,
)
from permaudit.model.icon import MEDIA_PNG, MEDIA_WEBP
from tests.conftest import corpus_dir, corpus_files

ICON = 0x7F010000
PNG = square_png(12, (30, 120, 200))


def _config(density: int, sdk: int = 0) -> Config:
    return Config(language="", country="", is_default=not density and not sdk, is_generic=True,
                  density=density, sdk=sdk)


@pytest.mark.parametrize(
    ("a", "b", "wanted"),
    [
        # ResTable_config::isBetterThan, requested density 480:
        ((DENSITY_ANY, 26), (480, 4), True),  # anydpi beats any bucket
        ((480, 0), (DENSITY_ANY, 0), False),
        ((640, 0), (480, 0), False),  # the exact bucket
        ((240, 0), (160, 0), True),  # both below: the higher
        ((640, 0), (320, 0), True),  # scaling down (640) beats up (320): 2*320-480 = 160,
        # 160*640 = 102400 < 480*480 = 230400, so h (640) wins
        ((0, 0), (240, 0), False),  # no density counts as mdpi (160)
        ((320, 4), (320, 0), True),  # same density: the higher -vN
    ],
)
def test_density_rule_is_aosps(a: tuple[int, int], b: tuple[int, int], wanted: bool) -> None:
    assert better(_config(*a), _config(*b)) is wanted


def _oracle_icons() -> list[tuple[str, str]]:
    """(corpus file, aapt's icon at 480 dpi or, without that line, at its highest)."""
    cases = []
    for oracle in corpus_files("oracle", "*.json"):
        badging = (json.loads(oracle.read_text()).get("aapt") or {}).get("badging") or {}
        if badging.get("rc") != 0:
            continue
        lines = re.findall(r"^application-icon-(\d+):'(.*)'$", badging["stdout"], re.M)
        by_density = {int(d): p for d, p in lines if int(d) <= 640}
        if by_density:
            expected = by_density.get(480) or by_density[max(by_density)]
            cases.append((oracle.name.removesuffix(".json"), expected))
    return cases


@pytest.mark.parametrize(("name", "expected"), _oracle_icons())
def test_icon_choice_agrees_with_aapt(name: str, expected: str) -> None:
    # aapt dump badging picks each application-icon-D line with ResTable's own rule (an
    # APK without 480 dpi resources gets no 480 line: Android then takes the highest
    # bucket below, the last line aapt prints). Agreement on the corpus: every file.
    path = next(p for sub in ("apk", "bundles", "malformed") for p in
                (corpus_dir() / sub / name,) if p.is_file())
    with path.open("rb") as stream:
        contents = read_apk(stream, path.stat().st_size, signing=False)
    res_id = icon_reference(contents.root)
    assert res_id is not None and contents.table is not None
    files, why = icon_files(contents.table, res_id)
    assert why is None
    assert files[0][0] == expected
    icon = contents.icon
    assert icon is not None
    if not expected.endswith(".xml"):
        assert icon.image is not None and icon.image.path == expected
        assert icon.image.media_type in (MEDIA_PNG, MEDIA_WEBP)
        assert icon.note is None
    elif icon.image is not None:  # adaptive/vector: a raster configuration of the resource
        assert icon.image.path != expected and icon.note is not None
        assert expected in icon.note
    else:
        assert icon.note is not None and "XML drawable" in icon.note


def _apk(tmp_path: Path, types: Types, files: dict[str, bytes], *, app_icon: bool = True,
         deflate: bool = False) -> Path:
    activity = Element("activity", {"android:name": "com.example.Main",
                                    "android:icon": Ref(ICON)}, children=(
        Element("intent-filter", children=(
            Element("action", {"android:name": "android.intent.action.MAIN"}),
            Element("category", {"android:name": "android.intent.category.LAUNCHER"}))),))
    app_attrs: dict[str, object] = {"android:icon": Ref(ICON)} if app_icon else {}
    root = Element("manifest", {"package": "com.example.icon"}, children=(
        Element("application", app_attrs, children=(activity,)),))  # type: ignore[arg-type]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("AndroidManifest.xml", encode(root))
        archive.writestr("resources.arsc", build_table(types))
        for name, data in files.items():
            method = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, method)
    path = tmp_path / "icon.apk"
    path.write_bytes(buffer.getvalue())
    return path


def _icon(path: Path):  # type: ignore[no-untyped-def]
    icon = load(str(path), code=False).icon
    assert icon is not None
    return icon


def test_adaptive_icon_falls_back_to_the_raster_of_the_same_resource(tmp_path: Path) -> None:
    types: Types = {"mipmap": {"ic_launcher": {
        "anydpi-v26": "res/mipmap-anydpi-v26/ic_launcher.xml",
        "hdpi": "res/mipmap-hdpi/ic_launcher.png",
        "xxhdpi": "res/mipmap-xxhdpi/ic_launcher.png",
    }}}
    big = square_png(144, (200, 40, 40))
    icon = _icon(_apk(tmp_path, types, {
        "res/mipmap-anydpi-v26/ic_launcher.xml": b"\x03\x00\x08\x00",
        "res/mipmap-hdpi/ic_launcher.png": PNG,
        "res/mipmap-xxhdpi/ic_launcher.png": big,
    }))
    assert icon.image is not None
    assert (icon.image.path, icon.image.density) == ("res/mipmap-xxhdpi/ic_launcher.png", 480)
    assert (icon.image.width, icon.image.height, icon.image.data) == (144, 144, big)
    assert icon.note is not None and "res/mipmap-anydpi-v26/ic_launcher.xml" in icon.note


def test_vector_icon_only_is_no_image_with_a_note(tmp_path: Path) -> None:
    types: Types = {"drawable": {"ic": {"": "res/drawable/ic.xml"}}}
    icon = _icon(_apk(tmp_path, types, {"res/drawable/ic.xml": b"\x03\x00\x08\x00"}))
    assert icon.image is None
    assert icon.note is not None and "XML drawable" in icon.note


def test_launcher_activity_icon_when_the_application_has_none(tmp_path: Path) -> None:
    types: Types = {"drawable": {"ic": {"": "res/drawable/ic.png"}}}
    icon = _icon(_apk(tmp_path, types, {"res/drawable/ic.png": PNG}, app_icon=False))
    assert icon.image is not None and icon.image.path == "res/drawable/ic.png"


def test_reference_chains_are_followed_and_loops_end_with_a_note(tmp_path: Path) -> None:
    chain: Types = {"mipmap": {"ic": {"": TableRef(0x7F020000)}},
                    "drawable": {"real": {"xhdpi": "res/drawable-xhdpi/real.png"}}}
    icon = _icon(_apk(tmp_path, chain, {"res/drawable-xhdpi/real.png": PNG}))
    assert icon.image is not None and icon.image.path == "res/drawable-xhdpi/real.png"
    loop: Types = {"mipmap": {"ic": {"": TableRef(0x7F010001)}, "b": {"": TableRef(ICON)}}}
    icon = _icon(_apk(tmp_path, loop, {}))
    assert icon.image is None and icon.note is not None and "loops" in icon.note


@pytest.mark.parametrize(
    ("path", "data", "why"),
    [
        ("res/drawable/ic.png", b"GIF89a" + b"\x00" * 40, "is not a PNG or WebP image"),
        ("resources.arsc", None, "is not a PNG or WebP image"),  # the table itself
        ("../../etc/passwd", PNG, "is not a plain archive path"),
        ("/abs/ic.png", PNG, "is not a plain archive path"),
        ("res/drawable/missing.png", None, "is not in the archive"),
        ("res/drawable/ic.png", PNG[:40], "truncated PNG"),
        ("res/drawable/ic.png", square_png(8, (1, 2, 3), width=60000, height=60000),
         f"beyond {MAX_ICON_SIDE}x{MAX_ICON_SIDE}"),
        ("res/drawable/ic.png", PNG[:29] + b"\x00\x00\x00\x00" + PNG[33:], "checksum"),
    ],
)
def test_hostile_icon_entries_are_notes(tmp_path: Path, path: str, data: bytes | None,
                                        why: str) -> None:
    types: Types = {"drawable": {"ic": {"": path}}}
    files = {} if data is None else {path.lstrip("/"): data}
    icon = _icon(_apk(tmp_path, types, files))
    assert icon.image is None
    assert icon.note is not None and why in icon.note


def test_a_huge_or_bomb_icon_entry_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    types: Types = {"drawable": {"ic": {"": "res/drawable/ic.png"}}}
    # 64 MiB of zeros after a PNG header deflate to ~64 KiB: a zip bomb the reader stops
    # at MAX_ICON_BYTES + 1 inflated bytes.
    bomb = PNG[:33] + bytes(64 * 1024 * 1024)
    icon = _icon(_apk(tmp_path, types, {"res/drawable/ic.png": bomb}, deflate=True))
    assert icon.image is None and icon.note is not None
    assert str(MAX_ICON_BYTES) in icon.note
    stored = PNG + bytes(MAX_ICON_BYTES)  # over the bound, stored
    icon = _icon(_apk(tmp_path, types, {"res/drawable/ic.png": stored}))
    assert icon.image is None and icon.note is not None and str(MAX_ICON_BYTES) in icon.note


def test_webp_headers_give_the_dimensions() -> None:
    def riff(kind: bytes, body: bytes) -> bytes:
        chunk = kind + struct.pack("<I", len(body)) + body
        return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk

    vp8l = riff(b"VP8L", b"\x2f" + struct.pack("<I", (47 << 14) | 95) + b"\x00" * 8)
    image = check_image("a.webp", 480, vp8l)
    assert not isinstance(image, str) and (image.width, image.height) == (96, 48)
    vp8 = riff(b"VP8 ", b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", 144, 144) + b"\0" * 4)
    image = check_image("a.webp", 480, vp8)
    assert not isinstance(image, str) and (image.width, image.height) == (144, 144)
    assert isinstance(check_image("a.webp", 480, vp8[:20]), str)


def test_png_writer_output_is_a_png_zlib_can_inflate() -> None:
    image = check_image("x.png", 0, PNG)
    assert not isinstance(image, str) and (image.width, image.height) == (12, 12)
    length = struct.unpack(">I", PNG[33:37])[0]
    assert len(zlib.decompress(PNG[41 : 41 + length])) == 12 * (1 + 12 * 3)


def test_split_sets_take_the_base_apks_icon_and_bundles_none(corpus: Path) -> None:
    from permaudit.inputs.kinds import load as load_any

    apks = corpus / "bundles" / "AppManager_v2.5.22.apks"
    if not apks.is_file():
        pytest.skip("corpus split set missing")
    icon = load_any(str(apks), code=False).icon
    assert icon is not None and icon.image is not None
    assert icon.image.path == "res/mipmap-xxhdpi-v4/ic_launcher.png"  # the base's, at 480
    assert icon.note is not None and "mipmap-anydpi-v26" in icon.note
    for aab in sorted((corpus / "bundles").glob("*.aab")):
        assert load_any(str(aab), code=False).icon is None  # resources.pb: not read
