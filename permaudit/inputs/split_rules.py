"""Android's split rules: validate a base APK and its splits and merge them into one manifest.

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

"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from permaudit._infra.records import record, replace
from permaudit.android.attributes import ANDROID_NS
from permaudit.errors import InputError, ManifestError
from permaudit.inputs.binary.xmltree import Attribute, Element
from permaudit.inputs.manifest import COMPONENT_TAGS, parse_manifest
from permaudit.inputs.resources import resolve_manifest_tree
from permaudit.inputs.table_set import (
    Loaded,
    TableCache,
    TableSet,
    isolated_splits,
    search_order,
    uses_split,
)
from permaudit.model import (
    IgnoredElement,
    Manifest,
    SigningInfo,
    SplitInfo,
    TamperEvidence,
    UnresolvedReference,
    UsesPermission,
)

if TYPE_CHECKING:
    from permaudit.inputs.binary.arsc import ResourceTable
    from permaudit.inputs.icon import MemberFiles, OpenMembers
    from permaudit.inputs.resource_xml import XmlFile
    from permaudit.model.code import CodeScan
    from permaudit.model.icon import AppIcon
    from permaudit.model.netsec import BackupRules, NetworkSecurity


@record
class SplitApk:
    """One APK of a split set: where it is and its decoded manifest tree."""

    #: Member path inside the archive, or the file path of a loose split APK.
    path: str
    root: Element
    #: ``None`` when not read (App Bundle modules are not signed APKs).
    signing: SigningInfo | None = None
    evidence: tuple[TamperEvidence, ...] = ()
    #: The res/xml files its manifest points to and its resource table (``read_apk``).
    xml_files: tuple[XmlFile, ...] = ()
    table: ResourceTable | None = None
    #: Its launcher icon as ``read_apk`` found it (the base's is the app's).
    icon: AppIcon | None = None
    #: Reads named files of this APK again (``apk.read_icon_files``), while its input is
    #: open: a split set looks for its icon's PNG in the density splits with it.
    read_files: Callable[[Sequence[str]], MemberFiles] | None = None


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
    #: The base APK's network security config and backup rules (``None``: not read).
    network_security: NetworkSecurity | None = None
    backup: tuple[BackupRules, ...] = ()
    #: The code of every member (``inputs.code``), read while each member was open;
    #: ``None`` when code was not asked for. Its tamper records are not in ``tamper``.
    code: CodeScan | None = None
    #: The base APK's launcher icon (``None``: none, or not read for this container).
    icon: AppIcon | None = None


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


def merge_split_set(
    apks: list[SplitApk], *, container: str, locale: str | None = None
) -> SplitSet:
    """Validate ``apks`` as ``parseClusterPackageLite`` does and merge them into one app
    (references resolved across their tables for the default configuration or ``locale``,
    see ``resolve_across``)."""
    if not apks:
        raise InputError(f"no APK in the {container}")
    bases = [apk for apk in apks if split_name(apk.root) is None]
    if not bases:
        raise InputError(f"no base APK in the {container} (every APK has a split= attribute)")
    if len(bases) > 1:
        names = ", ".join(apk.path for apk in bases)
        raise InputError(f"more than one base APK in the {container}: {names}")
    splits = [apk for apk in apks if apk is not bases[0]]
    base, others = resolve_across(bases[0], splits, locale)
    manifest = parse_manifest(base.root, with_lines=False)
    result = merge_splits(
        base_root=base.root,
        base_manifest=manifest,
        base_path=base.path,
        splits=others,
        container=container,
    )
    from permaudit.inputs.resource_xml import model

    network, backup = model(result.manifest, base.xml_files, base.table)
    icon, icon_evidence = set_icon(base.icon, bases[0], splits)
    checked = with_integrity(result, base, others)
    return replace(checked, network_security=network, backup=backup, icon=icon,
                   tamper=(*checked.tamper, *icon_evidence))


#: A density config split's name (bundletool's ``config.xxhdpi``, ``config.tvdpi``, ...).
_DENSITY_SPLIT = re.compile(r"(?:^|\.)config\.(?:l|m|tv|h|xh|xxh|xxxh|no)dpi$")
#: Density splits named in the icon's note before "...".
_NAMED_SPLITS = 3


def set_icon(
    icon: AppIcon | None, base: SplitApk, splits: Sequence[SplitApk]
) -> tuple[AppIcon | None, tuple[TamperEvidence, ...]]:
    """The split set's launcher icon and the tamper evidence of the split members read for
    it. The icon is the base APK's (``icon``) when it has an image or the set has no
    density config split; otherwise it is read again across the set, as Android would draw
    it: the icon's entry looked up in the base's tables with the values its config splits
    add (``table_set``), each file read from the first APK of the set that holds it (base
    first). bundletool puts an icon's PNG versions in ``config.xxhdpi.apk`` and the like,
    leaving the base only the adaptive XML."""
    from permaudit.inputs.icon import read_icon

    density = [apk for apk in splits if _DENSITY_SPLIT.search(split_name(apk.root) or "")]
    if icon is None or icon.image is not None or not density:
        return icon, ()
    members = [base, *density]
    if any(apk.read_files is None for apk in members):
        named = ", ".join(split_name(apk.root) or "" for apk in density[:_NAMED_SPLITS])
        more = ", ..." if len(density) > _NAMED_SPLITS else ""
        return replace(icon, note=f"{icon.note}; the density config splits of this set "
                                  f"({named}{more}), which may hold its PNG versions, "
                                  "are not read for the icon"), ()
    tables = _table_sets(base, list(splits))[0]
    evidence: list[TamperEvidence] = []
    found = read_icon(base.root, tables, _across(members, evidence.append))
    return found or icon, tuple(dict.fromkeys(evidence))


def _across(apks: Sequence[SplitApk], found: Callable[[TamperEvidence], object]) -> OpenMembers:
    """Reads icon files from the first of ``apks`` that holds each (one pass per APK).

    The evidence of the files read from the splits (``apks[1:]``) goes to ``found``, named
    after the split; the base's files were read, with their evidence, when it was loaded.
    """

    def open_members(names: Sequence[str]) -> Callable[[str], bytes | str]:
        files: dict[str, bytes | str] = {}
        for index, apk in enumerate(apks):
            wanted = [n for n in names if not isinstance(files.get(n), bytes)]
            if not wanted or apk.read_files is None:
                continue
            read = apk.read_files(wanted)
            for name, data in read.files.items():
                if isinstance(data, bytes) or name not in files:
                    files[name] = data
            if index:
                for item in read.evidence:
                    found(replace(item, member=apk.path))
        return lambda name: files.get(name, f"{name} is not in any APK of the set")

    return open_members


def resolve_across(
    base: SplitApk, splits: list[SplitApk], locale: str | None = None
) -> tuple[SplitApk, list[SplitApk]]:
    """``base`` and ``splits`` with their references looked up in the tables Android loads
    with each (``table_set``: a feature split's manifest may name the base's resources,
    the base's a split's, and a config split adds configurations to the base's entries).
    An APK whose table was read comes in unresolved (``split_apk``); one whose table could
    not be read comes with its references marked, which stay so."""
    apks = [base, *splits]
    resolved = [replace(apk, root=resolve_manifest_tree(apk.root, tables, locale))
                for apk, tables in zip(apks, _table_sets(base, splits), strict=True)]
    return resolved[0], resolved[1:]


def _table_sets(base: SplitApk, splits: list[SplitApk]) -> list[TableSet]:
    """The tables Android loads with each of ``base`` and ``splits`` (``table_set``)."""
    apks = [base, *splits]
    keys = [split_name(apk.root) or "" for apk in apks]
    cache = TableCache(
        {key: _table_of(apk) for key, apk in zip(keys, apks, strict=True)},
        {key: f"resources.arsc of {apk.path}" for key, apk in zip(keys, apks, strict=True)},
    )
    parents = {key: uses_split(apk.root) for key, apk in zip(keys, apks, strict=True)}
    configures = {
        key: _config_for(apk.root) for key, apk in zip(keys, apks, strict=True)
        if key and split_kind(apk.root, key) == "config"
    }
    isolated = isolated_splits(base.root)
    others = sorted(key for key, apk in zip(keys, apks, strict=True)
                    if key and apk.table is not None)
    return [TableSet(cache, search_order(key, base="", parents=parents, isolated=isolated,
                                         configures=configures, others=others),
                     configs=configures)
            for key in keys]


def _table_of(apk: SplitApk) -> Callable[[], Loaded]:
    return lambda: apk.table


def _config_for(root: Element) -> str | None:
    attribute = root.by_name("configForSplit", None)
    return (attribute.coerce_to_string() or None) if attribute is not None else None


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
    unresolved = list(base_manifest.unresolved)
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
        parts, references = _split_components(split.root, sdk)
        components.extend(parts)
        unresolved.extend(replace(r, reason=f"split {name or split.path}: {r.reason}")
                          for r in references)
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
        unresolved=tuple(unresolved),
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


def _split_components(
    root: Element, sdk: tuple[Element, ...]
) -> tuple[tuple[Any, ...], tuple[UnresolvedReference, ...]]:
    """The split's first ``<application>`` components, parsed with the base's target SDK,
    and the references among their attributes that stayed unresolved (those of
    ``<application>`` itself and of ``<uses-sdk>`` are the base's to decide)."""
    application = next((c for c in root.children if c.tag == "application"), None)
    if application is None:
        return (), ()
    parsed = parse_manifest(_with_children(root, (*sdk, application)), with_lines=False)
    return parsed.components, tuple(r for r in parsed.unresolved if r.tag in COMPONENT_TAGS)


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
