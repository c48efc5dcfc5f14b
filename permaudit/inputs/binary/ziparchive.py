"""Read one zip entry the way Android's libziparchive does, without loading the whole file.

Why our own reader: Python's ``zipfile`` builds a ``ZipInfo`` object per entry (~53 ms
for a 9000-entry APK) and accepts archives Android rejects; androguard's importer costs
~170 ms and 36 MiB RSS before reading anything. We read the end-of-central-directory
record, then the central directory in one ``read`` parsed with ``struct.unpack_from``,
then only the wanted entry (seek + bounded read + incremental inflate). Memory does not
grow with the APK's size, only with its central directory and the entry.

The reader is this module (its public face and the central directory walk) and three
helpers: ``zipend`` (end records, zip64 records, tail evidence), ``zipnames`` (name checks
and name evidence), ``zipdata`` (local headers, data, CRC). Every container goes through
it: APKs, split sets and their members, App Bundles, nested APKs.

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

import struct
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import BinaryIO

from permaudit._infra.records import record, replace
from permaudit.errors import InputError
from permaudit.inputs.binary.zipdata import (
    GPB_ENCRYPTED,
    LFH_SIGNATURE,
    MAX_ENTRY_SIZE,
    U32_MAX,
    ZipEntry,
    copy_data,
    encrypted_evidence,
    header_evidence,
    locate,
    read_at,
    zip64_extra,
)
from permaudit.inputs.binary.zipend import (
    EOCD,
    EOCD64_SIGNATURE,
    EOCD_MAGIC,
    EOCD_SIGNATURE,
    LOCATOR_SIGNATURE,
    MAX_CENTRAL_DIRECTORY,
    MAX_COMMENT,
    MAX_FILE_LENGTH,
    find_central_directory,
)
from permaudit.inputs.binary.zipnames import (
    MANIFEST_NAME,
    check_names,
    method_evidence,
    name_evidence,
    selected,
)
from permaudit.model import TamperEvidence

#: Names other modules import from here (the reader's public face).
__all__ = [
    "CD_SIGNATURE", "EOCD64_SIGNATURE", "EOCD_SIGNATURE", "LFH_SIGNATURE",
    "LOCATOR_SIGNATURE", "MANIFEST_NAME", "MAX_CENTRAL_DIRECTORY", "MAX_COMMENT",
    "MAX_ENTRY_SIZE", "MAX_FILE_LENGTH", "ZIP_MAGICS", "CentralDirectory", "Member",
    "MemberSpan", "ZipEntry", "copy_member", "has_end_record", "locate_member",
    "read_directory", "read_entry", "read_member", "read_names",
]

CD_SIGNATURE = 0x02014B50
#: The magic numbers a zip file starts with (a local header, or the end record of an
#: empty archive).
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

_CDR = struct.Struct("<IHHHHHHIIIHHHHHII")
#: The fields of a central directory record the walk needs: signature, compression method,
#: name/extra/comment lengths, local header offset.
_CDR_WALK = struct.Struct("<I6xH16xHHH8xI")


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
    #: What the walk kept to pick more entries later (``pick``) without walking again: the
    #: directory's bytes, each record's start, and the names NUL-joined (already checked).
    records: bytes = b""
    starts: tuple[int, ...] = ()
    blob: bytes = b""

    def entry(self, name: str) -> ZipEntry | None:
        """The wanted entry called ``name``, if the archive has it."""
        return next((e for e in self.entries if e.name == name), None)

    def pick(self, names: Iterable[str]) -> CentralDirectory:
        """This directory with ``names`` as its wanted entries, without a second walk: for
        names learnt after the walk (the files the manifest and resource table point to).

        Equal to ``read_directory(stream, size, names=names)`` on the same archive
        (tests/inputs/binary/test_ziparchive.py); a second walk of a 9,000-entry directory
        costs ~6 ms, and a scan needed up to three (manifest, resource XML, icon).
        """
        indices = selected(self.blob, frozenset(n.encode() for n in names), None)
        raw = self.blob.split(b"\0") if indices else []
        picked = tuple(_entry(self.records, self.starts[i], raw[i]) for i in indices)
        return replace(self, entries=picked)


@record
class Member:
    """The data of one entry as Android reads it, and what its local header gave away."""

    data: bytes
    evidence: tuple[TamperEvidence, ...] = ()


def read_entry(stream: BinaryIO, file_size: int, name: str) -> Member:
    """Entry ``name``'s data and tamper evidence; ``InputError``/``ManifestError`` otherwise."""
    directory = read_directory(stream, file_size, names=(name,))
    entry = directory.entry(name)
    if entry is None:
        raise InputError(f"no {name} in the archive")
    if entry.flags & GPB_ENCRYPTED:
        raise InputError(f"{entry.name} is encrypted")
    return read_member(stream, directory, entry)


def read_directory(
    stream: BinaryIO, file_size: int, *, names: Iterable[str] = (), prefix: str | None = None
) -> CentralDirectory:
    """Walk the central directory as ``ParseZipArchive`` does (errors where it fails).

    ``names`` (exact) and ``prefix`` select the entries returned; every entry is checked.
    """
    end = find_central_directory(stream, file_size)
    wanted = frozenset(n.encode() for n in names)
    walked = _walk(
        stream, end.cd_offset, end.cd_size, end.count, wanted,
        prefix.encode() if prefix is not None else None,
    )
    entries, walk_evidence = walked.entries, walked.evidence
    return CentralDirectory(
        offset=end.cd_offset, size=end.cd_size, eocd_offset=end.eocd_offset, count=end.count,
        entries=entries, evidence=(*end.evidence, *walk_evidence), zip64=end.zip64,
        records=walked.records, starts=walked.starts, blob=walked.blob,
    )


def read_names(stream: BinaryIO, file_size: int) -> tuple[str, ...]:
    """Every entry name, in directory order, after the checks ``read_directory`` makes."""
    end = find_central_directory(stream, file_size)
    cd = read_at(stream, end.cd_offset, end.cd_size)
    scan = _scan(cd, end.cd_offset, end.count)
    check_names(scan.names)
    if scan.error is not None:
        raise scan.error
    return tuple(name.decode() for name in scan.names)


def has_end_record(stream: BinaryIO, file_size: int) -> bool:
    """Whether an end-of-central-directory record is in the tail Android searches (a zip
    with data in front of it: ``read_directory`` then says why Android refuses it)."""
    stream.seek(max(0, file_size - (MAX_COMMENT + EOCD.size)))
    return EOCD_MAGIC in stream.read(MAX_COMMENT + EOCD.size)


def read_member(
    stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry, limit: int = MAX_ENTRY_SIZE
) -> Member:
    """Read ``entry`` as Android does (encryption bit ignored), at most ``limit`` bytes."""
    data, lfh_evidence = _read_data(stream, entry, directory.offset, limit)
    return Member(data=data, evidence=(*encrypted_evidence(entry), *lfh_evidence))


def _walk(
    stream: BinaryIO,
    cd_offset: int,
    cd_size: int,
    count: int,
    wanted: frozenset[bytes],
    prefix: bytes | None,
) -> _Walked:
    """Walk the whole central directory as ``ParseZipArchive`` does; pick the wanted entries.

    Errors are those of the first failing entry, in ``ParseZipArchive``'s order of checks:
    record bounds, signature, name/extra overflow, local header offset, name (valid UTF-8,
    no NUL), duplicate name, advance past the directory.
    """
    cd = read_at(stream, cd_offset, cd_size)
    scan = _scan(cd, cd_offset, count)
    blob, names = check_names(scan.names)
    if scan.error is not None:
        raise scan.error
    if read_at(stream, 0, 4) != b"PK\x03\x04":
        raise InputError(
            "not a zip Android accepts: the file does not start with a local file header "
            "(data prepended to the archive)"
        )
    picked = tuple(
        _entry(cd, scan.offsets[i], scan.names[i]) for i in selected(blob, wanted, prefix)
    )
    return _Walked(
        entries=picked, evidence=(*method_evidence(scan.odd_methods), *name_evidence(names, blob)),
        records=cd, starts=tuple(scan.offsets), blob=blob,
    )


@record
class _Walked:
    """A checked walk: the wanted entries, the tricks seen, what ``pick`` needs later."""

    entries: tuple[ZipEntry, ...]
    evidence: tuple[TamperEvidence, ...]
    records: bytes
    starts: tuple[int, ...]
    blob: bytes


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
            if local_offset == U32_MAX and signature == CD_SIGNATURE and (
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
        _u, _c, offset = zip64_extra(cd[stop : stop + extra_len], record[9], record[8],
                                      record[16])
    except InputError as exc:
        return InputError(f"{exc.detail} (entry #{index})")
    if offset is None or offset >= cd_offset:
        return InputError(f"not a valid zip: bad local header offset at entry #{index}")
    return None


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


def _entry(cd: bytes, pos: int, name: bytes) -> ZipEntry:
    record = _CDR.unpack_from(cd, pos)
    compressed, uncompressed, offset = record[8], record[9], record[16]
    if U32_MAX in (compressed, uncompressed, offset):
        start = pos + _CDR.size + record[10]
        uncompressed, compressed, found = zip64_extra(
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


def _read_data(
    stream: BinaryIO, entry: ZipEntry, cd_offset: int, limit: int = MAX_ENTRY_SIZE
) -> tuple[bytes, tuple[TamperEvidence, ...]]:
    out: list[bytes] = []
    # Stored data in one read (at most ``limit`` bytes), so no copy is joined.
    evidence = copy_data(stream, entry, cd_offset, limit, out.append, chunk=max(limit, 1))
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
    offset, lfh = locate(stream, entry, directory.offset)
    size = entry.compressed_size if entry.method == 8 else entry.uncompressed_size
    return MemberSpan(offset=offset, size=size, evidence=header_evidence(entry, lfh))


def copy_member(
    stream: BinaryIO,
    directory: CentralDirectory,
    entry: ZipEntry,
    write: Callable[[bytes], object],
    limit: int,
) -> tuple[TamperEvidence, ...]:
    """Write ``entry``'s data (as Android reads it) to ``write`` chunk by chunk, at most
    ``limit`` bytes; the evidence of its local header, its encryption flag and its CRC."""
    return (*encrypted_evidence(entry), *copy_data(stream, entry, directory.offset, limit, write))


