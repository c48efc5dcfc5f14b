"""Read one zip entry the way Android's libziparchive does, without loading the whole file.

Why our own reader: Python's ``zipfile`` builds a ``ZipInfo`` object per entry (~53 ms
for a 9000-entry APK) and accepts archives Android rejects; androguard's importer costs
~170 ms and 36 MiB RSS before reading anything. We read the end-of-central-directory
record, then the central directory in one ``read`` parsed with ``struct.unpack_from``,
then only the wanted entry (seek + bounded read + incremental inflate). Memory does not
grow with the APK's size, only with its central directory and the entry.

Semantics follow libziparchive (system/libziparchive/zip_archive.cc,
``MapCentralDirectory``/``ParseZipArchive``/``FindEntry``):

* the EOCD is searched backwards over the last 65535 + 22 bytes; the archive must end
  exactly at the EOCD's comment ("extraneous bytes at the end of the central directory"
  is ``kInvalidFile``), and ``cd_offset + cd_size`` must not pass the EOCD;
* zero entries is ``kEmptyArchive``; every central-directory record is checked (signature,
  name/extra lengths inside the directory, local header offset below the directory, name
  valid UTF-8 without NUL); the file must start with a local file header (the Janus check);
* **duplicate entry names reject the whole archive** (``CdEntryMapZip32::AddToMap``
  returns ``kDuplicateEntry``), whichever entry is duplicated;
* the local header must carry the same name; without a data descriptor (flag bit 3) its
  sizes and CRC must equal the central directory's (``kInconsistentInformation``); data
  starts after the *local* name and extra lengths; sizes come from the central directory;
* compression method: 8 is raw deflate; **every other method is read as stored**, with
  the central directory's uncompressed size -- ``ZipAssetsProvider::OpenInternal``
  (frameworks/base libs/androidfw/AssetsProvider.cpp) only tests ``== kCompressDeflated``,
  which is how the manifest is opened for the package parser;
* zip64 archives are not supported here (``InputError``); no real APK needs them.

Encrypted entries (general-purpose flag bit 0) are an ``InputError``. Inflation is
incremental with ``max_length`` and capped at ``MAX_ENTRY_SIZE``, so a zip bomb costs
bounded memory and time.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO

from permaudit.errors import InputError, ManifestError

EOCD_SIGNATURE = 0x06054B50
CD_SIGNATURE = 0x02014B50
LFH_SIGNATURE = 0x04034B50
MAX_COMMENT = 0xFFFF
MAX_ENTRY_SIZE = 16 * 1024 * 1024

_EOCD = struct.Struct("<IHHHHIIH")
_CDR = struct.Struct("<IHHHHHHIIIHHHHHII")
_LFH = struct.Struct("<IHHHHHIIIHH")
_GPB_ENCRYPTED = 0x1
_GPB_DATA_DESCRIPTOR = 0x8
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class ZipEntry:
    """What the central directory says about one entry."""

    name: str
    method: int
    flags: int
    crc32: int
    compressed_size: int
    uncompressed_size: int
    local_header_offset: int


def read_entry(stream: BinaryIO, file_size: int, name: str) -> bytes:
    """Return the contents of entry ``name``; ``InputError``/``ManifestError`` otherwise."""
    cd_offset, cd_size, count = _find_central_directory(stream, file_size)
    entry = _find_entry(stream, cd_offset, cd_size, count, name.encode())
    return _read_data(stream, entry, cd_offset)


def _read_at(stream: BinaryIO, offset: int, size: int) -> bytes:
    stream.seek(offset)
    data = stream.read(size)
    if len(data) != size:
        raise InputError(f"not a valid zip: unexpected end of file at offset {offset}")
    return data


def _find_central_directory(stream: BinaryIO, file_size: int) -> tuple[int, int, int]:
    if file_size < _EOCD.size:
        raise InputError("not a zip file: too small for an end-of-central-directory record")
    search = min(file_size, MAX_COMMENT + _EOCD.size)
    tail = _read_at(stream, file_size - search, search)
    index = tail.rfind(b"PK\x05\x06", 0, len(tail) - _EOCD.size + 4)
    if index < 0:
        raise InputError("not a zip file: no end-of-central-directory record")
    eocd_offset = file_size - search + index
    (_sig, _disk, _cd_disk, on_disk, count, cd_size, cd_offset, comment) = _EOCD.unpack_from(
        tail, index
    )
    trailing = file_size - (eocd_offset + _EOCD.size + comment)
    if trailing != 0:
        raise InputError(
            f"not a zip Android accepts: {trailing} extraneous bytes after the "
            "end-of-central-directory record"
        )
    if 0xFFFF in (on_disk, count) or 0xFFFFFFFF in (cd_size, cd_offset):
        raise InputError("zip64 archives are not supported")
    if cd_offset + cd_size > eocd_offset:
        raise InputError(
            f"not a zip Android accepts: bad offsets (central directory {cd_offset} + "
            f"{cd_size} passes the end record at {eocd_offset})"
        )
    if count == 0:
        raise InputError("empty zip archive (no entries)")
    return cd_offset, cd_size, count


def _find_entry(
    stream: BinaryIO, cd_offset: int, cd_size: int, count: int, name: bytes
) -> ZipEntry:
    """Walk the whole central directory as ``ParseZipArchive`` does, then pick ``name``."""
    cd = _read_at(stream, cd_offset, cd_size)
    pos = 0
    seen: set[bytes] = set()
    found: tuple[int, ...] | None = None
    for i in range(count):
        if pos > cd_size - _CDR.size:
            raise InputError(f"not a valid zip: central directory ends inside entry #{i}")
        record = _CDR.unpack_from(cd, pos)
        if record[0] != CD_SIGNATURE:
            raise InputError(f"not a valid zip: missing central directory signature at entry #{i}")
        name_len, extra_len, comment_len = record[10], record[11], record[12]
        start = pos + _CDR.size
        if start + name_len + extra_len > cd_size:
            raise InputError(f"not a valid zip: entry #{i} name or extra field overflows")
        local_offset = record[16]
        if local_offset >= cd_offset:
            raise InputError(f"not a valid zip: bad local header offset at entry #{i}")
        entry_name = cd[start : start + name_len]
        if b"\0" in entry_name or not _valid_utf8(entry_name):
            raise InputError(f"not a zip Android accepts: invalid entry name at entry #{i}")
        if entry_name in seen:
            raise InputError(
                "duplicate zip entry "
                f"{entry_name.decode(errors='replace')!r}: Android rejects such archives"
            )
        seen.add(entry_name)
        if entry_name == name:
            found = record
        pos = start + name_len + extra_len + comment_len
        if pos > cd_size:
            raise InputError(f"not a valid zip: bad central directory advance at entry #{i}")
    if _read_at(stream, 0, 4) != b"PK\x03\x04":
        raise InputError(
            "not a zip Android accepts: the file does not start with a local file header "
            "(data prepended to the archive)"
        )
    if found is None:
        raise InputError(f"no {name.decode()} in the archive")
    return ZipEntry(
        name=name.decode(),
        flags=found[3],
        method=found[4],
        crc32=found[7],
        compressed_size=found[8],
        uncompressed_size=found[9],
        local_header_offset=found[16],
    )


def _valid_utf8(name: bytes) -> bool:
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_data(stream: BinaryIO, entry: ZipEntry, cd_offset: int) -> bytes:
    if entry.flags & _GPB_ENCRYPTED:
        raise InputError(f"{entry.name} is encrypted")
    offset = entry.local_header_offset
    if offset + _LFH.size >= cd_offset:
        raise InputError(f"not a valid zip: bad local header offset for {entry.name}")
    lfh = _LFH.unpack(_read_at(stream, offset, _LFH.size))
    if lfh[0] != LFH_SIGNATURE:
        raise InputError(f"not a valid zip: no local header signature for {entry.name}")
    name_len, extra_len = lfh[9], lfh[10]
    if name_len != len(entry.name.encode()) or offset + _LFH.size + name_len > cd_offset:
        raise InputError(f"not a valid zip: local header name of {entry.name} differs")
    if _read_at(stream, offset + _LFH.size, name_len) != entry.name.encode():
        raise InputError(f"not a valid zip: local header name of {entry.name} differs")
    if not lfh[2] & _GPB_DATA_DESCRIPTOR and (lfh[6], lfh[7], lfh[8]) != (
        entry.crc32,
        entry.compressed_size,
        entry.uncompressed_size,
    ):
        raise InputError(
            f"not a zip Android accepts: sizes/CRC of {entry.name} differ between the "
            "local header and the central directory"
        )
    data_offset = offset + _LFH.size + name_len + extra_len
    if data_offset > cd_offset or entry.compressed_size > cd_offset - data_offset:
        raise InputError(f"not a valid zip: data of {entry.name} overlaps the central directory")
    if entry.uncompressed_size > MAX_ENTRY_SIZE:
        raise ManifestError(
            f"{entry.name} declares {entry.uncompressed_size} bytes, beyond the "
            f"{MAX_ENTRY_SIZE} byte limit"
        )
    if entry.method != 8:
        # Not deflate: AssetsProvider maps uncompressed_length bytes as stored data.
        if entry.uncompressed_size > cd_offset - data_offset:
            raise InputError(f"not a valid zip: {entry.name} overlaps the central directory")
        return _read_at(stream, data_offset, entry.uncompressed_size)
    return _inflate(stream, data_offset, entry)


def _inflate(stream: BinaryIO, offset: int, entry: ZipEntry) -> bytes:
    """Raw-deflate ``entry`` chunk by chunk; output capped at ``MAX_ENTRY_SIZE`` + 1 bytes."""
    stream.seek(offset)
    inflater = zlib.decompressobj(-15)
    out: list[bytes] = []
    produced = 0
    remaining = entry.compressed_size
    try:
        while not inflater.eof:
            pending = inflater.unconsumed_tail
            if not pending:
                if remaining == 0:
                    break
                pending = stream.read(min(_CHUNK, remaining))
                if not pending:
                    break
                remaining -= len(pending)
            piece = inflater.decompress(pending, MAX_ENTRY_SIZE + 1 - produced)
            produced += len(piece)
            out.append(piece)
            if produced > MAX_ENTRY_SIZE:
                raise ManifestError(f"{entry.name} inflates beyond {MAX_ENTRY_SIZE} bytes")
    except zlib.error as exc:
        raise ManifestError(f"{entry.name} cannot be inflated ({exc})") from exc
    if not inflater.eof:
        raise ManifestError(f"{entry.name}: compressed data ends early")
    data = b"".join(out)
    if len(data) != entry.uncompressed_size:
        raise ManifestError(
            f"{entry.name} inflates to {len(data)} bytes, not the declared "
            f"{entry.uncompressed_size}"
        )
    return data
