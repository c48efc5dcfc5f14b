"""Split sets as one app: ``.apks``/``.xapk``/``.apkm`` archives and loose split APKs.

Android's rules for merging a base APK and its splits live in ``split_rules`` (re-exported
here). Archives go through the one zip reader (``inputs.binary.ziparchive``), with the checks and
tamper evidence of an APK (duplicate names refuse the archive, CRC mismatches are noted).
Members are read without loading the archive: a stored member is a byte range read
through ``Window`` (after one streaming pass for its CRC); a deflated one is inflated into
a spooled temporary file (memory up to ``SPOOL_IN_MEMORY``, then disk), refused beyond
``MAX_MEMBER_SIZE``.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO, cast

from permaudit._infra.records import replace
from permaudit.errors import InputError, PermauditError
from permaudit.inputs.binary.ziparchive import (
    CentralDirectory,
    ZipEntry,
    copy_member,
    locate_member,
    read_directory,
    read_member,
)
from permaudit.inputs.icon import MemberFiles
from permaudit.inputs.split_rules import (
    SplitApk,
    SplitSet,
    dist_attribute,
    merge_split_set,
    merge_splits,
    package_name,
    split_kind,
    split_name,
    split_set_signing,
    with_integrity,
)
from permaudit.model import TamperEvidence

if TYPE_CHECKING:
    from permaudit.inputs.apk import ApkContents
    from permaudit.inputs.code import CodeReader

KIND_APKS = "apks"
KIND_XAPK = "xapk"
KIND_APKM = "apkm"
KIND_SPLITS = "splits"
#: A member APK declared larger than this is refused (the largest store APKs are ~2 GB).
MAX_MEMBER_SIZE = 1024 * 1024 * 1024
#: Members inflate in memory up to this size, then into a temporary file.
SPOOL_IN_MEMORY = 16 * 1024 * 1024
MAX_MEMBERS = 1000
MAX_JSON_SIZE = 1024 * 1024
_DEFLATED = 8


class Window:
    """A read-only, seekable view of ``size`` bytes of ``stream`` starting at ``offset``."""

    def __init__(self, stream: BinaryIO, offset: int, size: int) -> None:
        self._stream = stream
        self._offset = offset
        self._size = size
        self._pos = 0

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        """Move within the window; positions are relative to its start."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + pos)
        return self._pos

    def tell(self) -> int:
        """Current position relative to the window's start."""
        return self._pos

    def read(self, count: int = -1) -> bytes:
        """Read up to ``count`` bytes (all that is left for a negative count)."""
        left = max(0, self._size - self._pos)
        count = left if count < 0 else min(count, left)
        if count == 0:
            return b""
        self._stream.seek(self._offset + self._pos)
        data = self._stream.read(count)
        self._pos += len(data)
        return data


# --- archives -----------------------------------------------------------------------------


def archive_kind(names: Collection[str]) -> str | None:
    """``xapk``/``apkm``/``apks`` when ``names`` (zip entries) hold APKs; ``None`` otherwise."""
    if not any(name.endswith(".apk") for name in names):
        return None
    if "manifest.json" in names:
        return KIND_XAPK
    if "info.json" in names:
        return KIND_APKM
    return KIND_APKS


def read_archive(
    stream: BinaryIO, size: int, kind: str, *, locale: str | None = None, code: bool = False
) -> SplitSet:
    """Read every member APK of an ``.apks``/``.xapk``/``.apkm`` archive as one split set.

    The archive's own tamper evidence (``member`` unset) comes before its members'.
    ``code``: also read each member's DEX files while it is open (``SplitSet.code``), so
    every member is inflated once and only one is held at a time.
    """
    directory = read_directory(stream, size, prefix="")
    entries = {entry.name: entry for entry in directory.entries}
    evidence = list(directory.evidence)
    members = _member_names(stream, directory, entries, kind, evidence)
    if len(members) > MAX_MEMBERS:
        raise InputError(f"{len(members)} APKs in one archive (limit {MAX_MEMBERS})")
    if code:
        from permaudit.inputs.code import CodeReader

        reader: CodeReader | None = CodeReader(f".{kind} archive")
    else:
        reader = None
    apks = []
    for name in members:
        with _open_member(stream, directory, entries[name]) as (member, length, found):
            evidence.extend(found)
            apk = read_split_apk(member, length, name, locale=locale)
            apks.append(replace(apk, read_files=_member_files(stream, directory, entries[name])))
            if reader is not None:
                reader.add_apk(member, length, member=name)
    result = merge_split_set(apks, container=f".{kind} archive", locale=locale)
    return replace(result, tamper=(*evidence, *result.tamper),
                   code=reader.result() if reader is not None else None)


def _member_names(
    stream: BinaryIO, directory: CentralDirectory, entries: dict[str, ZipEntry], kind: str,
    evidence: list[TamperEvidence],
) -> list[str]:
    """Which members are the app's APKs, as the installer for this kind would pick them."""
    if kind == KIND_XAPK:
        listed = _xapk_listed(stream, directory, entries, evidence)
        if listed:
            return listed
    names = sorted(n for n in entries if n.endswith(".apk"))
    # bundletool's .apks: split APKs live under splits/ (standalones/ and instant/ are
    # alternatives for other devices), see toc.pb.
    under_splits = [n for n in names if n.startswith("splits/")]
    if under_splits:
        return under_splits
    top = [n for n in names if "/" not in n]
    return top or names


def _xapk_listed(
    stream: BinaryIO, directory: CentralDirectory, entries: dict[str, ZipEntry],
    evidence: list[TamperEvidence],
) -> list[str]:
    """The ``split_apks[].file`` entries of an XAPK ``manifest.json`` (checked to exist)."""
    entry = entries["manifest.json"]
    if entry.uncompressed_size > MAX_JSON_SIZE:
        raise InputError(f"manifest.json is larger than {MAX_JSON_SIZE} bytes")
    member = read_member(stream, directory, entry, limit=MAX_JSON_SIZE)
    evidence.extend(member.evidence)
    try:
        document = json.loads(member.data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"XAPK manifest.json is not valid JSON ({exc})") from None
    listed = document.get("split_apks") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        return []
    files = [item.get("file") for item in listed if isinstance(item, dict)]
    for name in files:
        if not isinstance(name, str) or name not in entries:
            raise InputError(f"XAPK manifest.json lists {name!r}, which is not in the archive")
    return files  # type: ignore[return-value]


@contextmanager
def _open_member(
    stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry
) -> Iterator[tuple[BinaryIO, int, tuple[TamperEvidence, ...]]]:
    """A seekable stream over one member APK, its length, and the zip evidence of its
    entry (window over stored data, or a spooled inflate)."""
    name = entry.name
    if entry.flags & 0x1:
        raise InputError(f"{name} is encrypted")
    if entry.uncompressed_size > MAX_MEMBER_SIZE:
        raise InputError(f"{name} declares {entry.uncompressed_size} bytes, beyond "
                         f"{MAX_MEMBER_SIZE}")
    if entry.method != _DEFLATED:
        # Read as stored (the reader's rule for every method but deflate); one pass to
        # check its CRC, then the member is read in place.
        evidence = copy_member(stream, directory, entry, _discard, MAX_MEMBER_SIZE)
        span = locate_member(stream, directory, entry)
        yield cast(BinaryIO, Window(stream, span.offset, span.size)), span.size, evidence
        return
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        evidence = copy_member(stream, directory, entry, spool.write, MAX_MEMBER_SIZE)
        spool.seek(0)
        yield cast(BinaryIO, spool), entry.uncompressed_size, evidence


def _member_files(stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry
                  ) -> Callable[[Sequence[str]], MemberFiles]:
    """Reads named files of one member APK again, while the archive is open (the split
    set's icon, from its density splits): the member opened anew, its directory walked
    (the member's own evidence was taken when it was first read)."""
    from permaudit.inputs.apk import read_icon_files

    def read(names: Sequence[str]) -> MemberFiles:
        try:
            with _open_member(stream, directory, entry) as (member, length, _evidence):
                return read_icon_files(member, length, names)
        except PermauditError as exc:
            return MemberFiles(files={name: f"{name}: {entry.name} cannot be read "
                                            f"({exc.detail})" for name in names})

    return read


def _discard(_data: bytes) -> None:
    """A writer that keeps nothing (the CRC pass over a stored member)."""


def read_split_apk(
    stream: BinaryIO, size: int, name: str, *, locale: str | None = None
) -> SplitApk:
    """One member APK: its manifest tree, signers and tamper evidence (named after it)."""
    from permaudit.inputs.apk import read_apk

    try:
        contents = read_apk(stream, size, locale=locale)
    except PermauditError as exc:
        raise type(exc)(f"{name}: {exc.detail}") from None
    return split_apk(contents, name)


def split_apk(contents: ApkContents, name: str) -> SplitApk:
    """A split set member from what ``read_apk`` found in it; evidence names the member."""
    evidence = tuple(replace(e, member=name) for e in contents.evidence)
    # With its table read, the tree goes in unresolved: ``resolve_across`` looks its
    # references up in every table Android loads with it (a config split's values too).
    root = contents.decoded_root if contents.decoded_root is not None else contents.root
    return SplitApk(path=name, root=root, signing=contents.signing, evidence=evidence,
                    xml_files=contents.xml_files, table=contents.table, icon=contents.icon)


#: The merging rules, imported from here by callers of the split-set reader.
__all__ = [
    "KIND_APKM", "KIND_APKS", "KIND_SPLITS", "KIND_XAPK", "MAX_MEMBERS", "MAX_MEMBER_SIZE",
    "SPOOL_IN_MEMORY", "SplitApk", "SplitSet", "Window", "archive_kind", "dist_attribute",
    "merge_split_set", "merge_splits", "package_name", "read_archive", "read_split_apk",
    "split_apk", "split_kind", "split_name", "split_set_signing", "with_integrity",
]
