"""Split sets as one app: ``.apks``/``.xapk``/``.apkm`` archives and loose split APKs.

What the package manager does with a base APK and its splits (frameworks/base):

* ``ApkLiteParseUtils.parseClusterPackageLite``: every APK must carry the same ``package``
  ("Inconsistent package") and ``versionCode`` ("Inconsistent version"); each split name
  appears once ("Split name ... defined more than once"); exactly one APK has no ``split``
  attribute, the base ("Missing base APK"). ``split`` and ``configForSplit`` are read by
  name without a namespace, ``android:isFeatureSplit`` by name in the android namespace.
* ``ParsingPackageUtils.parseSplitApk`` reads **only ``<application>``** in a split
  manifest; every other direct child of ``<manifest>`` -- ``<uses-permission>``,
  ``<permission>``, ``<uses-sdk>``, ``<uses-feature>``, ... -- goes to
  ``ParsingUtils.unknownTag`` and is skipped. So the base manifest alone decides the
  permissions, and a permission requested only by a split is never granted.
* ``ParsingPackageUtils.parseSplitApplication`` adds the split's activities, receivers,
  services, providers and activity-aliases to the one package (``pkg.addActivity`` ...,
  tagged with the split name), for config and feature splits alike: components of an
  installed split are the app's components. They are parsed against the base's target SDK.

Members of an archive are read without loading the archive: a stored member is a byte
range read through ``Window``; a deflated one is inflated into a spooled temporary file
(memory up to ``SPOOL_IN_MEMORY``, then disk), refused beyond ``MAX_MEMBER_SIZE``.
"""

from __future__ import annotations

import io
import json
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

from permaudit._infra.records import record, replace
from permaudit.android.attributes import ANDROID_NS
from permaudit.errors import InputError, ManifestError, PermauditError
from permaudit.inputs.binary.xmltree import Attribute, Element
from permaudit.inputs.binary.ziparchive import refuse_duplicate_names
from permaudit.inputs.manifest import parse_manifest
from permaudit.model import (
    IgnoredElement,
    Manifest,
    SigningInfo,
    SplitInfo,
    TamperEvidence,
    UsesPermission,
)

if TYPE_CHECKING:
    from permaudit.inputs.apk import ApkContents

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
_LFH = struct.Struct("<IHHHHHIIIHH")
_LFH_SIGNATURE = 0x04034B50
_CHUNK = 1024 * 1024
_STORED, _DEFLATED = 0, 8


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


@record
class SplitApk:
    """One APK of a split set: where it is and its decoded manifest tree."""

    #: Member path inside the archive, or the file path of a loose split APK.
    path: str
    root: Element
    #: ``None`` when not read (App Bundle modules are not signed APKs).
    signing: SigningInfo | None = None
    evidence: tuple[TamperEvidence, ...] = ()


@record
class SplitSet:
    """The merged result: the app's manifest, each split as reported, and notes."""

    manifest: Manifest
    splits: tuple[SplitInfo, ...]
    notes: tuple[str, ...]
    base_path: str
    #: The base APK's signers, with a problem added for each split signed differently.
    signing: SigningInfo | None = None
    #: Tamper evidence of every member, each naming its member.
    tamper: tuple[TamperEvidence, ...] = ()


# --- archives -----------------------------------------------------------------------------


def archive_kind(names: list[str]) -> str | None:
    """``xapk``/``apkm``/``apks`` when ``names`` (zip entries) hold APKs; ``None`` otherwise."""
    if not any(name.endswith(".apk") for name in names):
        return None
    if "manifest.json" in names:
        return KIND_XAPK
    if "info.json" in names:
        return KIND_APKM
    return KIND_APKS


def read_archive(
    stream: BinaryIO, size: int, kind: str, *, locale: str | None = None
) -> SplitSet:
    """Read every member APK of an ``.apks``/``.xapk``/``.apkm`` archive as one split set."""
    import zipfile

    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"not a valid zip ({exc})") from None
    with archive:
        refuse_duplicate_names(archive.namelist())
        infos = {info.filename: info for info in archive.infolist()}
        members = _member_names(archive, infos, kind)
        if len(members) > MAX_MEMBERS:
            raise InputError(f"{len(members)} APKs in one archive (limit {MAX_MEMBERS})")
        apks = []
        for name in members:
            with _open_member(stream, size, archive, infos[name]) as (member, length):
                apks.append(read_split_apk(member, length, name, locale=locale))
    return merge_split_set(apks, container=f".{kind} archive")


def _member_names(archive: Any, infos: dict[str, Any], kind: str) -> list[str]:
    """Which members are the app's APKs, as the installer for this kind would pick them."""
    if kind == KIND_XAPK:
        listed = _xapk_listed(archive, infos)
        if listed:
            return listed
    names = sorted(n for n in infos if n.endswith(".apk") and not infos[n].is_dir())
    # bundletool's .apks: split APKs live under splits/ (standalones/ and instant/ are
    # alternatives for other devices), see toc.pb.
    under_splits = [n for n in names if n.startswith("splits/")]
    if under_splits:
        return under_splits
    top = [n for n in names if "/" not in n]
    return top or names


def _xapk_listed(archive: Any, infos: dict[str, Any]) -> list[str]:
    """The ``split_apks[].file`` entries of an XAPK ``manifest.json`` (checked to exist)."""
    info = infos["manifest.json"]
    if info.file_size > MAX_JSON_SIZE:
        raise InputError(f"manifest.json is larger than {MAX_JSON_SIZE} bytes")
    try:
        document = json.loads(archive.read(info))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"XAPK manifest.json is not valid JSON ({exc})") from None
    listed = document.get("split_apks") if isinstance(document, dict) else None
    if not isinstance(listed, list):
        return []
    files = [item.get("file") for item in listed if isinstance(item, dict)]
    for name in files:
        if not isinstance(name, str) or name not in infos:
            raise InputError(f"XAPK manifest.json lists {name!r}, which is not in the archive")
    return files  # type: ignore[return-value]


@contextmanager
def _open_member(
    stream: BinaryIO, size: int, archive: Any, info: Any
) -> Iterator[tuple[BinaryIO, int]]:
    """A seekable stream over one member APK and its length (window or spooled inflate)."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise InputError(f"{name} is encrypted")
    if info.file_size > MAX_MEMBER_SIZE:
        raise InputError(f"{name} declares {info.file_size} bytes, beyond {MAX_MEMBER_SIZE}")
    if info.compress_type == _STORED:
        window = Window(stream, _data_offset(stream, size, info), info.file_size)
        yield cast(BinaryIO, window), info.file_size
        return
    if info.compress_type != _DEFLATED:
        raise InputError(f"{name} uses compression method {info.compress_type}")
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        _inflate_into(archive, info, spool)
        spool.seek(0)
        yield spool, info.file_size  # type: ignore[misc]


def _data_offset(stream: BinaryIO, size: int, info: Any) -> int:
    """Where a stored member's bytes start: after its local header, name and extra field."""
    stream.seek(info.header_offset)
    header = stream.read(_LFH.size)
    if len(header) != _LFH.size or _LFH.unpack(header)[0] != _LFH_SIGNATURE:
        raise InputError(f"{info.filename}: no local file header")
    fields = _LFH.unpack(header)
    offset = info.header_offset + _LFH.size + fields[9] + fields[10]
    if offset + info.file_size > size:
        raise InputError(f"{info.filename}: member data runs past the end of the file")
    return int(offset)


def _inflate_into(archive: Any, info: Any, out: IO[bytes]) -> None:
    import zipfile
    import zlib

    written = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                written += len(chunk)
                if written > info.file_size:
                    raise InputError(f"{info.filename} inflates beyond its declared size")
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise InputError(f"{info.filename} cannot be inflated ({exc})") from None
    if written != info.file_size:
        raise InputError(f"{info.filename} inflates to {written} bytes, not {info.file_size}")


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
    return SplitApk(path=name, root=contents.root, signing=contents.signing, evidence=evidence)


def _signer_digests(signing: SigningInfo | None) -> frozenset[str]:
    if signing is None:
        return frozenset()
    return frozenset(s.certificates[0].sha256 for s in signing.signers if s.certificates)


def split_set_signing(base: SplitApk, splits: list[SplitApk]) -> SigningInfo | None:
    """The base's signers; Android installs a split set only when every APK has the same
    signers (``PackageManagerService`` "Split ... was signed differently"), so a split
    signed otherwise is a problem to report."""
    if base.signing is None:
        return None
    expected = _signer_digests(base.signing)
    problems = [
        f"split {split.path} is signed by other certificates than the base APK: Android "
        "refuses to install the set"
        for split in splits
        if split.signing is not None and _signer_digests(split.signing) != expected
    ]
    if not problems:
        return base.signing
    return replace(base.signing, problems=(*base.signing.problems, *problems))


# --- merging ------------------------------------------------------------------------------


def split_name(root: Element) -> str | None:
    """The ``split`` attribute (read by name, no namespace; empty means none), as Android."""
    attribute = root.by_name("split", None)
    value = attribute.coerce_to_string() if attribute is not None else None
    return value or None


def package_name(root: Element) -> str | None:
    """The ``package`` attribute of ``<manifest>`` (read by name, no namespace)."""
    attribute = root.by_name("package", None)
    return attribute.coerce_to_string() if attribute is not None else None


def split_kind(root: Element, name: str) -> str:
    """``feature`` for ``android:isFeatureSplit``, ``config`` for configuration splits."""
    feature = root.by_name("isFeatureSplit", ANDROID_NS)
    if feature is not None and feature.value.is_int and feature.value.data != 0:
        return "feature"
    if root.by_name("configForSplit", None) is not None or name.startswith("config."):
        return "config"
    return "feature"


def merge_split_set(apks: list[SplitApk], *, container: str) -> SplitSet:
    """Validate ``apks`` as ``parseClusterPackageLite`` does and merge them into one app."""
    if not apks:
        raise InputError(f"no APK in the {container}")
    bases = [apk for apk in apks if split_name(apk.root) is None]
    if not bases:
        raise InputError(f"no base APK in the {container} (every APK has a split= attribute)")
    if len(bases) > 1:
        names = ", ".join(apk.path for apk in bases)
        raise InputError(f"more than one base APK in the {container}: {names}")
    base = bases[0]
    manifest = parse_manifest(base.root, with_lines=False)
    others = [apk for apk in apks if apk is not base]
    result = merge_splits(
        base_root=base.root,
        base_manifest=manifest,
        base_path=base.path,
        splits=others,
        container=container,
    )
    return with_integrity(result, base, others)


def merge_splits(
    *,
    base_root: Element,
    base_manifest: Manifest,
    base_path: str,
    splits: list[SplitApk],
    container: str,
    module_kind: str | None = None,
) -> SplitSet:
    """Add each split's components to the base manifest; report what each split declares.

    ``container`` names the source in messages (".apks archive", "app bundle", ...);
    ``module_kind`` forces the split kind (App Bundle modules are all ``feature``, and
    their version code is set by bundletool, so it is not compared).
    """
    package = base_manifest.package
    seen: dict[str, str] = {}
    infos = [
        SplitInfo(
            name="base",
            path=base_path,
            kind="base",
            package=package,
            uses_permissions=base_manifest.uses_permissions,
            components=len(base_manifest.components),
        )
    ]
    components = list(base_manifest.components)
    ignored = list(base_manifest.ignored)
    sdk = tuple(child for child in base_root.children if child.tag == "uses-sdk")
    granted = {p.name for p in base_manifest.uses_permissions}
    notes: list[str] = []
    for split in sorted(splits, key=lambda s: (split_name(s.root) or "", s.path)):
        name = split_name(split.root) or ""
        other = package_name(split.root)
        if other != package:
            raise InputError(f"{split.path}: inconsistent package {other}; expected {package}")
        if name in seen:
            raise InputError(
                f"split name {name} defined more than once ({seen[name]} and {split.path})"
            )
        seen[name] = split.path
        version = _version_code(split.root, sdk)
        if module_kind is None and version != base_manifest.version_code:
            raise InputError(
                f"{split.path}: inconsistent version {version}; expected "
                f"{base_manifest.version_code}"
            )
        kind = module_kind or split_kind(split.root, name)
        declared = _split_permissions(split.root, sdk)
        parts = _split_components(split.root, sdk)
        components.extend(parts)
        ignored.extend(
            IgnoredElement(tag=p.element, parent=f"split {name}/manifest", name=p.name)
            for p in declared
        )
        infos.append(
            SplitInfo(
                name=name,
                path=split.path,
                kind=kind,
                package=other,
                uses_permissions=declared,
                components=len(parts),
                note=_split_note(declared, parts, granted),
            )
        )
        only_here = sorted({p.name for p in declared} - granted)
        if only_here:
            notes.append(
                f"Split {name} requests {', '.join(only_here)}, which the base does not: "
                "Android ignores <uses-permission> in split APKs, so these are not granted."
            )
    merged = replace(
        base_manifest,
        components=tuple(sorted(components, key=lambda c: (c.kind, c.name))),
        ignored=tuple(ignored),
    )
    counts = {k: sum(1 for i in infos if i.kind == k) for k in ("config", "feature")}
    summary = (
        f"One app from {len(infos)} APKs of the {container} (base, {counts['config']} config "
        f"and {counts['feature']} feature splits): permissions come from the base manifest, "
        "as Android's package manager decides; components of the splits are included."
    )
    return SplitSet(
        manifest=merged, splits=tuple(infos), notes=(summary, *notes), base_path=base_path
    )


def with_integrity(result: SplitSet, base: SplitApk, splits: list[SplitApk]) -> SplitSet:
    """``result`` with the set's signer identity and every member's tamper evidence."""
    return replace(
        result,
        signing=split_set_signing(base, splits),
        tamper=tuple(e for apk in (base, *splits) for e in apk.evidence),
    )


def _with_children(root: Element, children: tuple[Element, ...]) -> Element:
    return Element(
        tag=root.tag, namespace=root.namespace, attributes=root.attributes, children=children
    )


def _version_code(root: Element, sdk: tuple[Element, ...]) -> int | None:
    return parse_manifest(_with_children(root, sdk), with_lines=False).version_code


def _split_permissions(root: Element, sdk: tuple[Element, ...]) -> tuple[UsesPermission, ...]:
    """What the split requests (reported only: Android never reads it)."""
    tags = ("uses-permission", "uses-permission-sdk-23", "uses-permission-sdk-m")
    requests = tuple(child for child in root.children if child.tag in tags)
    if not requests:
        return ()
    try:
        return parse_manifest(
            _with_children(root, sdk + requests), with_lines=False
        ).uses_permissions
    except ManifestError:
        return ()  # Android skips these elements, so what is wrong in them cannot matter


def _split_components(root: Element, sdk: tuple[Element, ...]) -> tuple[Any, ...]:
    """The split's first ``<application>`` components, parsed with the base's target SDK."""
    application = next((c for c in root.children if c.tag == "application"), None)
    if application is None:
        return ()
    return parse_manifest(_with_children(root, (*sdk, application)), with_lines=False).components


def _split_note(
    declared: tuple[UsesPermission, ...], components: tuple[Any, ...], granted: set[str]
) -> str:
    parts = []
    if declared:
        extra = sum(1 for p in declared if p.name not in granted)
        parts.append(
            f"{len(declared)} <uses-permission> ignored by Android (split manifests are read "
            f"for <application> only); {extra} not requested by the base"
        )
    if components:
        parts.append(f"{len(components)} component(s) become part of the app when installed")
    return "; ".join(parts) if parts else "no permissions or components"


def dist_attribute(root: Element, name: str) -> Attribute | None:
    """An attribute of ``<dist:module>`` (App Bundle delivery metadata), if present."""
    for child in root.children:
        if child.tag == "module":
            return child.by_name(name, "http://schemas.android.com/apk/distribution")
    return None
