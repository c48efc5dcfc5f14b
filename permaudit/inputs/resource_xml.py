"""Find the res/xml files the manifest points to (network security config, backup rules),
decode them, and model them for the ``App``.

``android:networkSecurityConfig``, ``android:fullBackupContent`` and
``android:dataExtractionRules`` of the first ``<application>`` hold ``@xml/...`` references;
``resources.arsc`` maps each to a file path (``res/xml/network_security_config.xml``, or an
obfuscated ``res/Xy.xml``), which is read from the same archive with the zip reader's bounds
(``MAX_XML_SIZE``) and decoded by the AXML decoder (its element and depth bounds). A file
that cannot be found or decoded is a problem sentence, never an exception.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

from permaudit._infra.records import record, replace
from permaudit.android.attributes import ATTRIBUTE_IDS
from permaudit.errors import PermauditError
from permaudit.inputs.backup_rules import read_backup_rules
from permaudit.inputs.binary.axml import decode_axml
from permaudit.inputs.binary.xmltree import TYPE_REFERENCE, Element
from permaudit.inputs.netsec import manifest_only, model_config
from permaudit.inputs.resources import Table, resolve
from permaudit.model import Manifest
from permaudit.model.netsec import (
    BACKUP_DATA_EXTRACTION,
    BACKUP_FULL_CONTENT,
    NSC_UNREAD,
    BackupRules,
    NetworkSecurity,
)

NSC = "networkSecurityConfig"
ATTRIBUTES = (NSC, BACKUP_FULL_CONTENT, BACKUP_DATA_EXTRACTION)
#: A network security config or backup rules file is a few kilobytes; 4 MiB is generous.
MAX_XML_SIZE = 4 * 1024 * 1024

#: Reads one archive member by name: its bytes, or ``None`` when absent.
ReadMember = Callable[[str], "bytes | None"]


@record
class XmlFile:
    """One referenced file: which attribute, where it is, its tree or why there is none."""

    attribute: str
    reference: str
    path: str | None = None
    root: Element | None = None
    problem: str | None = None


def application_of(root: Element) -> Element | None:
    """The first ``<application>`` of ``<manifest>`` (Android skips any later one)."""
    return next((c for c in root.children if c.tag == "application"), None)


def references(root: Element) -> dict[str, int]:
    """Attribute name -> resource id, for the ``ATTRIBUTES`` given as references."""
    app = application_of(root)
    found: dict[str, int] = {}
    if app is None:
        return found
    for name in ATTRIBUTES:
        attribute = app.android(ATTRIBUTE_IDS[name])
        if attribute is not None and attribute.value.type == TYPE_REFERENCE:
            found[name] = attribute.value.data
    return found


def _axml_root(data: bytes) -> Element:
    return decode_axml(data).root


#: Decodes one file's bytes into its tree: binary XML in an APK, protobuf XML in a bundle.
Decode = Callable[[bytes], Element]


def decode_file(
    attribute: str, reference: str, path: str, data: bytes | None, decode: Decode = _axml_root
) -> XmlFile:
    """Decode one referenced file (binary XML unless ``decode`` says otherwise)."""
    if data is None:
        return XmlFile(attribute=attribute, reference=reference, path=path,
                       problem=f"{path} is not in the archive (or cannot be read)")
    try:
        root = decode(data)
    except PermauditError as exc:
        return XmlFile(attribute=attribute, reference=reference, path=path,
                       problem=f"{path} cannot be decoded ({exc})")
    except (struct.error, zlib.error, UnicodeDecodeError, IndexError, ValueError) as exc:
        return XmlFile(attribute=attribute, reference=reference, path=path,
                       problem=f"{path} cannot be decoded ({exc})")
    return XmlFile(attribute=attribute, reference=reference, path=path, root=root)


def read_files(
    root: Element, table: Table | None, read: Callable[[list[str]], dict[str, bytes]],
    decode: Decode = _axml_root, missing: str | None = None,
) -> tuple[XmlFile, ...]:
    """The referenced files of manifest ``root``; ``read`` fetches archive members by name
    (``decode``: how a file's bytes become a tree, binary XML by default; ``missing``:
    why there is no ``table``, when the reason is not a missing resources.arsc)."""
    refs = references(root)
    if not refs:
        return ()
    paths: dict[str, str] = {}
    files: list[XmlFile] = []
    for name, res_id in refs.items():
        written = f"@0x{res_id:08x}"
        resolved = resolve(table, res_id)
        if table is None and missing is not None:
            resolved = replace(resolved, reason=missing)
        if not isinstance(resolved.value, str):
            files.append(XmlFile(attribute=name, reference=written,
                                 problem=resolved.reason or f"{written} is not a file"))
            continue
        paths[name] = resolved.value
    members = read(sorted(set(paths.values()))) if paths else {}
    for name, path in paths.items():
        files.append(
            decode_file(name, f"@0x{refs[name]:08x}", path, members.get(path), decode)
        )
    return tuple(files)


def source_files(manifest_path: str, root: Element) -> tuple[XmlFile, ...]:
    """The ``@xml/NAME`` files of a text manifest, read from ``res/xml/NAME.xml`` beside it
    (a source tree: ``src/main/AndroidManifest.xml`` and ``src/main/res/xml``)."""
    import os

    from permaudit.inputs.files import open_regular
    from permaudit.inputs.text_resource_xml import parse_resource_xml

    app = application_of(root)
    if app is None:
        return ()
    files = []
    base = os.path.join(os.path.dirname(manifest_path) or ".", "res", "xml")
    for name in ATTRIBUTES:
        attribute = app.android(ATTRIBUTE_IDS[name])
        raw = attribute.raw if attribute is not None else None
        if raw is None or not raw.startswith("@xml/") or "/" in raw[5:] or not raw[5:]:
            continue
        rel = f"res/xml/{raw[5:]}.xml"
        path = os.path.join(base, raw[5:] + ".xml")
        if not os.path.exists(path):
            files.append(XmlFile(attribute=name, reference=raw, path=rel,
                                 problem=f"{rel} is not beside the manifest"))
            continue
        try:
            with open_regular(path) as stream:
                data = stream.read(MAX_XML_SIZE + 1)
            tree = parse_resource_xml(data, rel)
        except (PermauditError, OSError) as exc:
            files.append(XmlFile(attribute=name, reference=raw, path=rel,
                                 problem=f"{rel} cannot be read ({exc})"))
            continue
        files.append(XmlFile(attribute=name, reference=raw, path=rel, root=tree))
    return tuple(files)


def path_resolver(table: Table | None) -> Callable[[int], str | None]:
    """Resource id -> file path (for ``<certificates src="@raw/...">``)."""
    def path_of(res_id: int) -> str | None:
        value = resolve(table, res_id).value
        return value if isinstance(value, str) else None
    return path_of


def model(
    manifest: Manifest, files: tuple[XmlFile, ...], table: Table | None = None
) -> tuple[NetworkSecurity, tuple[BackupRules, ...]]:
    """The app's ``NetworkSecurity`` and backup rules from the manifest and its files."""
    app = manifest.application
    network: NetworkSecurity | None = None
    backup: list[BackupRules] = []
    by_attribute = {f.attribute: f for f in files}
    nsc = by_attribute.get(NSC)
    if nsc is not None:
        if nsc.root is None:
            network = NetworkSecurity(
                source=NSC_UNREAD, path=nsc.path,
                problems=(f"android:networkSecurityConfig={nsc.reference}: {nsc.problem}",),
            )
        else:
            network = model_config(nsc.root, target_sdk=manifest.target_sdk,
                                   debuggable=app.debuggable, path=nsc.path,
                                   path_of=path_resolver(table))
    elif app.network_security_config:
        # TypedArray.getResourceId(networkSecurityConfig, 0) is 0 for a value that is not a
        # reference: Android then uses no config file (DefaultConfigSource).
        network = replace(
            manifest_only(manifest.target_sdk, app.uses_cleartext_traffic),
            problems=("android:networkSecurityConfig is not a resource reference: Android "
                      "ignores it and applies the defaults",),
        )
    else:
        network = manifest_only(manifest.target_sdk, app.uses_cleartext_traffic)
    for kind in (BACKUP_FULL_CONTENT, BACKUP_DATA_EXTRACTION):
        found = by_attribute.get(kind)
        if found is None:
            continue
        if found.root is None:
            backup.append(BackupRules(kind=kind, path=found.path, read=False,
                                      problems=(f"android:{kind}={found.reference}: "
                                                f"{found.problem}",)))
        else:
            backup.append(read_backup_rules(found.root, kind, found.path))
    return network, tuple(backup)
