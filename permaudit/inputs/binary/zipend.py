"""The end of a zip: where Android finds the central directory (end record, zip64 records).

``FindCentralDirectoryInfo``/``FindCentralDirectoryInfoForZip64`` of libziparchive; see
``ziparchive`` for the semantics, and the tricks in the file's tail recorded as evidence.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from permaudit._infra.records import record
from permaudit.errors import InputError
from permaudit.inputs.binary.zipdata import U32_MAX, read_at
from permaudit.inputs.binary.zipnames import SHOWN
from permaudit.model import TamperEvidence

#: The fixed part of a central directory record: no record is shorter.
_CDR_SIZE = 46
EOCD_SIGNATURE = 0x06054B50
EOCD64_SIGNATURE = 0x06064B50
LOCATOR_SIGNATURE = 0x07064B50
MAX_COMMENT = 0xFFFF
#: A central directory is read into memory whole; real APKs need well under 16 MiB even at
#: 65535 entries, so a larger one is refused rather than allocated.
MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024
#: ``kMaxFileLength``: libziparchive refuses larger files (256 GiB).
MAX_FILE_LENGTH = 256 * 1024 * 1024 * 1024
EOCD = struct.Struct("<IHHHHIIH")
_LOCATOR = struct.Struct("<IIQI")
_EOCD64 = struct.Struct("<IQHHIIQQQQ")
_U16_MAX = 0xFFFF
EOCD_MAGIC = b"PK\x05\x06"


@record
class _End:
    """The end-of-central-directory record Android uses, and what the tail gave away."""

    cd_offset: int
    cd_size: int
    count: int
    eocd_offset: int
    evidence: tuple[TamperEvidence, ...]
    zip64: bool = False


def find_central_directory(stream: BinaryIO, file_size: int) -> _End:
    if file_size < EOCD.size:
        raise InputError("not a zip file: too small for an end-of-central-directory record")
    if file_size > MAX_FILE_LENGTH:
        raise InputError(f"zip file of {file_size} bytes is beyond Android's 256 GiB limit")
    search = min(file_size, MAX_COMMENT + EOCD.size)
    tail_start = file_size - search
    tail = read_at(stream, tail_start, search)
    index = tail.rfind(EOCD_MAGIC, 0, len(tail) - EOCD.size + 4)
    if index < 0:
        raise InputError("not a zip file: no end-of-central-directory record")
    eocd_offset = tail_start + index
    (_sig, _disk, _cd_disk, on_disk, count, cd_size, cd_offset, comment) = EOCD.unpack_from(
        tail, index
    )
    trailing = file_size - (eocd_offset + EOCD.size + comment)
    if trailing != 0:
        raise InputError(
            f"not a zip Android accepts: {trailing} extraneous bytes after the "
            "end-of-central-directory record"
        )
    zip64 = _U16_MAX in (on_disk, count, comment) or U32_MAX in (cd_size, cd_offset)
    records_end = eocd_offset
    if zip64:
        only_comment = _U16_MAX not in (on_disk, count) and U32_MAX not in (cd_size, cd_offset)
        count, cd_size, cd_offset, records_end = _zip64_end(stream, eocd_offset, only_comment)
    elif cd_offset + cd_size > eocd_offset:
        raise InputError(
            f"not a zip Android accepts: bad offsets (central directory {cd_offset} + "
            f"{cd_size} passes the end record at {eocd_offset})"
        )
    if count == 0:
        raise InputError("empty zip archive (no entries)")
    if cd_size > MAX_CENTRAL_DIRECTORY:
        raise InputError(
            f"central directory of {cd_size} bytes is beyond the {MAX_CENTRAL_DIRECTORY} "
            "byte limit"
        )
    # Every record takes at least 46 bytes: a larger count cannot be walked, so it is
    # capped here and the walk reports where the directory ends.
    count = min(count, cd_size // _CDR_SIZE + 1)
    evidence = _tail_evidence(tail, tail_start, index, cd_offset + cd_size, records_end)
    return _End(
        cd_offset=cd_offset, cd_size=cd_size, count=count, eocd_offset=eocd_offset,
        evidence=evidence, zip64=zip64,
    )


def _zip64_end(
    stream: BinaryIO, eocd_offset: int, only_comment: bool
) -> tuple[int, int, int, int]:
    """Count, size and offset of the directory from the zip64 end record, and where that
    record starts, checked as ``FindCentralDirectoryInfoForZip64`` checks them."""
    why = (
        "the end record's comment is 65535 bytes long, which makes Android's zip reader "
        "(AOSP main) look for zip64 end records," if only_comment else
        "the end record has zip64 markers (a 0xFFFF count, or a 0xFFFFFFFF size or offset)"
    )
    if eocd_offset <= _LOCATOR.size:
        raise InputError(f"not a zip Android accepts: {why} but there is no room for a zip64 "
                         "end record locator before it")
    locator_offset = eocd_offset - _LOCATOR.size
    signature, _disk, record_offset, _disks = _LOCATOR.unpack(
        read_at(stream, locator_offset, _LOCATOR.size)
    )
    if signature != LOCATOR_SIGNATURE:
        raise InputError(f"not a zip Android accepts: {why} but no zip64 end record locator "
                         "precedes it")
    if locator_offset <= _EOCD64.size or record_offset > locator_offset - _EOCD64.size:
        raise InputError(f"not a zip Android accepts: bad zip64 end record offset "
                         f"{record_offset} (locator at {locator_offset})")
    record = _EOCD64.unpack(read_at(stream, record_offset, _EOCD64.size))
    if record[0] != EOCD64_SIGNATURE:
        raise InputError(f"not a zip Android accepts: no zip64 end record at {record_offset}")
    count, cd_size, cd_offset = record[7], record[8], record[9]
    if record_offset <= cd_size or cd_offset > record_offset - cd_size:
        raise InputError(
            f"not a zip Android accepts: bad zip64 offsets (central directory {cd_offset} + "
            f"{cd_size} passes the zip64 end record at {record_offset})"
        )
    return count, cd_size, cd_offset, record_offset


def _tail_evidence(
    tail: bytes, tail_start: int, index: int, cd_end: int, records_end: int
) -> tuple[TamperEvidence, ...]:
    """Other end records and gaps near the one Android picked (the last in the file).

    ``records_end`` is where the end records start: the end record, or the zip64 one.
    """
    evidence = []
    eocd_offset = tail_start + index
    if records_end > cd_end:
        evidence.append(TamperEvidence(
            id="zip.gap_before_eocd",
            detail=f"{records_end - cd_end} bytes sit between the central directory and the "
                   "end record; Android's zip reader skips them, tools that expect the end "
                   "record right after the directory do not (and APK Signature Scheme v2+ "
                   "verification fails)",
        ))
    others: list[int] = []
    pos = tail.rfind(EOCD_MAGIC, 0, index)
    while pos >= 0 and len(others) < 16:
        absolute = tail_start + pos
        if absolute >= cd_end or _self_consistent(tail, pos, absolute):
            others.append(absolute)
        pos = tail.rfind(EOCD_MAGIC, 0, pos)
    if others:
        where = ", ".join(str(o) for o in sorted(others)[:SHOWN])
        evidence.append(TamperEvidence(
            id="zip.multiple_eocd",
            detail=f"another end-of-central-directory record at offset {where} besides the one "
                   f"Android uses at {eocd_offset}; tools that pick a different one see a "
                   "different archive",
        ))
    return tuple(evidence)


def _self_consistent(tail: bytes, pos: int, absolute: int) -> bool:
    """An end record whose central directory ends right where the record starts."""
    if pos + EOCD.size > len(tail):
        return False
    fields = EOCD.unpack_from(tail, pos)
    cd_size, cd_offset = fields[5], fields[6]
    return bool(fields[4] > 0 and cd_offset + cd_size == absolute)
