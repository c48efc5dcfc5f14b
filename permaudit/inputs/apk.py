"""Read an APK (zip) or a standalone binary AndroidManifest.xml from disk into an ``App``."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Sequence
from typing import BinaryIO

from permaudit._infra.records import record
from permaudit.errors import InputError, ManifestError
from permaudit.inputs.binary.arsc import ResourceTable
from permaudit.inputs.binary.axml import Decoded, decode_axml
from permaudit.inputs.binary.xmltree import Element
from permaudit.inputs.binary.ziparchive import (
    MAX_ENTRY_SIZE,
    ZIP_MAGICS,
    CentralDirectory,
    has_end_record,
    read_directory,
    read_member,
)
from permaudit.inputs.files import open_regular, reading, regular_size, stream_sha256
from permaudit.inputs.icon import MAX_ICON_BYTES, MemberFiles, OpenMembers, read_icon
from permaudit.inputs.manifest import parse_manifest
from permaudit.inputs.resource_xml import MAX_XML_SIZE, XmlFile, read_files
from permaudit.inputs.resource_xml import model as model_resource_xml
from permaudit.inputs.resources import mark_unresolved, resolve_manifest_tree
from permaudit.inputs.signing.schemes import V1_PREFIX, read_signing
from permaudit.model import App, InputInfo, Manifest, SigningInfo, TamperEvidence
from permaudit.model.icon import AppIcon

#: Where a reader puts the tamper evidence of the members it reads.
_Sink = Callable[[tuple[TamperEvidence, ...]], object]

MANIFEST_ENTRY = "AndroidManifest.xml"
ARSC_ENTRY = "resources.arsc"
KIND_APK = "apk"
KIND_AXML = "axml"
_GPB_ENCRYPTED = 0x1
ZIP64_NOTE = (
    "zip64 archive: Android's zip reader reads zip64 end records from Android 11 (API 30, "
    "libziparchive change I4cd9ebbd of March 2020); Android 10 and older do not: they refuse "
    "an archive whose directory offset or size needs zip64, and see only the first 65,535 "
    "entries of a larger directory"
)


@record
class ApkContents:
    """What one APK (or binary manifest) holds for us: the tree, tricks found, signers."""

    root: Element
    evidence: tuple[TamperEvidence, ...] = ()
    #: ``None`` for a standalone binary manifest, or when signing was not asked for.
    signing: SigningInfo | None = None
    #: The res/xml files the manifest points to (network security config, backup rules).
    xml_files: tuple[XmlFile, ...] = ()
    table: ResourceTable | None = None
    #: What the report should say about the container (e.g. zip64: Android 11+ only).
    notes: tuple[str, ...] = ()
    #: The launcher icon (``None``: the manifest names none, or a standalone manifest).
    icon: AppIcon | None = None
    #: The tree as decoded, its references not yet resolved, when ``table`` was read: an
    #: APK of a split set resolves it against every table Android loads with it.
    decoded_root: Element | None = None


def load(
    path: str, *, digest: bool = False, code: bool = True, locale: str | None = None
) -> App:
    """Load ``path`` (an APK, or a binary manifest decided by content) into an ``App``.

    ``digest``: also compute the SHA-256 of the whole file (it reads every byte).
    ``code``: also read the DEX files and native library list (``App.code``).
    ``locale``: resolve resource references for it (``ru``, ``ru-rRU``), not the default.
    """
    with reading(path), open_regular(path) as stream:
        size = regular_size(stream)
        kind = _sniff(stream, size)
        contents = read_apk(stream, size, kind, locale=locale)
        manifest = _parse(contents.root)
        scan = None
        if code and kind == KIND_APK:
            from permaudit.inputs.code import scan_code  # the DEX reader: not for --no-code

            scan = scan_code([("", stream, size)])
        sha256 = stream_sha256(stream) if digest else None
    network, backup = (
        model_resource_xml(manifest, contents.xml_files, contents.table)
        if kind == KIND_APK else (None, ())
    )
    return App(
        input=InputInfo(path=path, sha256=sha256, kind=kind, size=size),
        manifest=manifest,
        signing=contents.signing,
        # The DEX reader's evidence (unreadable DEX, checksum) is the app's tamper evidence too.
        tamper=(*contents.evidence, *(scan.tamper if scan is not None else ())),
        # The code reader's notes (DEX Android does not load, bounds reached) too.
        notes=(*contents.notes, *(scan.notes if scan is not None else ())),
        code=scan,
        network_security=network,
        backup=backup,
        locale=locale,
        icon=contents.icon,
    )


def _sniff(stream: BinaryIO, size: int) -> str:
    """``apk`` for zip content, ``axml`` for a binary XML chunk header, else ``InputError``."""
    head = stream.read(8)
    if head.startswith(ZIP_MAGICS):
        return KIND_APK
    if len(head) == 8 and head[2:4] == b"\x08\x00":
        # ResXMLTree does not check the outer chunk type; a header size of 8 is the mark.
        return KIND_AXML
    if has_end_record(stream, size):
        return KIND_APK  # zip with data in front: the zip reader says why Android rejects it
    raise InputError("not an APK (zip) or binary AndroidManifest.xml")


def _parse(root: Element) -> Manifest:
    try:
        return parse_manifest(root, with_lines=False)
    except (struct.error, zlib.error, UnicodeDecodeError, IndexError, ValueError) as exc:
        raise ManifestError(f"AndroidManifest.xml cannot be decoded ({exc})") from exc


def read_apk(
    stream: BinaryIO,
    size: int,
    kind: str = KIND_APK,
    *,
    signing: bool = True,
    locale: str | None = None,
) -> ApkContents:
    """The manifest tree of the APK (or binary manifest) in ``stream``, its tamper evidence
    and (for an APK, when ``signing``) signer identity. ``size`` is the length of the
    content; ``stream`` only needs ``seek``/``read``, so a set passes a window over one
    member APK.

    Evidence comes in reading order: zip structure, the manifest entry's local header,
    the binary XML, the other members read (resource table, res/xml files, icon), then
    the local headers of the v1 signature files.
    """
    if kind != KIND_APK:
        if size > MAX_ENTRY_SIZE:
            raise ManifestError(f"binary manifest is larger than {MAX_ENTRY_SIZE} bytes")
        stream.seek(0)
        decoded = _decode(stream.read(), encrypted=False)
        root = mark_unresolved(decoded.root, "a standalone manifest has no resources.arsc")
        return ApkContents(root=root, evidence=decoded.evidence)
    directory = read_directory(
        stream, size, names=(MANIFEST_ENTRY, ARSC_ENTRY), prefix=V1_PREFIX if signing else None
    )
    entry = directory.entry(MANIFEST_ENTRY)
    if entry is None:
        raise InputError(f"no {MANIFEST_ENTRY} in the archive")
    encrypted = bool(entry.flags & _GPB_ENCRYPTED)
    try:
        member = read_member(stream, directory, entry)
    except ManifestError:
        if encrypted:
            raise InputError(f"{MANIFEST_ENTRY} is encrypted") from None
        raise
    decoded = _decode(member.data, encrypted=encrypted)
    # The local headers, encryption flags and CRCs of every other member read: the
    # resource table, the res/xml files, the icon's files.
    found: list[TamperEvidence] = []
    table = _table(stream, directory, found.extend)
    resources = None if isinstance(table, str) else table
    decoded_root = None if isinstance(table, str) else decoded.root
    if isinstance(table, str):
        root = mark_unresolved(decoded.root, table)
    else:
        root = resolve_manifest_tree(decoded.root, table, locale)
    files = read_files(decoded.root, resources,
                       lambda names: _members(stream, directory, names, found.extend))
    notes = (ZIP64_NOTE,) if directory.zip64 else ()
    icon = read_icon(decoded.root, resources, _icon_members(stream, directory, found.extend))
    if isinstance(table, str) and icon is not None:
        icon = AppIcon(reference=icon.reference, note=table)
    evidence = (*directory.evidence, *member.evidence, *decoded.evidence, *found)
    if not signing:
        return ApkContents(root=root, evidence=evidence, xml_files=files, table=resources,
                           notes=notes, icon=icon, decoded_root=decoded_root)
    info, signing_evidence = read_signing(stream, size, directory)
    return ApkContents(root=root, evidence=(*evidence, *signing_evidence), signing=info,
                       xml_files=files, table=resources, notes=notes, icon=icon,
                       decoded_root=decoded_root)


def read_icon_files(stream: BinaryIO, size: int, names: Sequence[str]) -> MemberFiles:
    """Each of ``names`` the APK in ``stream`` holds, read (at most ``MAX_ICON_BYTES``) or
    why not; names it does not hold are left out. The icon files a split set looks for in
    its other APKs."""
    try:
        walked = read_directory(stream, size, names=names)
    except (InputError, ManifestError) as exc:
        return MemberFiles(files={name: f"{name} cannot be read ({exc.detail})"
                                  for name in names})
    picked = walked.pick(names)
    held = [name for name in names if picked.entry(name) is not None]
    evidence: list[TamperEvidence] = []
    read = _icon_members(stream, walked, evidence.extend)(held)
    return MemberFiles(files={name: read(name) for name in held}, evidence=tuple(evidence))


def _members(
    stream: BinaryIO, walked: CentralDirectory, names: list[str], found: _Sink
) -> dict[str, bytes]:
    """The data of the named entries that exist and read within ``MAX_XML_SIZE``; their
    tamper evidence goes to ``found``."""
    directory = walked.pick(names)
    data = {}
    for name in names:
        entry = directory.entry(name)
        if entry is None:
            continue
        try:
            member = read_member(stream, directory, entry, MAX_XML_SIZE)
        except (InputError, ManifestError, zlib.error):
            continue
        data[name] = member.data
        found(member.evidence)
    return data


def _icon_members(stream: BinaryIO, walked: CentralDirectory, found: _Sink) -> OpenMembers:
    """Reads icon files: the candidates picked from the walked directory, then each on
    demand, with at most ``MAX_ICON_BYTES`` compressed and inflated; their tamper evidence
    goes to ``found``."""

    def open_members(names: Sequence[str]) -> Callable[[str], bytes | str]:
        directory = walked.pick(names)

        def read(name: str) -> bytes | str:
            entry = directory.entry(name)
            if entry is None:
                return f"{name} is not in the archive"
            if entry.compressed_size > MAX_ICON_BYTES:
                return f"{name} is larger than {MAX_ICON_BYTES} bytes"
            try:
                member = read_member(stream, directory, entry, MAX_ICON_BYTES)
            except (InputError, zlib.error) as exc:
                return f"{name} cannot be read ({exc})"
            found(member.evidence)
            return member.data

        return read

    return open_members


def _table(
    stream: BinaryIO, directory: CentralDirectory, found: _Sink
) -> ResourceTable | str | None:
    """The APK's resource table; None when absent; when unreadable, why (references stay
    unresolved then, with that reason). The entry's tamper evidence goes to ``found``."""
    entry = directory.entry(ARSC_ENTRY)
    if entry is None:
        return None
    try:
        member = read_member(stream, directory, entry)
    except (InputError, zlib.error) as exc:
        return f"resources.arsc cannot be read ({exc})"
    found(member.evidence)
    try:
        return ResourceTable(member.data)
    except (InputError, struct.error, IndexError, ValueError) as exc:
        return f"resources.arsc cannot be read ({exc})"


def _decode(data: bytes, *, encrypted: bool) -> Decoded:
    """The binary XML in ``data``; an encrypted entry that does not decode is said to be so."""
    if data[:1] == b"<" or data[:3] == b"\xef\xbb\xbf":
        raise ManifestError("AndroidManifest.xml is text XML, not binary XML as Android requires")
    try:
        return decode_axml(data)
    except ManifestError:
        if encrypted:
            raise InputError(f"{MANIFEST_ENTRY} is encrypted") from None
        raise
    except (struct.error, zlib.error, UnicodeDecodeError, IndexError, ValueError) as exc:
        raise ManifestError(f"AndroidManifest.xml cannot be decoded ({exc})") from exc
