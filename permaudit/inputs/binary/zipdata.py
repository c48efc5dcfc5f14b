"""One zip entry's local header and data, read as libziparchive's FindEntry and ExtractToWriter.

Local headers are checked against the central directory; zip64 extra fields are parsed
(``ParseZip64ExtendedInfoInExtraField``); data is copied or inflated chunk by chunk with a
size cap and its CRC-32 computed on the way (Android does not check it: a mismatch is
evidence, not an error).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from typing import BinaryIO

from permaudit._infra.records import record
from permaudit.errors import InputError, ManifestError
from permaudit.model import TamperEvidence

LFH_SIGNATURE = 0x04034B50
MAX_ENTRY_SIZE = 16 * 1024 * 1024
_LFH = struct.Struct("<IHHHHHIIIHH")
_EXTRA_HEADER = struct.Struct("<HH")
_U64 = struct.Struct("<Q")
_ZIP64_EXTRA_ID = 0x0001
U32_MAX = 0xFFFFFFFF
GPB_ENCRYPTED = 0x1
_GPB_DATA_DESCRIPTOR = 0x8
_CHUNK = 64 * 1024
#: Stored data is read (and its CRC computed) in pieces of at most this size.
_STORED_CHUNK = 8 * 1024 * 1024


@record
class ZipEntry:
    """What the central directory says about one entry."""

    name: str
    method: int
    flags: int
    crc32: int
    compressed_size: int
    uncompressed_size: int
    local_header_offset: int


def encrypted_evidence(entry: ZipEntry) -> tuple[TamperEvidence, ...]:
    if not entry.flags & GPB_ENCRYPTED:
        return ()
    return (TamperEvidence(
        id="zip.encrypted_flag",
        detail=f"entry {entry.name!r} is flagged as encrypted; Android ignores the flag "
               "and reads the data, while tools that honour it refuse the file",
    ),)


def read_at(stream: BinaryIO, offset: int, size: int) -> bytes:
    stream.seek(offset)
    data = stream.read(size)
    if len(data) != size:
        raise InputError(f"not a valid zip: unexpected end of file at offset {offset}")
    return data


def zip64_extra(
    extra: bytes, uncompressed: int, compressed: int, offset: int | None
) -> tuple[int, int, int | None]:
    """The sizes and offset after ``ParseZip64ExtendedInfoInExtraField``.

    A field is read from the zip64 extra block when its 32-bit value is 0xFFFFFFFF, or
    when the block holds all three (golang's writer); the block must hold exactly what is
    read. ``offset`` is ``None`` for a local header (which has no offset field).
    """
    if len(extra) <= 4:
        raise InputError("not a zip Android accepts: no room for zip64 information in the "
                         "extra field")
    at = 0
    while at < len(extra) - 4:
        header_id, size = _EXTRA_HEADER.unpack_from(extra, at)
        at += 4
        if size > len(extra) - at:
            raise InputError("not a zip Android accepts: an extra field block overflows")
        if header_id != _ZIP64_EXTRA_ID:
            at += size
            continue
        if size == 8 * 3 + 4:
            size -= 4  # a disk start number, ignored as Android ignores it
        complete = size == 8 * 3
        values: list[int | None] = [uncompressed, compressed, offset]
        read = 0
        for i, value in enumerate(values):
            if value == U32_MAX or complete:
                if at + read + 8 > len(extra):
                    raise InputError("not a zip Android accepts: zip64 extra field too short")
                values[i] = _U64.unpack_from(extra, at + read)[0]
                read += 8
        if read == 0 or read != size:
            raise InputError("not a zip Android accepts: invalid data size in the zip64 "
                             "extra field")
        return int(values[0] or 0), int(values[1] or 0), values[2]
    raise InputError("not a zip Android accepts: 0xFFFFFFFF size or offset without zip64 "
                     "information in the extra field")


def locate(stream: BinaryIO, entry: ZipEntry, cd_offset: int) -> tuple[int, tuple[int, ...]]:
    """The data offset of ``entry`` and its local header fields, checked as ``FindEntry``."""
    offset = entry.local_header_offset
    if offset + _LFH.size >= cd_offset:
        raise InputError(f"not a valid zip: bad local header offset for {entry.name}")
    lfh = _LFH.unpack(read_at(stream, offset, _LFH.size))
    if lfh[0] != LFH_SIGNATURE:
        raise InputError(f"not a valid zip: no local header signature for {entry.name}")
    name_len, extra_len = lfh[9], lfh[10]
    if name_len != len(entry.name.encode()) or offset + _LFH.size + name_len > cd_offset:
        raise InputError(f"not a valid zip: local header name of {entry.name} differs")
    if read_at(stream, offset + _LFH.size, name_len) != entry.name.encode():
        raise InputError(f"not a valid zip: local header name of {entry.name} differs")
    compressed, uncompressed = lfh[7], lfh[8]
    if U32_MAX in (compressed, uncompressed):
        if (compressed, uncompressed) != (U32_MAX, U32_MAX):
            raise InputError(f"not a zip Android accepts: the zip64 local header of "
                             f"{entry.name} must carry both sizes")
        extra_at = offset + _LFH.size + name_len
        if extra_at > cd_offset - extra_len:
            raise InputError(f"not a valid zip: extra field of {entry.name} overflows")
        uncompressed, compressed, _ = zip64_extra(
            read_at(stream, extra_at, extra_len), uncompressed, compressed, None
        )
    if not lfh[2] & _GPB_DATA_DESCRIPTOR and (lfh[6], compressed, uncompressed) != (
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
    if entry.method != 8 and entry.uncompressed_size > cd_offset - data_offset:
        raise InputError(f"not a valid zip: {entry.name} overlaps the central directory")
    return data_offset, (*lfh[:7], compressed, uncompressed, *lfh[9:])


def copy_data(
    stream: BinaryIO, entry: ZipEntry, cd_offset: int, limit: int, write: Callable[[bytes], object],
    chunk: int = _STORED_CHUNK,
) -> tuple[TamperEvidence, ...]:
    """Check ``entry``'s local header, then write its data to ``write``: stored data in
    pieces of ``chunk`` bytes, deflated data as it inflates; the evidence found."""
    data_offset, lfh = locate(stream, entry, cd_offset)
    if entry.uncompressed_size > limit:
        raise ManifestError(
            f"{entry.name} declares {entry.uncompressed_size} bytes, beyond the "
            f"{limit} byte limit"
        )
    evidence = header_evidence(entry, lfh)
    if entry.method != 8:
        # Not deflate: AssetsProvider maps uncompressed_length bytes as stored data.
        crc = _copy_stored(stream, data_offset, entry, write, chunk)
    else:
        crc = _inflate(stream, data_offset, entry, limit, write)
    return (*evidence, *_crc_evidence(entry, crc))


def _crc_evidence(entry: ZipEntry, crc: int) -> tuple[TamperEvidence, ...]:
    if crc == entry.crc32:
        return ()
    return (TamperEvidence(
        id="zip.crc_mismatch",
        detail=f"the CRC-32 of {entry.name!r} is {crc:08x}, the archive declares "
               f"{entry.crc32:08x}; Android does not check CRCs and reads the data, while "
               "unzip, zipfile and java.util.zip refuse the entry",
    ),)


def _copy_stored(
    stream: BinaryIO, offset: int, entry: ZipEntry, write: Callable[[bytes], object], chunk: int
) -> int:
    """Copy a stored entry in chunks; its CRC-32."""
    stream.seek(offset)
    remaining = entry.uncompressed_size
    crc = 0
    while remaining:
        piece = stream.read(min(chunk, remaining))
        if not piece:
            raise InputError(f"not a valid zip: unexpected end of file in {entry.name}")
        remaining -= len(piece)
        crc = zlib.crc32(piece, crc)
        write(piece)
    return crc


def header_evidence(entry: ZipEntry, lfh: tuple[int, ...]) -> tuple[TamperEvidence, ...]:
    """Where the local header disagrees with the central directory in ways Android tolerates."""
    differences = []
    if lfh[3] != entry.method:
        differences.append(f"compression method {lfh[3]} locally, {entry.method} centrally "
                           "(Android uses the central one)")
    if (lfh[2] ^ entry.flags) & _GPB_DATA_DESCRIPTOR:
        differences.append("the data-descriptor flag differs (Android follows the local one)")
    if lfh[2] & _GPB_DATA_DESCRIPTOR and (lfh[6], lfh[7], lfh[8]) not in (
        (0, 0, 0), (entry.crc32, entry.compressed_size, entry.uncompressed_size)
    ):
        differences.append("local sizes/CRC differ (ignored by Android: a data descriptor "
                           "follows)")
    if not differences:
        return ()
    return (TamperEvidence(
        id="zip.header_mismatch",
        detail=f"local header of {entry.name!r} disagrees with the central directory: "
               + "; ".join(differences),
    ),)


def _inflate(
    stream: BinaryIO, offset: int, entry: ZipEntry, limit: int, write: Callable[[bytes], object]
) -> int:
    """Raw-deflate ``entry`` chunk by chunk into ``write``, output capped at ``limit`` + 1
    bytes; the CRC-32 of what it inflated to."""
    stream.seek(offset)
    inflater = zlib.decompressobj(-15)
    produced = 0
    crc = 0
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
            piece = inflater.decompress(pending, limit + 1 - produced)
            produced += len(piece)
            if produced > limit:
                raise ManifestError(f"{entry.name} inflates beyond {limit} bytes")
            crc = zlib.crc32(piece, crc)
            write(piece)
    except zlib.error as exc:
        raise ManifestError(f"{entry.name} cannot be inflated ({exc})") from exc
    if not inflater.eof:
        raise ManifestError(f"{entry.name}: compressed data ends early")
    if produced != entry.uncompressed_size:
        raise ManifestError(
            f"{entry.name} inflates to {produced} bytes, not the declared "
            f"{entry.uncompressed_size}"
        )
    return crc
