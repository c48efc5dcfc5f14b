"""zip64 archives and wrong CRCs, read as libziparchive reads them, in every container.

zip64 files come from Python's ``zipfile`` (``force_zip64=True`` for zip64 local headers;
``ZIP_FILECOUNT_LIMIT`` lowered, or really more than 65535 entries, for zip64 end
records); hostile ones are those files with one field changed. Every container (APK,
``.apks``, ``.aab``) goes through the one reader, so each gets the same CRC note.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from fixtures.axml_writer import Element as X
from fixtures.axml_writer import encode
from permaudit.errors import InputError
from permaudit.inputs.apk import ZIP64_NOTE
from permaudit.inputs.binary.ziparchive import read_directory, read_entry, read_member
from permaudit.inputs.loader import load

NAME = "AndroidManifest.xml"
PKG = "org.example.zipsixtyfour"


def _manifest(package: str = PKG, split: str | None = None) -> bytes:
    attrs: dict[str, object] = {"package": package, "android:versionCode": 3}
    if split is not None:
        attrs["split"] = split
    permission = X("uses-permission", {"android:name": "android.permission.CAMERA"})
    return encode(X("manifest", attrs, [permission, X("application", {}, [])]))  # type: ignore[arg-type]


def _zip64_apk(*, extra_entries: int = 0, force_end: bool = False,
               monkeypatch: pytest.MonkeyPatch | None = None) -> bytes:
    """An APK whose manifest has a zip64 local header (``force_zip64``); with
    ``force_end``, zip64 end records too (zipfile writes them past ZIP_FILECOUNT_LIMIT)."""
    if force_end:
        assert monkeypatch is not None
        monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(NAME, "w", force_zip64=True) as member:
            member.write(_manifest())
        for i in range(extra_entries):
            archive.writestr(f"res/raw/f{i}", b"")
    blob = buffer.getvalue()
    if force_end:
        # zipfile keeps the real (small) count in the end record; a writer past 65535
        # entries puts 0xFFFF there, which is what sends Android to the zip64 records.
        blob = _patched(blob, _eocd(blob) + 8, "<HH", 0xFFFF, 0xFFFF)
    return blob


def _read(blob: bytes) -> bytes:
    return read_entry(io.BytesIO(blob), len(blob), NAME).data


def _eocd(blob: bytes) -> int:
    return blob.rindex(b"PK\x05\x06")


def test_zip64_local_header_from_zipfile_is_read() -> None:
    blob = _zip64_apk()
    local = struct.unpack_from("<II", blob, 18)
    assert local == (0xFFFFFFFF, 0xFFFFFFFF)  # the sizes live in the zip64 extra field
    assert _read(blob) == _manifest()


def test_zip64_end_records_from_zipfile_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    blob = _zip64_apk(extra_entries=2, force_end=True, monkeypatch=monkeypatch)
    assert b"PK\x06\x06" in blob and b"PK\x06\x07" in blob
    directory = read_directory(io.BytesIO(blob), len(blob), prefix="")
    assert directory.zip64 is True
    assert [e.name for e in directory.entries] == [NAME, "res/raw/f0", "res/raw/f1"]
    assert directory.evidence == ()
    assert _read(blob) == _manifest()


def test_zip64_records_without_markers_are_skipped_as_android_skips_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """zipfile's own output: the end record holds the real count, so Android never looks at
    the zip64 records before it; they are bytes between the directory and the end record."""
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(NAME, _manifest())
        archive.writestr("x", b"")
    blob = buffer.getvalue()
    directory = read_directory(io.BytesIO(blob), len(blob))
    assert directory.zip64 is False
    assert [e.id for e in directory.evidence] == ["zip.gap_before_eocd"]
    assert _read(blob) == _manifest()


def test_more_than_65535_entries_load_with_the_android_11_note(tmp_path: Path) -> None:
    """The issue's case: aapt and androguard read it, and so does Android 11+."""
    blob = _zip64_apk(extra_entries=65_536)
    count = struct.unpack_from("<H", blob, _eocd(blob) + 10)[0]
    assert count == 0xFFFF
    path = tmp_path / "many.apk"
    path.write_bytes(blob)
    app = load(str(path), code=False)
    assert app.manifest.package == PKG
    assert "android.permission.CAMERA" in {u.name for u in app.manifest.uses_permissions}
    assert ZIP64_NOTE in app.notes
    assert app.tamper == ()


def _patched(blob: bytes, offset: int, fmt: str, *values: int) -> bytes:
    out = bytearray(blob)
    struct.pack_into(fmt, out, offset, *values)
    return bytes(out)


@pytest.mark.parametrize(
    ("where", "fmt", "value", "message"),
    [
        # The locator's offset of the zip64 end record: past the locator, or at the start.
        ("locator+8", "<Q", 2**63, "bad zip64 end record offset"),
        ("locator+8", "<Q", 0, "no zip64 end record at 0"),
        ("locator", "<I", 0, "no zip64 end record locator precedes it"),
        # The zip64 end record: a central directory that passes it, or a huge one.
        ("record+40", "<Q", 2**62, "bad zip64 offsets"),
        ("record+48", "<Q", 2**63, "bad zip64 offsets"),
        # Its entry count: 2**63 records cannot fit; the walk stops where the bytes end.
        ("record+32", "<Q", 2**63 - 1, "central directory ends inside entry #3"),
    ],
)
def test_hostile_zip64_end_records_are_refused_in_bounded_work(
    monkeypatch: pytest.MonkeyPatch, where: str, fmt: str, value: int, message: str
) -> None:
    blob = _zip64_apk(extra_entries=2, force_end=True, monkeypatch=monkeypatch)
    locator = _eocd(blob) - 20
    record = struct.unpack_from("<Q", blob, locator + 8)[0]
    base, _, delta = where.partition("+")
    offset = (locator if base == "locator" else record) + int(delta or 0)
    with pytest.raises(InputError, match=message):
        _read(_patched(blob, offset, fmt, value))


def test_zip64_offset_marker_without_extra_field_is_refused() -> None:
    """ParseZipArchive: a 0xFFFFFFFF local header offset needs its zip64 extra field."""
    blob = _zip64_apk()
    cd = blob.index(b"PK\x01\x02")
    with pytest.raises(InputError, match="zip64 information"):
        _read(_patched(blob, cd + 42, "<I", 0xFFFFFFFF))


def test_zip64_local_header_with_one_size_is_refused() -> None:
    """FindEntry: a zip64 local header MUST carry both sizes."""
    blob = _zip64_apk()
    with pytest.raises(InputError, match="must carry both sizes"):
        _read(_patched(blob, 22, "<I", 5))


def test_zip64_local_sizes_that_disagree_are_refused() -> None:
    blob = _zip64_apk()
    extra = 30 + len(NAME)
    assert struct.unpack_from("<HH", blob, extra) == (1, 16)
    with pytest.raises(InputError, match=r"sizes/CRC of AndroidManifest\.xml differ"):
        _read(_patched(blob, extra + 4, "<Q", 2**40))


# --- CRC ----------------------------------------------------------------------------------


def _wrong_crc(blob: bytes, name: str) -> bytes:
    """``blob`` with ``name``'s CRC changed in its local header and central directory alike
    (so the two agree, as a re-packer that edits the data and not the CRC leaves them)."""
    out = bytearray(blob)
    encoded = name.encode()
    for signature, crc_at, name_at in ((b"PK\x03\x04", 14, 30), (b"PK\x01\x02", 16, 46)):
        at = out.find(signature)
        while at >= 0:
            if out[at + name_at : at + name_at + len(encoded)] == encoded:
                crc = struct.unpack_from("<I", out, at + crc_at)[0]
                struct.pack_into("<I", out, at + crc_at, crc ^ 0x5A5A5A5A)
            at = out.find(signature, at + 1)
    return bytes(out)


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_wrong_crc_is_read_as_android_reads_it_with_a_tamper_note(method: int) -> None:
    blob = _wrong_crc(_zip({NAME: _manifest(), "x": b"y"}, method), NAME)
    with pytest.raises(zipfile.BadZipFile):  # what other tools do with it
        zipfile.ZipFile(io.BytesIO(blob)).read(NAME)
    stream = io.BytesIO(blob)
    directory = read_directory(stream, len(blob), names=(NAME, "x"))
    member = read_member(stream, directory, directory.entries[0])
    assert member.data == _manifest()
    assert [e.id for e in member.evidence] == ["zip.crc_mismatch"]
    assert f"{zlib.crc32(_manifest()):08x}" in member.evidence[0].detail
    assert read_member(stream, directory, directory.entries[1]).evidence == ()


def test_wrong_crc_in_an_apk_fires_the_archive_rule(tmp_path: Path) -> None:
    path = tmp_path / "crc.apk"
    path.write_bytes(_wrong_crc(_zip({NAME: _manifest()}), NAME))
    app = load(str(path))
    assert app.manifest.package == PKG
    assert [e.id for e in app.tamper] == ["zip.crc_mismatch"]


def test_wrong_crc_in_every_container(tmp_path: Path) -> None:
    """The one reader: a split set member, its APK's manifest, a bundle's module manifest."""
    base = _zip({NAME: _manifest()})
    split = _wrong_crc(_zip({NAME: _manifest(split="config.en")}), NAME)
    apks = tmp_path / "set.apks"
    apks.write_bytes(_wrong_crc(_zip({"base.apk": base, "split.apk": split},
                                     zipfile.ZIP_STORED), "base.apk"))
    app = load(str(apks))
    assert app.input.kind == "apks"
    assert [(e.id, e.member) for e in app.tamper] == [
        ("zip.crc_mismatch", None), ("zip.crc_mismatch", "split.apk")
    ]
    assert "'base.apk'" in next(e.detail for e in app.tamper if e.member is None)
    aab = tmp_path / "app.aab"
    from tests.inputs.test_aab import _aab
    from tests.inputs.test_aab import _manifest as _bundle_manifest

    aab.write_bytes(_wrong_crc(_aab({"base/manifest/AndroidManifest.xml":
                                     _bundle_manifest()}), "base/manifest/AndroidManifest.xml"))
    bundle = load(str(aab))
    assert bundle.input.kind == "aab"
    assert [e.id for e in bundle.tamper] == ["zip.crc_mismatch"]


def test_duplicate_names_refuse_every_container(tmp_path: Path) -> None:
    base = _zip({NAME: _manifest()})
    with pytest.warns(UserWarning, match="Duplicate name"):
        blob = _zip({"base.apk": base} | {}, zipfile.ZIP_STORED)
        buffer = io.BytesIO(blob)
        with zipfile.ZipFile(buffer, "a") as archive:
            archive.writestr("base.apk", base)
    path = tmp_path / "dup.apks"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(InputError, match=r"duplicate zip entry 'base\.apk'"):
        load(str(path))
