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
* zip64 is read as ``FindCentralDirectoryInfoForZip64`` and
  ``ParseZip64ExtendedInfoInExtraField`` read it (AOSP main): an end record with a 0xFFFF
  count, a 0xFFFFFFFF size or offset, **or a 0xFFFF comment length** sends Android to the
  zip64 locator, which must sit right before the end record; the zip64 end record must lie
  before the locator and its directory before it; entries whose sizes or local header
  offset are 0xFFFFFFFF take them from their zip64 extra field (in the local header both
  sizes must be there). libziparchive gained this in March 2020 (system/core change
  I4cd9ebbd, "Implement the functions to parse zip64 structs", bug 150900468), so Android
  11 (API 30) is the first release that installs such an APK; ``CentralDirectory.zip64``
  lets the caller say so. Work stays bounded: the declared count is capped by what the
  directory can hold, and the directory by ``MAX_CENTRAL_DIRECTORY``;
* CRCs: Android does not check them (``kCrcChecksEnabled = false`` in zip_archive.cc, so
  ``ExtractToMemory`` returns data whose CRC is wrong), while ``unzip``, Python's
  ``zipfile`` and ``java.util.zip`` refuse such an entry; every entry read here has its
  CRC computed on the way and a mismatch is the tamper note ``zip.crc_mismatch``.

Encrypted entries (general-purpose flag bit 0) are an ``InputError`` for ``read_entry``.
libziparchive never looks at that bit (``FindEntry`` only copies ``gpb_flags``), so
``read_member`` reads such an entry as Android does and records ``zip.encrypted_flag``
("fake encryption": tools that honour the bit refuse the file, Android installs it);
the caller decides whether the data is usable. Inflation is incremental with
``max_length`` and capped at ``MAX_ENTRY_SIZE``, so a zip bomb costs bounded memory and
time.

Tamper evidence (``TamperEvidence``) is collected on the way, for tricks Android accepts
but other tools read differently; each kind is reported once, naming a few entries:
``zip.multiple_eocd`` (another end record after the central directory, or a second
self-consistent one in the searched tail), ``zip.gap_before_eocd`` (bytes between the
central directory and the end record), ``zip.unknown_compression`` (method neither
stored nor deflate), ``zip.empty_name``, ``zip.control_character_name``,
``zip.path_traversal`` (``..`` components or absolute names), ``zip.path_collision`` (a
file name also used as a directory), ``zip.manifest_lookalike`` (another spelling of
``AndroidManifest.xml``) from the central directory walk; ``zip.header_mismatch`` (local
header disagrees with the central directory on method, data-descriptor flag or sizes)
and ``zip.encrypted_flag`` for the entries actually read. Local headers of other entries
are not read: that would cost a seek per entry.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import BinaryIO

from permaudit._infra.records import record
from permaudit.errors import InputError, ManifestError
from permaudit.model import TamperEvidence

EOCD_SIGNATURE = 0x06054B50
EOCD64_SIGNATURE = 0x06064B50
LOCATOR_SIGNATURE = 0x07064B50
CD_SIGNATURE = 0x02014B50
LFH_SIGNATURE = 0x04034B50
MAX_COMMENT = 0xFFFF
MAX_ENTRY_SIZE = 16 * 1024 * 1024
#: A central directory is read into memory whole; real APKs need well under 16 MiB even at
#: 65535 entries, so a larger one is refused rather than allocated.
MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024
#: ``kMaxFileLength``: libziparchive refuses larger files (256 GiB).
MAX_FILE_LENGTH = 256 * 1024 * 1024 * 1024
#: The magic numbers a zip file starts with (a local header, or the end record of an
#: empty archive).
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

_EOCD = struct.Struct("<IHHHHIIH")
_CDR = struct.Struct("<IHHHHHHIIIHHHHHII")
#: The fields of a central directory record the walk needs: signature, compression method,
#: name/extra/comment lengths, local header offset.
_CDR_WALK = struct.Struct("<I6xH16xHHH8xI")
_LFH = struct.Struct("<IHHHHHIIIHH")
_LOCATOR = struct.Struct("<IIQI")
_EOCD64 = struct.Struct("<IQHHIIQQQQ")
_EXTRA_HEADER = struct.Struct("<HH")
_U64 = struct.Struct("<Q")
_ZIP64_EXTRA_ID = 0x0001
_U16_MAX = 0xFFFF
_U32_MAX = 0xFFFFFFFF
_GPB_ENCRYPTED = 0x1
_GPB_DATA_DESCRIPTOR = 0x8
_CHUNK = 64 * 1024
#: Stored data is read (and its CRC computed) in pieces of at most this size.
_STORED_CHUNK = 8 * 1024 * 1024
_EOCD_MAGIC = b"PK\x05\x06"
#: Names shown in one piece of evidence before "and N more".
_SHOWN = 3
#: Every byte but the control characters: ``name.translate(None, _NOT_CONTROL)`` keeps
#: only the control characters of ``name``.
_NOT_CONTROL = bytes(b for b in range(256) if not (0 < b < 0x20 or b == 0x7F))
#: Every byte but "/": ``name.rstrip(_NOT_SLASH)`` is the directory of ``name`` with its
#: final slash ("res/x/" for "res/x/y.png", "/" for "/y", empty for "y").
_NOT_SLASH = bytes(b for b in range(256) if b != 0x2F)
_TRAVERSAL = re.compile(rb"(?:^|[/\\])\.\.(?:[/\\]|$)|^[/\\]")
MANIFEST_NAME = b"AndroidManifest.xml"


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


@record
class CentralDirectory:
    """One walk of the central directory: where it lies, the entries asked for, tricks seen."""

    offset: int
    size: int
    eocd_offset: int
    count: int
    #: The entries whose names were asked for, in directory order.
    entries: tuple[ZipEntry, ...] = ()
    evidence: tuple[TamperEvidence, ...] = ()
    #: The directory was found through zip64 end records (Android 11 and later read it).
    zip64: bool = False

    def entry(self, name: str) -> ZipEntry | None:
        """The wanted entry called ``name``, if the archive has it."""
        return next((e for e in self.entries if e.name == name), None)


@record
class Member:
    """The data of one entry as Android reads it, and what its local header gave away."""

    data: bytes
    evidence: tuple[TamperEvidence, ...] = ()


def read_entry(stream: BinaryIO, file_size: int, name: str) -> bytes:
    """Return the contents of entry ``name``; ``InputError``/``ManifestError`` otherwise."""
    directory = read_directory(stream, file_size, names=(name,))
    entry = directory.entry(name)
    if entry is None:
        raise InputError(f"no {name} in the archive")
    if entry.flags & _GPB_ENCRYPTED:
        raise InputError(f"{entry.name} is encrypted")
    return read_member(stream, directory, entry).data


def read_directory(
    stream: BinaryIO, file_size: int, *, names: Iterable[str] = (), prefix: str | None = None
) -> CentralDirectory:
    """Walk the central directory as ``ParseZipArchive`` does (errors where it fails).

    ``names`` (exact) and ``prefix`` select the entries returned; every entry is checked.
    """
    end = _find_central_directory(stream, file_size)
    wanted = frozenset(n.encode() for n in names)
    entries, walk_evidence = _walk(
        stream, end.cd_offset, end.cd_size, end.count, wanted,
        prefix.encode() if prefix is not None else None,
    )
    return CentralDirectory(
        offset=end.cd_offset, size=end.cd_size, eocd_offset=end.eocd_offset, count=end.count,
        entries=entries, evidence=(*end.evidence, *walk_evidence), zip64=end.zip64,
    )


def read_names(stream: BinaryIO, file_size: int) -> tuple[str, ...]:
    """Every entry name, in directory order, after the checks ``read_directory`` makes."""
    end = _find_central_directory(stream, file_size)
    cd = _read_at(stream, end.cd_offset, end.cd_size)
    scan = _scan(cd, end.cd_offset, end.count)
    _check_names(scan.names)
    if scan.error is not None:
        raise scan.error
    return tuple(name.decode() for name in scan.names)


def has_end_record(stream: BinaryIO, file_size: int) -> bool:
    """Whether an end-of-central-directory record is in the tail Android searches (a zip
    with data in front of it: ``read_directory`` then says why Android refuses it)."""
    stream.seek(max(0, file_size - (MAX_COMMENT + _EOCD.size)))
    return _EOCD_MAGIC in stream.read(MAX_COMMENT + _EOCD.size)


def read_member(
    stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry, limit: int = MAX_ENTRY_SIZE
) -> Member:
    """Read ``entry`` as Android does (encryption bit ignored), at most ``limit`` bytes."""
    data, lfh_evidence = _read_data(stream, entry, directory.offset, limit)
    return Member(data=data, evidence=(*_encrypted_evidence(entry), *lfh_evidence))


def _encrypted_evidence(entry: ZipEntry) -> tuple[TamperEvidence, ...]:
    if not entry.flags & _GPB_ENCRYPTED:
        return ()
    return (TamperEvidence(
        id="zip.encrypted_flag",
        detail=f"entry {entry.name!r} is flagged as encrypted; Android ignores the flag "
               "and reads the data, while tools that honour it refuse the file",
    ),)


def _read_at(stream: BinaryIO, offset: int, size: int) -> bytes:
    stream.seek(offset)
    data = stream.read(size)
    if len(data) != size:
        raise InputError(f"not a valid zip: unexpected end of file at offset {offset}")
    return data


@record
class _End:
    """The end-of-central-directory record Android uses, and what the tail gave away."""

    cd_offset: int
    cd_size: int
    count: int
    eocd_offset: int
    evidence: tuple[TamperEvidence, ...]
    zip64: bool = False


def _find_central_directory(stream: BinaryIO, file_size: int) -> _End:
    if file_size < _EOCD.size:
        raise InputError("not a zip file: too small for an end-of-central-directory record")
    if file_size > MAX_FILE_LENGTH:
        raise InputError(f"zip file of {file_size} bytes is beyond Android's 256 GiB limit")
    search = min(file_size, MAX_COMMENT + _EOCD.size)
    tail_start = file_size - search
    tail = _read_at(stream, tail_start, search)
    index = tail.rfind(_EOCD_MAGIC, 0, len(tail) - _EOCD.size + 4)
    if index < 0:
        raise InputError("not a zip file: no end-of-central-directory record")
    eocd_offset = tail_start + index
    (_sig, _disk, _cd_disk, on_disk, count, cd_size, cd_offset, comment) = _EOCD.unpack_from(
        tail, index
    )
    trailing = file_size - (eocd_offset + _EOCD.size + comment)
    if trailing != 0:
        raise InputError(
            f"not a zip Android accepts: {trailing} extraneous bytes after the "
            "end-of-central-directory record"
        )
    zip64 = _U16_MAX in (on_disk, count, comment) or _U32_MAX in (cd_size, cd_offset)
    records_end = eocd_offset
    if zip64:
        only_comment = _U16_MAX not in (on_disk, count) and _U32_MAX not in (cd_size, cd_offset)
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
    count = min(count, cd_size // _CDR.size + 1)
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
        _read_at(stream, locator_offset, _LOCATOR.size)
    )
    if signature != LOCATOR_SIGNATURE:
        raise InputError(f"not a zip Android accepts: {why} but no zip64 end record locator "
                         "precedes it")
    if locator_offset <= _EOCD64.size or record_offset > locator_offset - _EOCD64.size:
        raise InputError(f"not a zip Android accepts: bad zip64 end record offset "
                         f"{record_offset} (locator at {locator_offset})")
    record = _EOCD64.unpack(_read_at(stream, record_offset, _EOCD64.size))
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
    pos = tail.rfind(_EOCD_MAGIC, 0, index)
    while pos >= 0 and len(others) < 16:
        absolute = tail_start + pos
        if absolute >= cd_end or _self_consistent(tail, pos, absolute):
            others.append(absolute)
        pos = tail.rfind(_EOCD_MAGIC, 0, pos)
    if others:
        where = ", ".join(str(o) for o in sorted(others)[:_SHOWN])
        evidence.append(TamperEvidence(
            id="zip.multiple_eocd",
            detail=f"another end-of-central-directory record at offset {where} besides the one "
                   f"Android uses at {eocd_offset}; tools that pick a different one see a "
                   "different archive",
        ))
    return tuple(evidence)


def _self_consistent(tail: bytes, pos: int, absolute: int) -> bool:
    """An end record whose central directory ends right where the record starts."""
    if pos + _EOCD.size > len(tail):
        return False
    fields = _EOCD.unpack_from(tail, pos)
    cd_size, cd_offset = fields[5], fields[6]
    return bool(fields[4] > 0 and cd_offset + cd_size == absolute)


def _walk(
    stream: BinaryIO,
    cd_offset: int,
    cd_size: int,
    count: int,
    wanted: frozenset[bytes],
    prefix: bytes | None,
) -> tuple[tuple[ZipEntry, ...], tuple[TamperEvidence, ...]]:
    """Walk the whole central directory as ``ParseZipArchive`` does; pick the wanted entries.

    Errors are those of the first failing entry, in ``ParseZipArchive``'s order of checks:
    record bounds, signature, name/extra overflow, local header offset, name (valid UTF-8,
    no NUL), duplicate name, advance past the directory.
    """
    cd = _read_at(stream, cd_offset, cd_size)
    scan = _scan(cd, cd_offset, count)
    blob, names = _check_names(scan.names)
    if scan.error is not None:
        raise scan.error
    if _read_at(stream, 0, 4) != b"PK\x03\x04":
        raise InputError(
            "not a zip Android accepts: the file does not start with a local file header "
            "(data prepended to the archive)"
        )
    picked = tuple(
        _entry(cd, scan.offsets[i], scan.names[i]) for i in _selected(blob, wanted, prefix)
    )
    return picked, (*_method_evidence(scan.odd_methods), *_name_evidence(names, blob))


@record
class _Scan:
    """The record-by-record part of the walk: raw names and where each record starts."""

    names: list[bytes]
    offsets: list[int]
    odd_methods: list[tuple[bytes, int]]
    #: The structural error that stopped the walk; ``names`` holds the names the walk had
    #: reached, which ``ParseZipArchive`` checks before this error.
    error: InputError | None


def _scan(cd: bytes, cd_offset: int, count: int) -> _Scan:
    """Step through ``count`` records checking their structure; names are checked later.

    The hot loop of a scan (~9000 iterations for a big APK): one ``unpack_from`` of just the
    fields it needs, one slice, two appends. The entry index for messages is ``len(names)``.
    """
    cd_size = len(cd)
    names: list[bytes] = []
    offsets: list[int] = []
    odd: list[tuple[bytes, int]] = []
    add_name = names.append
    add_offset = offsets.append
    unpack = _CDR_WALK.unpack_from
    last_start = cd_size - _CDR.size
    pos = 0
    for _ in repeat(None, count):
        if pos > last_start:
            # The previous record's advance passed the directory, or this one is cut short.
            return _Scan(names=names, offsets=offsets, odd_methods=odd,
                         error=_bounds_error(pos, cd_size, len(names)))
        signature, method, name_len, extra_len, comment_len, local_offset = unpack(cd, pos)
        start = pos + _CDR.size
        stop = start + name_len
        if signature != CD_SIGNATURE or stop + extra_len > cd_size or local_offset >= cd_offset:
            error: InputError | None = _record_error(
                signature, stop + extra_len > cd_size, len(names)
            )
            if local_offset == _U32_MAX and signature == CD_SIGNATURE and (
                stop + extra_len <= cd_size
            ):
                # zip64: the offset is in the extra field (rare, so off the hot path).
                error = _zip64_offset_error(cd, pos, stop, extra_len, cd_offset, len(names))
            if error is not None:
                return _Scan(names=names, offsets=offsets, odd_methods=odd, error=error)
        name = cd[start:stop]
        add_name(name)
        add_offset(pos)
        if method | 8 != 8:  # neither 0 (stored) nor 8 (deflate)
            odd.append((name, method))
        pos = stop + extra_len + comment_len
    last = _bounds_error(pos, cd_size, count) if pos > cd_size else None
    return _Scan(names=names, offsets=offsets, odd_methods=odd, error=last)


def _zip64_offset_error(
    cd: bytes, pos: int, stop: int, extra_len: int, cd_offset: int, index: int
) -> InputError | None:
    """Why the zip64 local header offset of entry #``index`` is refused, if it is."""
    record = _CDR.unpack_from(cd, pos)
    try:
        _u, _c, offset = _zip64_extra(cd[stop : stop + extra_len], record[9], record[8],
                                      record[16])
    except InputError as exc:
        return InputError(f"{exc.detail} (entry #{index})")
    if offset is None or offset >= cd_offset:
        return InputError(f"not a valid zip: bad local header offset at entry #{index}")
    return None


def _zip64_extra(
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
            if value == _U32_MAX or complete:
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


def _bounds_error(pos: int, cd_size: int, index: int) -> InputError:
    """Why a record cannot start at ``pos``: the previous advance overshot, or it is cut."""
    if pos > cd_size:
        return InputError(f"not a valid zip: bad central directory advance at entry #{index - 1}")
    return InputError(f"not a valid zip: central directory ends inside entry #{index}")


def _record_error(signature: int, overflows: bool, index: int) -> InputError:
    """The first of the record checks entry #``index`` fails (it fails at least one)."""
    if signature != CD_SIGNATURE:
        return InputError(f"not a valid zip: missing central directory signature at entry #{index}")
    if overflows:
        return InputError(f"not a valid zip: entry #{index} name or extra field overflows")
    return InputError(f"not a valid zip: bad local header offset at entry #{index}")


def _check_names(names: list[bytes]) -> tuple[bytes, set[bytes]]:
    """Raise for the first entry name Android refuses; the names NUL-joined, and as a set.

    Whole-list tests first: the NUL-joined names hold exactly one NUL per gap iff no name
    holds one; they decode as UTF-8 iff every name does (a NUL cannot sit inside a UTF-8
    sequence, so no sequence spans two names); the set is as long as the list iff no name
    repeats. Only when one fails are names checked one by one, to name the first culprit.
    """
    blob = b"\0".join(names)
    unique = set(names)
    if (
        names
        and blob.count(b"\0") == len(names) - 1
        and _valid_utf8(blob)
        and len(unique) == len(names)
    ):
        return blob, unique
    seen: set[bytes] = set()
    for i, name in enumerate(names):
        if b"\0" in name or not _valid_utf8(name):
            raise InputError(f"not a zip Android accepts: invalid entry name at entry #{i}")
        if name in seen:
            raise InputError(
                "duplicate zip entry "
                f"{name.decode(errors='replace')!r}: Android rejects such archives"
            )
        seen.add(name)
    return blob, seen


def _selected(blob: bytes, wanted: frozenset[bytes], prefix: bytes | None) -> list[int]:
    """Indices of the names in ``wanted`` or starting with ``prefix``, in directory order.

    ``blob`` is the NUL-joined names (none holds a NUL), so a name is a NUL-delimited run
    and ``bytes.find`` locates it; its index is the number of NULs before it.
    """
    padded = b"\0" + blob + b"\0"
    starts: set[int] = set()
    for name in wanted:
        at = padded.find(b"\0" + name + b"\0") if b"\0" not in name else -1
        if at >= 0:
            starts.add(at)
    if prefix is not None and b"\0" not in prefix:
        needle = b"\0" + prefix
        end = len(padded) - 1  # the last NUL starts no name
        at = padded.find(needle, 0, end)
        while at >= 0:
            starts.add(at)
            at = padded.find(needle, at + 1, end)
    indices = []
    index = -1
    previous = 0
    for at in sorted(starts):
        index += padded.count(b"\0", previous, at + 1)
        previous = at + 1
        indices.append(index)
    return indices


def _entry(cd: bytes, pos: int, name: bytes) -> ZipEntry:
    record = _CDR.unpack_from(cd, pos)
    compressed, uncompressed, offset = record[8], record[9], record[16]
    if _U32_MAX in (compressed, uncompressed, offset):
        start = pos + _CDR.size + record[10]
        uncompressed, compressed, found = _zip64_extra(
            cd[start : start + record[11]], uncompressed, compressed, offset
        )
        offset = found if found is not None else offset
    return ZipEntry(
        name=name.decode(),
        flags=record[3],
        method=record[4],
        crc32=record[7],
        compressed_size=compressed,
        uncompressed_size=uncompressed,
        local_header_offset=offset,
    )


def _shown(names: Iterable[bytes]) -> str:
    """A few entry names for a message, with how many more there are."""
    ordered = sorted(names)
    text = ", ".join(repr(n.decode(errors="replace")) for n in ordered[:_SHOWN])
    more = len(ordered) - _SHOWN
    return text + (f" and {more} more" if more > 0 else "")


def _method_evidence(odd: list[tuple[bytes, int]]) -> tuple[TamperEvidence, ...]:
    if not odd:
        return ()
    methods = ", ".join(str(m) for m in sorted({m for _, m in odd}))
    manifest = any(n == MANIFEST_NAME for n, _ in odd)
    return (TamperEvidence(
        id="zip.unknown_compression",
        detail=f"compression method {methods} (neither stored nor deflate) on "
               f"{_shown(n for n, _ in odd)}; "
               + ("Android opens the manifest as stored data, " if manifest else "")
               + "tools that trust the method fail or read something else",
    ),)


def _name_evidence(names: set[bytes], blob: bytes) -> tuple[TamperEvidence, ...]:
    """Name tricks: empty, control characters, traversal, collisions, manifest look-alikes.

    Written for speed (9000-entry archives): ``blob`` (the names joined by NUL, in any
    order; names never hold NUL) is scanned by C-level bytes methods, per-name Python work
    only for the names a scan flagged.
    """
    evidence = []
    if b"" in names:
        evidence.append(TamperEvidence(
            id="zip.empty_name",
            detail="an entry has an empty name; Android accepts it, extracting tools stumble",
        ))
    if blob.translate(None, _NOT_CONTROL):
        odd = [n for n in names if n.translate(None, _NOT_CONTROL)]
        evidence.append(TamperEvidence(
            id="zip.control_character_name",
            detail=f"entry names with control characters: {_shown(odd)}",
        ))
    parents = set(map(bytes.rstrip, names, repeat(_NOT_SLASH)))
    absolute = any(p.startswith(b"/") for p in parents)  # a name starts with a slash
    if absolute or b".." in blob or b"\\" in blob:
        odd = [n for n in names if _TRAVERSAL.search(n)]
        if odd:
            evidence.append(TamperEvidence(
                id="zip.path_traversal",
                detail=f"entry names that climb out of the extraction directory: {_shown(odd)}; "
                       "Android never extracts by name, unpacking tools may write elsewhere",
            ))
    directories = set()
    for parent in parents:
        while parent:
            parent = parent[:-1]  # without its final slash
            directories.add(parent)
            parent = parent.rstrip(_NOT_SLASH)
    collisions = (directories & names) - {b""}
    if collisions:
        evidence.append(TamperEvidence(
            id="zip.path_collision",
            detail=f"entries that are both a file and a directory: {_shown(collisions)}; "
                   "Android reads each by its full name, extracting tools overwrite or fail",
        ))
    if blob.lower().count(MANIFEST_NAME.lower()) > (MANIFEST_NAME in names):
        lookalikes = [n for n in names if n != MANIFEST_NAME and _looks_like_manifest(n)]
        if lookalikes:
            evidence.append(TamperEvidence(
                id="zip.manifest_lookalike",
                detail=f"entries that resemble {MANIFEST_NAME.decode()}: {_shown(lookalikes)}; "
                       "Android reads only the exact name, tools that match loosely may not",
            ))
    return tuple(evidence)


def _looks_like_manifest(name: bytes) -> bool:
    base = name.lower().lstrip(b"./\\").rstrip(b"/\\ \t\r\n")
    return base == MANIFEST_NAME.lower()


def _valid_utf8(name: bytes) -> bool:
    try:
        name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read_data(
    stream: BinaryIO, entry: ZipEntry, cd_offset: int, limit: int = MAX_ENTRY_SIZE
) -> tuple[bytes, tuple[TamperEvidence, ...]]:
    out: list[bytes] = []
    evidence = _copy(stream, entry, cd_offset, limit, out.append)
    return b"".join(out), evidence


@record
class MemberSpan:
    """Where the data of a stored entry lies, for a caller that reads it in place."""

    offset: int
    size: int
    evidence: tuple[TamperEvidence, ...] = ()


def locate_member(stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry) -> MemberSpan:
    """Check ``entry``'s local header as ``FindEntry`` does; where its data starts.

    For a stored entry (method 0) the span is its data; its CRC is not checked here (see
    ``copy_member``). The evidence is the local header's.
    """
    offset, lfh = _locate(stream, entry, directory.offset)
    size = entry.compressed_size if entry.method == 8 else entry.uncompressed_size
    return MemberSpan(offset=offset, size=size, evidence=_header_evidence(entry, lfh))


def copy_member(
    stream: BinaryIO,
    directory: CentralDirectory,
    entry: ZipEntry,
    write: Callable[[bytes], object],
    limit: int,
) -> tuple[TamperEvidence, ...]:
    """Write ``entry``'s data (as Android reads it) to ``write`` chunk by chunk, at most
    ``limit`` bytes; the evidence of its local header, its encryption flag and its CRC."""
    return (*_encrypted_evidence(entry), *_copy(stream, entry, directory.offset, limit, write))


def _locate(stream: BinaryIO, entry: ZipEntry, cd_offset: int) -> tuple[int, tuple[int, ...]]:
    """The data offset of ``entry`` and its local header fields, checked as ``FindEntry``."""
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
    compressed, uncompressed = lfh[7], lfh[8]
    if _U32_MAX in (compressed, uncompressed):
        if (compressed, uncompressed) != (_U32_MAX, _U32_MAX):
            raise InputError(f"not a zip Android accepts: the zip64 local header of "
                             f"{entry.name} must carry both sizes")
        extra_at = offset + _LFH.size + name_len
        if extra_at > cd_offset - extra_len:
            raise InputError(f"not a valid zip: extra field of {entry.name} overflows")
        uncompressed, compressed, _ = _zip64_extra(
            _read_at(stream, extra_at, extra_len), uncompressed, compressed, None
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


def _copy(
    stream: BinaryIO, entry: ZipEntry, cd_offset: int, limit: int, write: Callable[[bytes], object]
) -> tuple[TamperEvidence, ...]:
    data_offset, lfh = _locate(stream, entry, cd_offset)
    if entry.uncompressed_size > limit:
        raise ManifestError(
            f"{entry.name} declares {entry.uncompressed_size} bytes, beyond the "
            f"{limit} byte limit"
        )
    evidence = _header_evidence(entry, lfh)
    if entry.method != 8:
        # Not deflate: AssetsProvider maps uncompressed_length bytes as stored data.
        crc = _copy_stored(stream, data_offset, entry, write)
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
    stream: BinaryIO, offset: int, entry: ZipEntry, write: Callable[[bytes], object]
) -> int:
    """Copy a stored entry in chunks; its CRC-32."""
    stream.seek(offset)
    remaining = entry.uncompressed_size
    crc = 0
    while remaining:
        chunk = stream.read(min(_STORED_CHUNK, remaining))
        if not chunk:
            raise InputError(f"not a valid zip: unexpected end of file in {entry.name}")
        remaining -= len(chunk)
        crc = zlib.crc32(chunk, crc)
        write(chunk)
    return crc


def _header_evidence(entry: ZipEntry, lfh: tuple[int, ...]) -> tuple[TamperEvidence, ...]:
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
