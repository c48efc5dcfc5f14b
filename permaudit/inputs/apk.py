"""Read an APK (zip) or a standalone binary AndroidManifest.xml from disk into an ``App``."""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

from permaudit._infra.records import record
from permaudit.errors import InputError, ManifestError
from permaudit.inputs.binary.arsc import ResourceTable
from permaudit.inputs.binary.axml import Decoded, decode_axml
from permaudit.inputs.binary.xmltree import Element
from permaudit.inputs.binary.ziparchive import (
    MAX_ENTRY_SIZE,
    CentralDirectory,
    read_directory,
    read_member,
)
from permaudit.inputs.code import scan_code
from permaudit.inputs.files import open_regular, reading, regular_size, stream_sha256
from permaudit.inputs.manifest import parse_manifest
from permaudit.inputs.resources import mark_unresolved, resolve_manifest_tree
from permaudit.inputs.signing.schemes import V1_PREFIX, read_signing
from permaudit.model import App, InputInfo, Manifest, SigningInfo, TamperEvidence

MANIFEST_ENTRY = "AndroidManifest.xml"
ARSC_ENTRY = "resources.arsc"
KIND_APK = "apk"
KIND_AXML = "axml"
_GPB_ENCRYPTED = 0x1


@record
class ApkContents:
    """What one APK (or binary manifest) holds for us: the tree, tricks found, signers."""

    root: Element
    evidence: tuple[TamperEvidence, ...] = ()
    #: ``None`` for a standalone binary manifest, or when signing was not asked for.
    signing: SigningInfo | None = None


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
        scan = scan_code([("", stream, size)]) if code and kind == KIND_APK else None
        sha256 = stream_sha256(stream) if digest else None
    return App(
        input=InputInfo(path=path, sha256=sha256, kind=kind, size=size),
        manifest=manifest,
        signing=contents.signing,
        tamper=contents.evidence,
        code=scan,
        locale=locale,
    )


def _sniff(stream: BinaryIO, size: int) -> str:
    """``apk`` for zip content, ``axml`` for a binary XML chunk header, else ``InputError``."""
    head = stream.read(8)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return KIND_APK
    if len(head) == 8 and head[2:4] == b"\x08\x00":
        # ResXMLTree does not check the outer chunk type; a header size of 8 is the mark.
        return KIND_AXML
    stream.seek(max(0, size - 65557))
    if b"PK\x05\x06" in stream.read():
        return KIND_APK  # zip with data in front: zipentry explains why Android rejects it
    raise InputError("not an APK (zip) or binary AndroidManifest.xml")


def _parse(root: Element) -> Manifest:
    try:
        return parse_manifest(root, with_lines=False)
    except (struct.error, zlib.error, UnicodeDecodeError, IndexError, ValueError) as exc:
        raise ManifestError(f"AndroidManifest.xml cannot be decoded ({exc})") from exc


def read_tree(stream: BinaryIO, size: int, kind: str = KIND_APK) -> Element:
    """Decode the manifest element tree of the APK (or binary manifest) in ``stream``.

    ``size`` is the length of the content; ``stream`` only needs ``seek``/``read``, so a
    bundle passes a window over one member APK. Errors as for ``load`` (without the path).
    """
    return read_apk(stream, size, kind, signing=False).root


def read_apk(
    stream: BinaryIO,
    size: int,
    kind: str = KIND_APK,
    *,
    signing: bool = True,
    locale: str | None = None,
) -> ApkContents:
    """``read_tree`` plus tamper evidence and (for an APK, when ``signing``) signer identity.

    Evidence comes in reading order: zip structure, the manifest entry's local header,
    the binary XML, then the local headers of the v1 signature files.
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
    evidence = (*directory.evidence, *member.evidence, *decoded.evidence)
    table = _table(stream, directory)
    if isinstance(table, str):
        root = mark_unresolved(decoded.root, table)
    else:
        root = resolve_manifest_tree(decoded.root, table, locale)
    if not signing:
        return ApkContents(root=root, evidence=evidence)
    info, signing_evidence = read_signing(stream, size, directory)
    return ApkContents(root=root, evidence=(*evidence, *signing_evidence), signing=info)


def _table(stream: BinaryIO, directory: CentralDirectory) -> ResourceTable | str | None:
    """The APK's resource table; None when absent; when unreadable, why (references stay
    unresolved then, with that reason)."""
    entry = directory.entry(ARSC_ENTRY)
    if entry is None:
        return None
    try:
        return ResourceTable(read_member(stream, directory, entry).data)
    except (InputError, struct.error, zlib.error, IndexError, ValueError) as exc:
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
