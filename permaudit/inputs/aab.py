"""Read an Android App Bundle (``.aab``): the base module decides, feature modules are splits.

An ``.aab`` is a zip with one directory per module; each module's manifest is
``<module>/manifest/AndroidManifest.xml`` in aapt2's protobuf XML (``protoxml``). bundletool
turns the ``base`` module into the base APK and every other module (dynamic feature or
asset pack) into a split APK with ``split="<module>"``, so the package manager's split
rules apply (see ``bundle``): the base manifest decides the permissions, a feature module's
``<uses-permission>`` is never read from its split APK (the Android Gradle plugin merges
feature-module permissions into the base manifest when it builds the bundle), and its
components become the app's components once the module is installed.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, BinaryIO

from permaudit._infra.records import replace
from permaudit.errors import InputError, ManifestError, PermauditError
from permaudit.inputs.binary.protoxml import MAX_PROTO_SIZE, parse_proto_xml
from permaudit.inputs.binary.respb import MAX_TABLE_SIZE, ProtoResourceTable
from permaudit.inputs.binary.xmltree import Element
from permaudit.inputs.binary.ziparchive import (
    CentralDirectory,
    ZipEntry,
    read_directory,
    read_member,
)
from permaudit.inputs.manifest import parse_manifest
from permaudit.inputs.resource_xml import MAX_XML_SIZE, read_files
from permaudit.inputs.resource_xml import model as model_resource_xml
from permaudit.inputs.resources import mark_unresolved, resolve_manifest_tree
from permaudit.inputs.split_rules import SplitApk, SplitSet, dist_attribute, merge_splits
from permaudit.inputs.table_set import (
    TableCache,
    TableSet,
    isolated_splits,
    search_order,
    uses_split,
)
from permaudit.model import TamperEvidence

if TYPE_CHECKING:
    from permaudit.model.code import CodeScan

KIND_AAB = "aab"
BASE = "base/"
BASE_MANIFEST = "base/manifest/AndroidManifest.xml"
#: A module's resource table (aapt2 protobuf, read by ``respb``), and the base module's.
TABLE = "resources.pb"
BASE_TABLE = "base/resources.pb"
#: Top-level directories of a bundle that are not modules.
NOT_MODULES = frozenset({"BUNDLE-METADATA", "META-INF"})


def is_bundle(names: Collection[str]) -> bool:
    """Whether zip entry ``names`` are an App Bundle's (a base module manifest is present)."""
    return BASE_MANIFEST in names


def read_aab(
    stream: BinaryIO, size: int | None = None, *, locale: str | None = None,
    code: bool = False,
) -> SplitSet:
    """Decode the base and every module manifest of the bundle in ``stream`` (``size``
    bytes; the stream's length when not given), read by the one zip reader with its
    checks and tamper evidence.

    References in the manifests (label, flags, versionName, ...) resolve for the default
    configuration or ``locale`` against the ``resources.pb`` tables Android would load
    for that module's APK (``table_set``: its own, its ``<uses-split>`` parents', the
    base's, then, unless the base sets ``isolatedSplits``, every other module's); each
    table is read on first need. The network security config and backup rules are read
    from ``base/res/xml`` (protobuf XML) through the base's table.
    ``code``: also read every module's DEX files, native libraries and nested archives
    (``SplitSet.code``, see ``inputs.bundle_code``) through the same central directory.
    """
    if size is None:
        size = stream.seek(0, os.SEEK_END)
    directory = read_directory(stream, size, prefix="")
    entries = {entry.name: entry for entry in directory.entries}
    if BASE_MANIFEST not in entries:
        raise InputError(f"no {BASE_MANIFEST} in the app bundle")
    evidence: list[TamperEvidence] = list(directory.evidence)
    raw_base = _read(stream, directory, entries[BASE_MANIFEST], evidence)
    modules = [
        (_module_of(entry.name) or "", entry, _read(stream, directory, entry, evidence))
        for entry in _module_entries(directory.entries)
    ]
    cache = _tables(stream, directory, entries, ["base", *(m for m, _, _ in modules)],
                    evidence)
    table = cache.get("base")
    resources = table if isinstance(table, ProtoResourceTable) else None
    missing = None if resources is not None else (
        table if isinstance(table, str) else f"no {BASE_TABLE} in the app bundle")
    parents = {"base": None, **{module: uses_split(root) for module, _, root in modules}}
    isolated = isolated_splits(raw_base)
    with_tables = sorted(m for m, _, _ in modules if f"{m}/{TABLE}" in entries)

    def resolved(module: str, root: Element) -> Element:
        if module == "base" and missing is not None:
            return mark_unresolved(root, missing)
        order = search_order(module, base="base", parents=parents, isolated=isolated,
                             others=with_tables)
        return resolve_manifest_tree(root, TableSet(cache, order), locale)

    base_root = resolved("base", raw_base)
    splits = [SplitApk(path=entry.name, root=resolved(module, root))
              for module, entry, root in modules]
    base = parse_manifest(base_root, with_lines=False)
    merged = merge_splits(
        base_root=base_root,
        base_manifest=base,
        base_path=BASE_MANIFEST,
        splits=splits,
        container="app bundle",
        module_kind="feature",
    )
    notes = [
        "Android App Bundle: the APKs Google Play installs are built from these modules; "
        "the base module's manifest decides the permissions.",
        *merged.notes[1:],
    ]
    notes.extend(_module_notes(splits))
    files = read_files(
        raw_base, resources, lambda names: _members(stream, directory, entries, names, evidence),
        decode=parse_proto_xml, missing=missing,
    )
    network, backup = model_resource_xml(merged.manifest, files, resources)
    result = SplitSet(
        manifest=merged.manifest, splits=merged.splits, notes=tuple(notes),
        base_path=BASE_MANIFEST, tamper=tuple(evidence),
        code=_bundle_code(stream, directory) if code else None,
    )
    return replace(result, network_security=network, backup=backup)


def _tables(
    stream: BinaryIO, directory: CentralDirectory, entries: dict[str, ZipEntry],
    modules: list[str], evidence: list[TamperEvidence],
) -> TableCache:
    """Each module's ``resources.pb``, read on first need; together at most
    ``MAX_TABLE_SIZE`` bytes (a table past that budget is not read, and says so)."""
    budget = [MAX_TABLE_SIZE]

    def loader(module: str) -> Callable[[], ProtoResourceTable | str | None]:
        return lambda: _table(stream, directory, entries.get(f"{module}/{TABLE}"), evidence,
                              budget)

    return TableCache({m: loader(m) for m in modules}, {m: f"{m}/{TABLE}" for m in modules})


def _table(
    stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry | None,
    evidence: list[TamperEvidence], budget: list[int],
) -> ProtoResourceTable | str | None:
    """One module's resource table; None when it has none; why it cannot be read (its
    references then stay unresolved with that reason)."""
    if entry is None:
        return None
    if entry.flags & 0x1:
        return f"{entry.name} is encrypted"
    if entry.uncompressed_size > budget[0]:
        return (f"{entry.name} not read: the bundle's resource tables together exceed "
                f"{MAX_TABLE_SIZE} bytes")
    try:
        member = read_member(stream, directory, entry, limit=budget[0])
        budget[0] -= len(member.data)
        evidence.extend(member.evidence)
        return ProtoResourceTable(member.data)
    except (InputError, ManifestError, zlib.error) as exc:
        return f"{entry.name} cannot be read ({exc})"


def _members(
    stream: BinaryIO, directory: CentralDirectory, entries: dict[str, ZipEntry],
    names: list[str], evidence: list[TamperEvidence],
) -> dict[str, bytes]:
    """The base module's files at ``names`` (paths as resources.pb writes them,
    ``res/xml/...``) that exist and read within ``MAX_XML_SIZE``."""
    found = {}
    for name in names:
        entry = entries.get(BASE + name)
        if entry is None or entry.flags & 0x1:
            continue
        try:
            member = read_member(stream, directory, entry, limit=MAX_XML_SIZE)
        except (InputError, ManifestError, zlib.error):
            continue
        evidence.extend(member.evidence)
        found[name] = member.data
    return found


def _bundle_code(stream: BinaryIO, directory: CentralDirectory) -> CodeScan:
    from permaudit.inputs.code import CodeReader

    reader = CodeReader("app bundle")
    reader.add_bundle(stream, directory)
    return reader.result()


def _module_of(name: str) -> str | None:
    parts = name.split("/")
    if len(parts) == 3 and parts[1:] == ["manifest", "AndroidManifest.xml"]:
        return parts[0] if parts[0] not in NOT_MODULES else None
    return None


def _module_entries(entries: tuple[ZipEntry, ...]) -> list[ZipEntry]:
    found = [entry for entry in entries if _module_of(entry.name) not in (None, "base")]
    return sorted(found, key=lambda entry: entry.name)


def _read(
    stream: BinaryIO, directory: CentralDirectory, entry: ZipEntry,
    evidence: list[TamperEvidence],
) -> Element:
    """One module manifest, decoded; the zip evidence of reading it goes to ``evidence``."""
    if entry.flags & 0x1:
        raise InputError(f"{entry.name} is encrypted")
    member = read_member(stream, directory, entry, limit=MAX_PROTO_SIZE)
    evidence.extend(member.evidence)
    try:
        return parse_proto_xml(member.data)
    except PermauditError as exc:
        raise type(exc)(f"{entry.name}: {exc.detail}") from None


def _module_notes(splits: list[SplitApk]) -> list[str]:
    notes = []
    for split in splits:
        module = split.path.split("/", 1)[0]
        kind = dist_attribute(split.root, "type")
        on_demand = dist_attribute(split.root, "onDemand")
        if kind is not None and kind.coerce_to_string() == "asset-pack":
            notes.append(f"Module {module} is an asset pack (no code).")
        elif _on_demand(split.root, on_demand):
            notes.append(
                f"Module {module} is delivered on demand: its components exist on the "
                "phone only once it is downloaded."
            )
    return notes


def _on_demand(root: Element, flag: Any) -> bool:
    """``dist:onDemand="true"`` (old form) or ``<dist:delivery><dist:on-demand/>``."""
    if flag is not None and flag.value.is_int:
        return bool(flag.value.data)
    modules = (child for child in root.children if child.tag == "module")
    deliveries = (child for module in modules for child in module.children)
    return any(
        grandchild.tag == "on-demand"
        for delivery in deliveries
        if delivery.tag == "delivery"
        for grandchild in delivery.children
    )
