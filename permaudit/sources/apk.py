"""Read an APK (zip) or a standalone binary AndroidManifest.xml from disk into an ``App``."""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from typing import BinaryIO

from permaudit.errors import InputError, ManifestError, PermauditError
from permaudit.model import App, InputInfo, Manifest
from permaudit.sources.axml import parse_axml
from permaudit.sources.manifest_parser import parse_manifest
from permaudit.sources.xmltree import Element
from permaudit.sources.zipentry import MAX_ENTRY_SIZE, read_entry

MANIFEST_ENTRY = "AndroidManifest.xml"
KIND_APK = "apk"
KIND_AXML = "axml"
_HASH_CHUNK = 1024 * 1024


def load(path: str) -> App:
    """Load ``path`` (an APK, or a binary manifest decided by content) into an ``App``."""
    try:
        with open(path, "rb") as stream:
            size = _check_regular(stream)
            kind = _sniff(stream, size)
            manifest = _read_manifest(stream, size, kind)
            digest = _sha256(stream)
    except PermauditError as exc:
        if exc.path is None:
            raise type(exc)(exc.detail, path=path) from exc.__cause__
        raise
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not an APK", path=path) from None
    except PermissionError:
        raise InputError("permission denied", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None
    return App(
        input=InputInfo(path=path, sha256=digest, kind=kind, size=size),
        manifest=manifest,
    )


def _check_regular(stream: BinaryIO) -> int:
    info = os.fstat(stream.fileno())
    if not os.path.stat.S_ISREG(info.st_mode):
        raise InputError("not a regular file")
    if info.st_size == 0:
        raise InputError("empty file")
    return info.st_size


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


def _read_manifest(stream: BinaryIO, size: int, kind: str) -> Manifest:
    root = read_tree(stream, size, kind)
    try:
        return parse_manifest(root, with_lines=False)
    except (struct.error, zlib.error, UnicodeDecodeError, IndexError, ValueError) as exc:
        raise ManifestError(f"AndroidManifest.xml cannot be decoded ({exc})") from exc


def read_tree(stream: BinaryIO, size: int, kind: str = KIND_APK) -> Element:
    """Decode the manifest element tree of the APK (or binary manifest) in ``stream``.

    ``size`` is the length of the content; ``stream`` only needs ``seek``/``read``, so a
    bundle passes a window over one member APK. Errors as for ``load`` (without the path).
    """
    if kind == KIND_APK:
        data = read_entry(stream, size, MANIFEST_ENTRY)
    else:
        if size > MAX_ENTRY_SIZE:
            raise ManifestError(f"binary manifest is larger than {MAX_ENTRY_SIZE} bytes")
        stream.seek(0)
        data = stream.read()
    if data[:1] == b"<" or data[:3] == b"\xef\xbb\xbf":
        raise ManifestError("AndroidManifest.xml is text XML, not binary XML as Android requires")
    try:
        return parse_axml(data)
    except (struct.error, zlib.error, UnicodeDecodeError, IndexError, ValueError) as exc:
        raise ManifestError(f"AndroidManifest.xml cannot be decoded ({exc})") from exc


def _sha256(stream: BinaryIO) -> str:
    """Stream the file through sha256 in 1 MiB chunks (constant memory)."""
    stream.seek(0)
    digest = hashlib.sha256()
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    while count := stream.readinto(view):  # type: ignore[attr-defined]
        digest.update(view[:count])
    return digest.hexdigest()
