"""Which entries of an Android App Bundle are code, as bundletool takes them into the APKs.

bundletool (google/bundletool, ``model/AppBundle.java`` ``extractModules``, ``validation/
BundleFilesValidator.java``, ``DexFilesValidator.java``, ``model/ClassesDexNameSanitizer.java``):

* an entry path is split on ``/`` with empty parts dropped (``ZipPath``: ``base//dex/x`` is
  ``base/dex/x``); top-level files, ``BUNDLE-METADATA/`` and ``META-INF/`` are skipped, the
  first part of every other entry names its module;
* a module's code is ``<module>/dex/classes[0-9]*.dex`` directly under ``dex/`` (a
  subdirectory is refused); native libraries ``<module>/lib/<abi>/<name>.so``; ``assets/``
  has no restrictions (an archive there lands in the APK's ``assets/``, where plugin
  frameworks load it); a ``classes*.dex`` under ``<module>/root/`` is a reserved name
  (``FileUsesReservedNameException``) and anywhere else an unknown module file;
* ``dex/classes1.dex`` (a Gradle bug) makes every numbered DEX of the module move up by one
  (``classes1`` -> ``classes2``, ...); the DEX indices must then be 1, 2, 3, ... with no gap
  and no index twice ("Invalid dex file indices"); ``classes.dex`` is index 1.

What that makes of hostile layouts: a DEX name twice in one module (after the path
normalisation, or by index: ``classes2.dex`` and ``classes02.dex``) is ``dex.duplicate``
(both are read: which one a tool keeps differs); a ``classes*.dex`` bundletool would not take
as code (bundle top level, ``<module>/root/``, a subdirectory of ``dex/``, the module's top
level) is ``dex.misplaced`` and not read as the app's code; a numbering gap is a note.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from permaudit._infra.records import record
from permaudit.inputs.binary.ziparchive import ZipEntry
from permaudit.model.evidence import TamperEvidence

#: Top-level directories that are not modules (``AppBundle.extractModules``).
NOT_MODULES = frozenset({"BUNDLE-METADATA", "META-INF"})
_DEX = re.compile(r"classes([0-9]*)\.dex")
_NESTED = re.compile(r".+\.(?:apk|jar|zip)", re.IGNORECASE)
#: Names listed in one tamper record; the rest are counted.
NAMES_SHOWN = 5
#: Longer DEX numbers are kept as text (``int`` of a 60 kB digit string is refused).
_MAX_DIGITS = 9


@record
class BundleCode:
    """The code entries of every module, in reading order, and what is odd about them."""

    #: ``(module, ((kind, entry), ...))``, base first; kind is ``dex``, ``nested`` or the ABI
    #: of a native library.
    modules: tuple[tuple[str, tuple[tuple[str, ZipEntry], ...]], ...]
    tamper: tuple[TamperEvidence, ...] = ()
    notes: tuple[str, ...] = ()


def bundle_layout(entries: Sequence[ZipEntry]) -> BundleCode:
    """Sort a bundle's entries into each module's DEX files, native libraries and nested
    archives as bundletool does (module docstring); work linear in the entry count."""
    dex: dict[str, list[tuple[str, ZipEntry]]] = {}
    other: dict[str, list[tuple[str, ZipEntry]]] = {}
    misplaced: list[tuple[str, str]] = []
    for entry in entries:
        parts = [part for part in entry.name.split("/") if part]
        if not parts:
            continue
        name = parts[-1]
        is_dex = _DEX.fullmatch(name) is not None
        if len(parts) == 1 or parts[0] in NOT_MODULES:
            if is_dex:
                misplaced.append((entry.name, "outside every module (bundletool skips it)"))
            continue
        module, rest = parts[0], parts[1:]
        folder = rest[0]
        if folder == "dex" and len(rest) == 2 and is_dex:
            dex.setdefault(module, []).append((name, entry))
        elif is_dex and folder != "assets":
            misplaced.append((entry.name, _why_misplaced(rest)))
        elif folder == "lib" and len(rest) == 3 and name.endswith(".so"):
            other.setdefault(module, []).append((rest[1], entry))
        elif folder == "assets" and len(rest) > 1 and _NESTED.fullmatch(name):
            other.setdefault(module, []).append(("nested", entry))
        else:
            continue
        dex.setdefault(module, [])
    tamper: list[TamperEvidence] = []
    notes: list[str] = []
    modules = []
    for module in sorted(dex, key=lambda m: (m != "base", m)):
        ordered = _module_dex(module, dex[module], tamper, notes)
        modules.append((module, (*ordered, *other.get(module, ()))))
    if misplaced:
        tamper.append(_misplaced(misplaced))
    return BundleCode(modules=tuple(modules), tamper=tuple(tamper), notes=tuple(notes))


def _why_misplaced(rest: list[str]) -> str:
    if rest[0] == "root":
        return "under root/, a name bundletool reserves for the APK's own DEX and refuses"
    if rest[0] == "dex":
        return "in a subdirectory of dex/, which bundletool refuses"
    return "not under the module's dex/, so bundletool does not take it as code"


def _index(number: str, shifted: bool) -> str:
    """bundletool's DEX index of ``classes<number>.dex``, as text (leading zeros dropped)."""
    if not number:
        return "1"
    digits = number.lstrip("0") or "0"
    if shifted and len(digits) <= _MAX_DIGITS:
        return str(int(digits) + 1)
    return digits


def _module_dex(
    module: str, found: list[tuple[str, ZipEntry]], tamper: list[TamperEvidence],
    notes: list[str],
) -> list[tuple[str, ZipEntry]]:
    """The module's DEX entries in index order; duplicates and gaps reported."""
    shifted = any(name == "classes1.dex" for name, _ in found)
    by_index: dict[str, list[ZipEntry]] = {}
    for name, entry in found:
        match = _DEX.fullmatch(name)
        if match is None:  # only matching names are collected
            continue
        by_index.setdefault(_index(match.group(1), shifted), []).append(entry)
    twice = [entries for entries in by_index.values() if len(entries) > 1]
    if twice:
        shown = "; ".join(" and ".join(e.name for e in group) for group in twice[:NAMES_SHOWN])
        more = len(twice) - NAMES_SHOWN
        tamper.append(TamperEvidence(
            id="dex.duplicate",
            detail=f"module {module}: the same DEX twice ({shown}"
                   f"{f' and {more} more' if more > 0 else ''}): bundletool refuses the "
                   "bundle (\"Invalid dex file indices\"), tools that pick one of them read "
                   "different code; all are read here",
            member=module,
        ))
    keys = sorted(by_index, key=lambda k: (len(k), k))
    expected = [str(n) for n in range(1, len(keys) + 1)]
    if keys != expected:
        notes.append(
            f"module {module}: dex/ is not numbered classes.dex, classes2.dex, ... without a "
            "gap: bundletool refuses to build APKs from it (\"Invalid dex file indices\"); "
            "every DEX is read anyway"
        )
    return [("dex", entry) for key in keys for entry in by_index[key]]


def _misplaced(found: list[tuple[str, str]]) -> TamperEvidence:
    shown = "; ".join(f"{name} ({why})" for name, why in found[:NAMES_SHOWN])
    more = len(found) - NAMES_SHOWN
    return TamperEvidence(
        id="dex.misplaced",
        detail=f"{len(found)} classes*.dex where bundletool does not take DEX code: {shown}"
               f"{f' and {more} more' if more > 0 else ''}; not read as the app's code "
               "(a tool that reads every .dex sees code no APK built from the bundle has)",
    )
