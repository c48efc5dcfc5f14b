"""Read the code evidence of an app (its DEX files and native libraries) into a ``CodeScan``.

Which DEX files (``CodeReader``, the container walk): every root ``classes*.dex`` of the APK,
of every APK of a split set (each member handed over while the split-set reader has it open),
every module's ``dex/classes*.dex`` of an App Bundle (``bundle_code``: as bundletool takes
them), and of archives nested under ``assets/`` (packers and plugin frameworks load those at
run time) down to ``MAX_DEPTH`` levels (exodus-core goes to 10; four is more than any real app
uses). A nested archive is spooled (memory up to ``SPOOL_IN_MEMORY``, then a temporary file),
at most ``MAX_NESTED_ARCHIVES`` and ``MAX_NESTED_BYTES`` per app. DEX files are read one at a
time through the project's zip reader and dropped once their id tables are merged: memory is
the largest DEX plus the merged sets, never all DEX files at once.

Bounds (a hostile archive ends in a note or tamper record, never in unbounded work):
``MAX_DEX_SIZE`` per DEX, ``MAX_DEX_FILES`` DEX entries and ``MAX_DEX_BYTES`` inflated DEX
bytes per app (the rest is one ``dex.too_many`` record),
``MAX_STRINGS`` distinct strings kept (past it the remaining strings are dropped, with a
note). A DEX that cannot be read is one ``dex.unreadable`` tamper record naming the entry
(Android would refuse to run it, tools that skip it see less code); a checksum mismatch is
``dex.checksum``. Android's class loader reads ``classes.dex``, ``classes2.dex``, ... and
stops at the first missing number; other ``classes*.dex`` names are read but noted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import BinaryIO, cast

from permaudit._infra.records import replace
from permaudit.errors import InputError
from permaudit.inputs.binary.dex import java_name
from permaudit.inputs.binary.dex_ids import DexIds, read_dex_ids
from permaudit.inputs.binary.ziparchive import (
    CentralDirectory,
    ZipEntry,
    copy_member,
    read_directory,
    read_member,
)
from permaudit.inputs.bundle_code import bundle_layout
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


#: Reads one DEX file's bytes into what the collector merges (``DexIds``).
DexReader = Callable[[bytes], DexIds]


class _Collector:
    """The sets merged over every DEX of one app, with the budgets spent so far."""

    def __init__(self, read: DexReader = read_dex_ids) -> None:
        self.read = read
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
            parsed = self.read(data)
        except InputError as exc:
            self.tamper.append(TamperEvidence(
                id="dex.unreadable",
                detail=f"{path} cannot be read as DEX ({exc.detail}); Android refuses to run "
                       "it, and tools that skip it see less code",
                member=member,
            ))
            return
        self.dex.append(DexSummary(
            path=path, version=parsed.version, size=parsed.size, strings=parsed.string_count,
            types=len(parsed.types), methods=parsed.method_count,
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
        self.defined.update(map(types.__getitem__, parsed.class_defs))
        self.types.update(types)
        # Only methods of classes this DEX does not define (the reader drops the others).
        self.methods.update(parsed.external_methods)
        if not self.strings_full:
            self.strings.update(parsed.strings)
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


# --- containers: which DEX entries an app has, fed one at a time to the collector --------

#: Nested archives read per app, and their inflated bytes in total: a small input cannot
#: make the reader inflate more than this (nested archives can point at shared data).
MAX_NESTED_ARCHIVES = 64
MAX_NESTED_BYTES = 1024 * 1024 * 1024
#: A nested archive inflates in memory up to this size, then into a temporary file.
SPOOL_IN_MEMORY = 16 * 1024 * 1024
#: Entry names listed in one note or tamper record; the rest are counted.
NAMES_SHOWN = 5


def scan_code(
    apks: Iterable[tuple[str, BinaryIO, int]], read: DexReader = read_dex_ids
) -> CodeScan:
    """The code of one app from its APKs: ``(member name or "", stream, size)`` each;
    ``read``: the DEX reader (tests pass ``read_dex``'s, which decodes every string)."""
    reader = CodeReader("split set", read)
    for name, stream, size in apks:
        reader.add_apk(stream, size, member=name or None)
    return reader.result()


class CodeReader:
    """Feeds the DEX entries of one app's containers (APKs, split-set members, App Bundle
    modules, nested archives), one at a time, to one collector; the caller opens each
    container once and hands it over while it is open, so memory holds one DEX (and at
    most one spooled nested archive per nesting level), never all of them.

    ``container`` names what the members are part of, for the note saying which were read;
    ``read`` reads one DEX file (``read_dex_ids``: only the strings evidence can use).
    """

    def __init__(self, container: str = "split set", read: DexReader = read_dex_ids) -> None:
        self._collector = _Collector(read)
        self._container = container
        self._entries = 0
        self._skipped: list[str] = []
        self._nested = 0
        self._nested_bytes = 0
        #: Member or module name -> DEX files read from it (in the order read).
        self._sources: dict[str, int] = {}

    # APKs ------------------------------------------------------------------------------

    def add_apk(
        self, stream: BinaryIO, size: int, *, member: str | None = None,
        source: str | None = None,
    ) -> None:
        """Every root ``classes*.dex`` of one APK and of archives nested under its
        ``assets/``; ``member``: its name in a split set (``None``: the app itself, whose
        DEX paths are not prefixed); ``source``: its name in the note on what was read
        (default ``member``; none for a lone APK)."""
        before = len(self._collector.dex)
        self._apk(stream, size, prefix=f"{member}!" if member else "", member=member, depth=0)
        source = source or member
        if source is not None:
            self._sources[source] = len(self._collector.dex) - before

    def _apk(
        self, stream: BinaryIO, size: int, *, prefix: str, member: str | None, depth: int
    ) -> None:
        collector = self._collector
        try:
            directory = read_directory(stream, size, prefix="")
        except InputError as exc:
            collector.notes.append(f"{prefix or 'the APK'}: not read for code ({exc.detail})")
            return
        if depth:
            # A nested archive's zip tricks (the APK's own were taken with its manifest).
            collector.tamper.extend(_inside(directory.evidence, prefix, member))
        numbers = set()
        for entry in directory.entries:
            path = prefix + entry.name
            dex = _DEX_NAME.fullmatch(entry.name)
            if dex is not None:
                numbers.add(dex.group(1))
                self._dex(stream, directory, entry, path, member)
                continue
            lib = _LIB_NAME.fullmatch(entry.name)
            if lib is not None and depth == 0:
                collector.native.append(
                    NativeLibrary(path=path, abi=lib.group(1), size=entry.uncompressed_size)
                )
                continue
            if _NESTED.fullmatch(entry.name):
                self._nested_archive(stream, directory, entry, path, member, depth)
        odd = _unloaded(numbers)
        if odd:
            collector.notes.append(
                f"{prefix}{', '.join(odd)}: read, but Android's class loader does not load them "
                "(the classesN.dex numbering stops before)"
            )

    def _dex(
        self, stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry, path: str,
        member: str | None,
    ) -> None:
        """One DEX entry, within the per-app budgets: its bytes go to the collector."""
        collector = self._collector
        self._entries += 1
        if (self._entries > MAX_DEX_FILES
                or collector.dex_bytes + entry.uncompressed_size > MAX_DEX_BYTES):
            self._skipped.append(path)
            return
        collector.dex_bytes += entry.uncompressed_size
        try:
            read = read_member(stream, directory, entry, limit=MAX_DEX_SIZE)
        except InputError as exc:
            collector.tamper.append(TamperEvidence(
                id="dex.unreadable", detail=f"{path} cannot be read ({exc.detail})",
                member=member,
            ))
            return
        collector.tamper.extend(_inside(read.evidence, path[: -len(entry.name)], member))
        collector.add_dex(path, read.data, member)
        del read

    def _nested_archive(
        self, stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry, path: str,
        member: str | None, depth: int,
    ) -> None:
        """An archive under ``assets/``: spooled (memory, then disk) and read like an APK."""
        notes = self._collector.notes
        if depth + 1 > MAX_DEPTH:
            notes.append(f"{path}: nested APK not read (deeper than {MAX_DEPTH} levels)")
            return
        if self._nested >= MAX_NESTED_ARCHIVES:
            notes.append(f"{path}: nested archive not read (more than {MAX_NESTED_ARCHIVES})")
            return
        size = entry.uncompressed_size
        if size > MAX_NESTED_APK_SIZE or self._nested_bytes + size > MAX_NESTED_BYTES:
            notes.append(f"{path}: nested archive not read ({size} bytes, beyond the bound)")
            return
        import tempfile  # only for nested archives: a plain APK scan never imports it

        self._nested += 1
        self._nested_bytes += size
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
            try:
                evidence = copy_member(stream, directory, entry, spool.write, MAX_NESTED_APK_SIZE)
            except InputError as exc:
                notes.append(f"{path}: nested archive not read ({exc.detail})")
                return
            self._collector.tamper.extend(_inside(evidence, path[: -len(entry.name)], member))
            length = spool.tell()
            spool.seek(0)
            if spool.read(2) != b"PK":
                return
            self._apk(cast(BinaryIO, spool), length, prefix=f"{path}!", member=member,
                      depth=depth + 1)

    # App Bundles -------------------------------------------------------------------------

    def add_bundle(self, stream: BinaryIO, directory: CentralDirectory) -> None:
        """Every module's ``<module>/dex/classes*.dex``, ``<module>/lib/<abi>/*.so`` and the
        archives under ``<module>/assets/``, as bundletool takes them (see ``bundle_layout``)."""
        layout = bundle_layout(directory.entries)
        collector = self._collector
        collector.tamper.extend(layout.tamper)
        collector.notes.extend(layout.notes)
        for module, entries in layout.modules:
            before = len(collector.dex)
            for kind, entry in entries:
                if kind == "dex":
                    self._dex(stream, directory, entry, entry.name, module)
                elif kind == "nested":
                    self._nested_archive(stream, directory, entry, entry.name, module, 0)
                else:
                    collector.native.append(NativeLibrary(
                        path=entry.name, abi=kind, size=entry.uncompressed_size,
                    ))
            self._sources[module] = len(collector.dex) - before

    # the result --------------------------------------------------------------------------

    def result(self) -> CodeScan:
        """The merged code evidence, with the notes on what was read and what was not."""
        collector = self._collector
        if self._skipped:
            shown = ", ".join(self._skipped[:NAMES_SHOWN])
            more = len(self._skipped) - NAMES_SHOWN
            collector.tamper.append(TamperEvidence(
                id="dex.too_many",
                detail=f"{len(self._skipped)} classes*.dex entries not read, beyond "
                       f"{MAX_DEX_FILES} DEX files or {MAX_DEX_BYTES} DEX bytes per app "
                       f"({shown}{f' and {more} more' if more > 0 else ''}): no real app "
                       "has that many; their code is not in this report",
            ))
        if self._sources:
            collector.notes.append(self._sources_note())
        return collector.result()

    def _sources_note(self) -> str:
        """Which members (or modules) were read, those without DEX counted."""
        sources = self._sources
        read = ", ".join(f"{name} ({count} DEX)" for name, count in sources.items() if count)
        empty = sum(1 for count in sources.values() if not count)
        text = (
            f"DEX read from the app bundle's modules with code entries ({len(sources)}): "
            if self._container == "app bundle"
            else f"DEX read from every APK of the {self._container} ({len(sources)}): "
        )
        text += read or "none holds a DEX file"
        if read and empty:
            text += f"; {empty} other{'s' if empty > 1 else ''} with no DEX read"
        return text


def _inside(
    evidence: tuple[TamperEvidence, ...], prefix: str, member: str | None
) -> tuple[TamperEvidence, ...]:
    """``evidence`` found in the archive at ``prefix`` (``a.apk!assets/b.apk!``), named
    after the split set member it is in and, inside a nested archive, after that archive."""
    outer = prefix.removesuffix("!")
    if member is not None and (outer == member or outer.startswith(f"{member}!")):
        outer = outer[len(member) + 1 :]
    return tuple(
        replace(item, member=member, detail=f"in {outer}: {item.detail}" if outer else item.detail)
        for item in evidence
    )


def _unloaded(numbers: set[str]) -> list[str]:
    """The ``classes<N>.dex`` names Android's class loader skips: past the first gap."""
    loaded = {""}
    number = 2
    while str(number) in numbers:
        loaded.add(str(number))
        number += 1
    return sorted(f"classes{n}.dex" for n in numbers if n not in loaded)
