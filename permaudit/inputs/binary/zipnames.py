"""Zip entry names: the checks Android makes on them and the name tricks it reads through."""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import repeat

from permaudit.errors import InputError
from permaudit.model import TamperEvidence

#: Names shown in one piece of evidence before "and N more".
SHOWN = 3
#: Every byte but the control characters: ``name.translate(None, _NOT_CONTROL)`` keeps
#: only the control characters of ``name``.
_NOT_CONTROL = bytes(b for b in range(256) if not (0 < b < 0x20 or b == 0x7F))
#: Every byte but "/": ``name.rstrip(_NOT_SLASH)`` is the directory of ``name`` with its
#: final slash ("res/x/" for "res/x/y.png", "/" for "/y", empty for "y").
_NOT_SLASH = bytes(b for b in range(256) if b != 0x2F)
_TRAVERSAL = re.compile(rb"(?:^|[/\\])\.\.(?:[/\\]|$)|^[/\\]")
MANIFEST_NAME = b"AndroidManifest.xml"


def check_names(names: list[bytes]) -> tuple[bytes, set[bytes]]:
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


def selected(blob: bytes, wanted: frozenset[bytes], prefix: bytes | None) -> list[int]:
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


def _shown(names: Iterable[bytes]) -> str:
    """A few entry names for a message, with how many more there are."""
    ordered = sorted(names)
    text = ", ".join(repr(n.decode(errors="replace")) for n in ordered[:SHOWN])
    more = len(ordered) - SHOWN
    return text + (f" and {more} more" if more > 0 else "")


def method_evidence(odd: list[tuple[bytes, int]]) -> tuple[TamperEvidence, ...]:
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


def name_evidence(names: set[bytes], blob: bytes) -> tuple[TamperEvidence, ...]:
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
