"""Zip entry reading with libziparchive's rules: EOCD search, central directory checks, methods."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.axml_writer import Element as AxmlElement
from fixtures.axml_writer import encode
from permaudit.errors import InputError, ManifestError
from permaudit.inputs.binary.ziparchive import MAX_ENTRY_SIZE, read_entry
from permaudit.inputs.loader import load

NAME = "AndroidManifest.xml"


@dataclass(frozen=True)
class Entry:
    """One entry to write; ``stored`` is the bytes as they sit in the archive."""

    name: str
    content: bytes
    method: int = 0
    flags: int = 0
    stored: bytes | None = None
    declared_size: int | None = None
    local_sizes: tuple[int, int] | None = None


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def make_zip(entries: list[Entry], *, comment: bytes = b"", prefix: bytes = b"") -> bytes:
    """A minimal zip: local headers + data, central directory, EOCD (+ comment)."""
    body = bytearray(prefix)
    central = bytearray()
    for e in entries:
        stored = e.stored if e.stored is not None else e.content
        crc = zlib.crc32(e.content)
        size = e.declared_size if e.declared_size is not None else len(e.content)
        local_c, local_u = e.local_sizes or (len(stored), size)
        name = e.name.encode()
        offset = len(body)
        body += struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            e.flags,
            e.method,
            0,
            0,
            crc,
            local_c,
            local_u,
            len(name),
            0,
        )
        body += name + stored
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            e.flags,
            e.method,
            0,
            0,
            crc,
            len(stored),
            size,
            len(name),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += name
    eocd = struct.pack(
        "<IHHHHIIH",
        0x06054B50,
        0,
        0,
        len(entries),
        len(entries),
        len(central),
        len(body),
        len(comment),
    )
    return bytes(body + central + eocd + comment)


def read(blob: bytes, name: str = NAME) -> bytes:
    return read_entry(io.BytesIO(blob), len(blob), name).data


def test_stored_and_deflated_entries() -> None:
    blob = make_zip(
        [
            Entry("classes.dex", b"dex\n035"),
            Entry(NAME, b"manifest bytes" * 50, method=8, stored=deflate(b"manifest bytes" * 50)),
        ]
    )
    assert read(blob) == b"manifest bytes" * 50
    assert read(blob, "classes.dex") == b"dex\n035"


def test_eocd_found_behind_a_long_comment() -> None:
    blob = make_zip([Entry(NAME, b"ok")], comment=b"c" * 0xFFFE)
    assert read(blob) == b"ok"


def test_a_maximal_comment_sends_android_to_the_zip64_records() -> None:
    """FindCentralDirectoryInfo: comment_length == UINT16_MAX also means "look for zip64"."""
    blob = make_zip([Entry(NAME, b"ok")], comment=b"c" * 0xFFFF)
    with pytest.raises(InputError, match=r"comment is 65535 bytes long.*no zip64 end record"):
        read(blob)


def test_bytes_after_the_eocd_comment_are_rejected() -> None:
    """libziparchive: calculated_length != file_length -> kInvalidFile."""
    blob = make_zip([Entry(NAME, b"ok")]) + b"trailer"
    with pytest.raises(InputError, match="7 extraneous bytes"):
        read(blob)


def test_zip64_markers_without_zip64_records_are_refused() -> None:
    blob = bytearray(make_zip([Entry(NAME, b"ok")]))
    struct.pack_into("<I", blob, len(blob) - 6, 0xFFFFFFFF)  # cd_offset
    with pytest.raises(InputError, match="no zip64 end record locator"):
        read(bytes(blob))


def test_unknown_method_is_read_as_stored() -> None:
    """AssetsProvider opens anything that is not method 8 as stored data."""
    blob = make_zip([Entry(NAME, b"plain manifest", method=21)])
    assert read(blob) == b"plain manifest"


def test_duplicate_names_reject_the_archive_even_for_other_entries() -> None:
    blob = make_zip([Entry("res/a.png", b"1"), Entry(NAME, b"ok"), Entry("res/a.png", b"2")])
    with pytest.raises(InputError, match=r"duplicate zip entry 'res/a\.png'"):
        read(blob)


def test_encrypted_entry_is_an_input_error() -> None:
    blob = make_zip([Entry(NAME, b"secret", flags=0x1)])
    with pytest.raises(InputError, match="encrypted"):
        read(blob)


def test_truncated_central_directory() -> None:
    blob = bytearray(make_zip([Entry(NAME, b"ok"), Entry("b", b"b")]))
    eocd = len(blob) - 22
    struct.pack_into("<HH", blob, eocd + 8, 3, 3)  # claims 3 entries, directory holds 2
    with pytest.raises(InputError, match="central directory ends inside entry #2"):
        read(bytes(blob))


def test_directory_past_the_eocd_is_bad_offsets() -> None:
    blob = bytearray(make_zip([Entry(NAME, b"ok")]))
    eocd = len(blob) - 22
    (size,) = struct.unpack_from("<I", blob, eocd + 12)
    struct.pack_into("<I", blob, eocd + 12, size + 1)
    with pytest.raises(InputError, match="bad offsets"):
        read(bytes(blob))


def test_local_header_sizes_must_match_without_data_descriptor() -> None:
    blob = make_zip([Entry(NAME, b"manifest", local_sizes=(0, 0))])
    with pytest.raises(InputError, match="differ between the local header"):
        read(blob)
    described = make_zip([Entry(NAME, b"manifest", flags=0x8, local_sizes=(0, 0))])
    assert read(described) == b"manifest"


def test_prepended_data_is_rejected() -> None:
    """Offsets are right, but libziparchive wants a local header at offset 0 (Janus)."""
    with pytest.raises(InputError, match="does not start with a local file header"):
        read(make_zip([Entry(NAME, b"ok")], prefix=b"dex\n035\0" * 8))


def test_missing_manifest_and_empty_archive() -> None:
    with pytest.raises(InputError, match=r"no AndroidManifest\.xml in the archive"):
        read(make_zip([Entry("classes.dex", b"x")]))
    with pytest.raises(InputError, match="empty zip archive"):
        read(make_zip([]))


def test_not_a_zip() -> None:
    with pytest.raises(InputError, match="no end-of-central-directory record"):
        read(b"<manifest/>" * 10)


def test_corrupt_deflate_data_is_a_manifest_error() -> None:
    blob = make_zip([Entry(NAME, b"x" * 100, method=8, stored=b"\xff" * 40)])
    with pytest.raises(ManifestError, match="cannot be inflated"):
        read(blob)


def test_zip_bomb_stops_at_the_cap() -> None:
    """A tiny declared size with 17 MiB of zeros behind it stops after MAX_ENTRY_SIZE + 1."""
    bomb = deflate(b"\0" * (MAX_ENTRY_SIZE + (1 << 20)))
    blob = make_zip([Entry(NAME, b"tiny", method=8, stored=bomb, declared_size=4)])
    with pytest.raises(ManifestError, match="inflates beyond"):
        read(blob)


def test_declared_size_beyond_the_cap() -> None:
    blob = make_zip([Entry(NAME, b"x", method=8, stored=deflate(b"x"), declared_size=1 << 30)])
    with pytest.raises(ManifestError, match="beyond the"):
        read(blob)


# --- load(): the boundary that turns any file into an App or a PermauditError ------------


def test_load_decides_kind_by_content_and_hashes_the_file(tmp_path: Path) -> None:
    axml = encode(AxmlElement("manifest", {"package": "com.example.app"}))
    as_apk = tmp_path / "manifest.apk"
    as_apk.write_bytes(axml)
    app = load(str(as_apk), digest=True)
    assert (app.input.kind, app.input.size) == ("axml", len(axml))
    assert app.input.sha256 == hashlib.sha256(axml).hexdigest()
    assert load(str(as_apk)).input.sha256 is None  # only on request: it reads every byte
    assert app.input.path == str(as_apk)
    zipped = tmp_path / "app.jar"
    zipped.write_bytes(make_zip([Entry(NAME, axml)]))
    assert load(str(zipped)).input.kind == "apk"
    assert load(str(zipped)).manifest.package == "com.example.app"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"", "empty file"),
        (
            b"GIF89a" + b"\0" * 100,
            "unknown input kind: not an APK (zip) or binary AndroidManifest.xml, "
            "nor an app bundle, split set or text manifest",
        ),
    ],
)
def test_load_errors_name_the_file(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "input.apk"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(message)) as info:
        load(str(path))
    assert str(info.value) == f"{path}: {message}"


def test_load_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        load(str(tmp_path))
