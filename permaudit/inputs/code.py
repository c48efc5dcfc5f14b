"""Read the code evidence of an app (its DEX files and native libraries) into a ``CodeScan``.

Which DEX files: every root ``classes*.dex`` of the APK, of every APK of a split set, and of
APKs nested under ``assets/`` (packers and plugin frameworks load those at run time) down to
``MAX_DEPTH`` levels (exodus-core goes to 10; four levels is more than any real app uses, and
each level holds one nested APK in memory, so the bound is also a memory bound). DEX files
are read one at a time through the project's zip reader and dropped once their id tables are
merged: memory is the largest DEX plus the merged sets, never all DEX files at once.

Bounds (a hostile archive ends in a note, never in unbounded work): ``MAX_DEX_SIZE`` per
DEX, ``MAX_DEX_FILES`` DEX files and ``MAX_DEX_BYTES`` inflated DEX bytes per app,
``MAX_STRINGS`` distinct strings kept (past it the remaining strings are dropped, with a
note). A DEX that cannot be read is one ``dex.unreadable`` tamper record naming the entry
(Android would refuse to run it, tools that skip it see less code); a checksum mismatch is
``dex.checksum``. Android's class loader reads ``classes.dex``, ``classes2.dex``, ... and
stops at the first missing number; other ``classes*.dex`` names are read but noted.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from typing import BinaryIO

from permaudit.errors import InputError
from permaudit.inputs.binary.dex import java_name, read_dex
from permaudit.inputs.binary.ziparchive import (
    CentralDirectory,
    ZipEntry,
    read_directory,
    read_member,
)
from permaudit.model.code import CodeScan, DexSummary, MethodRef, NativeLibrary
from permaudit.model.evidence import TamperEvidence

MAX_DEPTH = 4
MAX_DEX_SIZE = 128 * 1024 * 1024
MAX_DEX_FILES = 256
MAX_DEX_BYTES = 1024 * 1024 * 1024
MAX_STRINGS = 4_000_000
MAX_NESTED_APK_SIZE = 256 * 1024 * 1024

_DEX_NAME = re.compile(r"classes(\d*)\.dex")
_LIB_NAME = re.compile(r"lib/([^/]+)/[^/]+\.so")
_NESTED = re.compile(r"assets/.+\.(?:apk|jar|zip)", re.IGNORECASE)


class _Collector:
    """The sets merged over every DEX of one app, with the budgets spent so far."""

    def __init__(self) -> None:
        self.dex: list[DexSummary] = []
        self.defined: set[str] = set()
        self.types: set[str] = set()
        self.methods: set[tuple[str, str]] = set()
        self.strings: set[str] = set()
        self.native: list[NativeLibrary] = []
        self.tamper: list[TamperEvidence] = []
        self.notes: list[str] = []
        self.dex_bytes = 0
        self.strings_full = False

    def add_dex(self, path: str, data: bytes, member: str | None) -> None:
        try:
            parsed = read_dex(data)
        except InputError as exc:
            self.tamper.append(TamperEvidence(
                id="dex.unreadable",
                detail=f"{path} cannot be read as DEX ({exc.detail}); Android refuses to run "
                       "it, and tools that skip it see less code",
                member=member,
            ))
            return
        self.dex.append(DexSummary(
            path=path, version=parsed.version, size=parsed.size, strings=len(parsed.strings),
            types=len(parsed.types), methods=len(parsed.methods),
            class_defs=len(parsed.class_defs), checksum_ok=parsed.checksum_ok,
        ))
        if not parsed.checksum_ok:
            self.tamper.append(TamperEvidence(
                id="dex.checksum",
                detail=f"{path}: the DEX header's Adler-32 checksum does not match its bytes "
                       "(edited after build; Android's verifier rejects it)",
                member=member,
            ))
        self.notes.extend(f"{path}: {note}" for note in parsed.notes)
        types = parsed.types
        self.defined.update(types[t] for t in parsed.class_defs)
        self.types.update(types)
        strings = parsed.strings
        self.methods.update((types[c], strings[n]) for c, n in parsed.methods)
        if not self.strings_full:
            self.strings.update(strings)
            if len(self.strings) > MAX_STRINGS:
                self.strings_full = True
                self.notes.append(f"more than {MAX_STRINGS} distinct strings: the rest are "
                                  "not searched for hosts and APIs")

    def result(self) -> CodeScan:
        defined = self.defined
        classes = {n for n in map(java_name, defined) if n is not None}
        referenced = {n for n in map(java_name, self.types - defined) if n is not None}
        # Filtered before sorting: most method ids are the app's own (11.8k of the 457k read
        # from a 71 MB multi-DEX APK are external); sorting them all took ~0.7 s of 5 s.
        external = [
            MethodRef(class_descriptor=c, name=n)
            for c, n in sorted(m for m in self.methods if m[0] not in defined)
        ]
        return CodeScan(
            dex=tuple(self.dex),
            defined_classes=tuple(sorted(classes)),
            referenced_classes=tuple(sorted(referenced - classes)),
            external_methods=tuple(external),
            strings=tuple(sorted(self.strings)),
            native_libraries=tuple(sorted(self.native, key=lambda lib: lib.path)),
            tamper=tuple(self.tamper),
            notes=tuple(self.notes),
        )


def scan_code(apks: Iterable[tuple[str, BinaryIO, int]]) -> CodeScan:
    """The code of one app from its APKs: ``(member name or "", stream, size)`` each."""
    collector = _Collector()
    for name, stream, size in apks:
        _scan_apk(collector, stream, size, prefix=f"{name}!" if name else "",
                  member=name or None, depth=0)
    return collector.result()


def _scan_apk(
    collector: _Collector, stream: BinaryIO, size: int, *, prefix: str, member: str | None,
    depth: int,
) -> None:
    try:
        directory = read_directory(stream, size, prefix="")
    except InputError as exc:
        collector.notes.append(f"{prefix or 'the APK'}: not read for code ({exc.detail})")
        return
    loaded = {"classes.dex"}
    numbers = set()
    for entry in directory.entries:
        path = prefix + entry.name
        dex = _DEX_NAME.fullmatch(entry.name)
        if dex is not None:
            numbers.add(dex.group(1))
            if len(collector.dex) >= MAX_DEX_FILES:
                collector.notes.append(f"{path}: not read, more than {MAX_DEX_FILES} DEX files")
                continue
            if collector.dex_bytes + entry.uncompressed_size > MAX_DEX_BYTES:
                collector.notes.append(f"{path}: not read, DEX total beyond {MAX_DEX_BYTES} bytes")
                continue
            collector.dex_bytes += entry.uncompressed_size
            try:
                data = read_member(stream, directory, entry, limit=MAX_DEX_SIZE).data
            except InputError as exc:
                collector.tamper.append(TamperEvidence(
                    id="dex.unreadable", detail=f"{path} cannot be read ({exc.detail})",
                    member=member,
                ))
                continue
            collector.add_dex(path, data, member)
            del data
            continue
        lib = _LIB_NAME.fullmatch(entry.name)
        if lib is not None and depth == 0:
            collector.native.append(
                NativeLibrary(path=path, abi=lib.group(1), size=entry.uncompressed_size)
            )
            continue
        if _NESTED.fullmatch(entry.name):
            _scan_nested(collector, stream, directory, entry, path, member, depth)
    number = 2
    while str(number) in numbers:
        loaded.add(f"classes{number}.dex")
        number += 1
    odd = sorted(f"classes{n}.dex" for n in numbers if f"classes{n}.dex" not in loaded)
    if odd:
        collector.notes.append(
            f"{prefix}{', '.join(odd)}: read, but Android's class loader does not load them "
            "(the classesN.dex numbering stops before)"
        )


def _scan_nested(
    collector: _Collector, stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry,
    path: str, member: str | None, depth: int,
) -> None:
    if depth + 1 > MAX_DEPTH:
        collector.notes.append(f"{path}: nested APK not read (deeper than {MAX_DEPTH} levels)")
        return
    try:
        data = read_member(stream, directory, entry, limit=MAX_NESTED_APK_SIZE).data
    except InputError as exc:
        collector.notes.append(f"{path}: nested archive not read ({exc.detail})")
        return
    if not data.startswith(b"PK"):
        return
    _scan_apk(collector, io.BytesIO(data), len(data), prefix=f"{path}!", member=member,
              depth=depth + 1)
