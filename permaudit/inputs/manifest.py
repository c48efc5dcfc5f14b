"""Turn a manifest element tree into a ``Manifest`` with the semantics of Android's package parser.

Reference: ``ParsingPackageUtils`` (frameworks/base
services/core/java/com/android/server/pm/pkg/parsing/ParsingPackageUtils.java) with
``ApkLiteParseUtils``, ``ParsedActivityUtils``/``ParsedServiceUtils``/``ParsedProviderUtils``,
``ParsedMainComponentUtils`` and ``ParsedIntentInfoUtils``. What this module mirrors:

* The first element must be ``<manifest>``; ``package`` is read by *name* without a
  namespace (``parser.getAttributeValue(null, "package")``) and validated like
  ``FrameworkParsingPackageUtils.validateName`` (``"android"`` exempt).
* ``parseBaseApkTags`` dispatches only on *direct children* of ``<manifest>``: each
  handler consumes its subtree (``XmlUtils.skipCurrentTag``/``unknownTag``), so a
  ``<uses-permission>`` inside ``<application>`` or anywhere deeper is never read. Such
  elements land in ``Manifest.ignored``. Likewise components are read only as direct
  children of the first ``<application>``; a second ``<application>`` is skipped
  ("<manifest> has more than one <application>", RIGID_PARSER is false).
* Framework attributes are read by resource id through ``Element.android`` (the
  ``obtainAttributes`` merge walk). Value rules follow ``TypedArray``: strings for
  ``uses-permission``/``uses-feature`` names are ``getNonResourceString`` (only
  ``TYPE_STRING``; a reference reads as absent), ints come from ``TYPE_INT_*`` data,
  booleans are ``data != 0`` for int types and ``"1"/"true"/"TRUE"`` for strings.
  References among ``resolved_attributes`` are resolved through resources.arsc before
  this module sees the tree (``permaudit.inputs.resources``); one that could not be
  resolved reads as absent (the attribute's default applies) and is reported in
  ``Manifest.unresolved`` with the reason the resolver left on it.
* ``uses-sdk``: minSdk defaults to 1 and targetSdk to minSdk; a codename string maps to
  ``Build.VERSION_CODES.CUR_DEVELOPMENT`` (10000), as ``computeMinSdkVersion`` /
  ``computeTargetSdkVersion`` return for a platform that knows the codename. Values are
  applied in document order, as the framework does: ``<application>`` sees the target
  SDK of the ``<uses-sdk>`` elements before it.
* ``uses-permission`` (also ``-sdk-23``/``-sdk-m``): ``maxSdkVersion`` only from int
  types; entries without a literal name are dropped (and listed as ignored).
* Components: names resolved by ``ParsingUtils.buildClassName``; ``exported`` is the
  explicit value, else "has an intent filter with an action" for activities, receivers,
  services and aliases, else ``targetSdk < 17`` for providers. From targetSdk 31 a
  component with intent filters but no explicit ``exported`` is an install error
  (``DeferredError.MISSING_EXPORTED_FLAG``): we raise ``ManifestError`` as Android
  refuses to install such an app. Intent filters without actions are dropped
  ("No actions in intent-filter", backward compatible, not an error).

Why this module is long: ``_Reader`` is one walk of the tree, handler by handler as
``ParsingPackageUtils.parseBaseApkTags`` dispatches, with state that crosses handlers (the
target SDK applied in document order, the first ``<application>``, the ignored elements);
cutting it into modules would spread that one state machine over files that each need all
of it. Attribute value rules and flag tables are in ``manifest_values``.
"""

from __future__ import annotations

from permaudit.android.attributes import ANDROID_NS
from permaudit.errors import ManifestError
from permaudit.inputs.binary.xmltree import (
    TYPE_STRING,
    Element,
)
from permaudit.inputs.manifest_values import bool_attr as _bool
from permaudit.inputs.manifest_values import (
    foreground_service_names,
    protection_names,
)
from permaudit.inputs.manifest_values import int_attr as _int
from permaudit.inputs.manifest_values import non_resource_string as _non_resource_string
from permaudit.inputs.manifest_values import required_string as _required_string
from permaudit.inputs.manifest_values import string_attr as _string
from permaudit.inputs.manifest_values import typed_attr as _attr
from permaudit.model import (
    USES_PERMISSION,
    USES_PERMISSION_SDK_23,
    Application,
    Component,
    DeclaredPermission,
    IgnoredElement,
    IntentFilter,
    Manifest,
    Queries,
    UnresolvedReference,
    UsesFeature,
    UsesPermission,
)

#: ``Build.VERSION_CODES.CUR_DEVELOPMENT``: what a codename SDK level resolves to.
CUR_DEVELOPMENT = 10000
#: ``ParsingPackageUtils.MAX_PERMISSION_NAME_LENGTH``.
MAX_PERMISSION_NAME_LENGTH = 512
#: ``FrameworkParsingPackageUtils.MAX_FILE_NAME_SIZE``.
MAX_PACKAGE_NAME_LENGTH = 223
#: usesPermissionFlags="neverForLocation".
NEVER_FOR_LOCATION = 0x10000
JELLY_BEAN_MR1 = 17
S = 31

USES_PERMISSION_TAGS = {
    "uses-permission": USES_PERMISSION,
    "uses-permission-sdk-23": USES_PERMISSION_SDK_23,
    "uses-permission-sdk-m": USES_PERMISSION_SDK_23,
}
MANIFEST_LEVEL_TAGS = frozenset(
    {*USES_PERMISSION_TAGS, "permission", "uses-feature", "uses-sdk", "queries", "application"}
)
COMPONENT_TAGS = ("activity", "activity-alias", "service", "receiver", "provider")
_COMPONENT_RESOLVED = ("exported",)
#: Attributes read through TypedArray (which resolves resource references) whose default
#: may understate what the app gets, or that identify it: a reference among them is
#: reported as unresolved. (``enabled`` is not: its default, true, is the cautious one.)
RESOLVED_BY_ANDROID: dict[str, tuple[str, ...]] = {
    "manifest": ("versionCode", "versionCodeMajor", "versionName"),
    "uses-sdk": ("minSdkVersion", "targetSdkVersion"),
    **{tag: ("maxSdkVersion",) for tag in USES_PERMISSION_TAGS},
    "permission": ("protectionLevel",),
    "application": (
        "debuggable", "allowBackup", "usesCleartextTraffic", "testOnly",
        "requestLegacyExternalStorage",
    ),
    "activity": _COMPONENT_RESOLVED,
    "activity-alias": _COMPONENT_RESOLVED,
    "receiver": _COMPONENT_RESOLVED,
    "service": (*_COMPONENT_RESOLVED, "foregroundServiceType"),
    "provider": _COMPONENT_RESOLVED,
}  # fmt: skip

#: Attributes also resolved through the resource table but not reported when they stay
#: references: the label (headers fall back to the package name) and ``enabled`` (its
#: default, true, is the cautious one).
RESOLVED_QUIETLY: dict[str, tuple[str, ...]] = {
    "application": ("label",),
    **{tag: ("enabled",) for tag in COMPONENT_TAGS},
}
#: Why a reference stays unresolved when the resource reader left no reason on it.
NO_TABLE_REASON = "no resource table read for this input"


def resolved_attributes(tag: str) -> tuple[str, ...]:
    """Names of the ``android:`` attributes of ``tag`` resolved through resources."""
    return RESOLVED_BY_ANDROID.get(tag, ()) + RESOLVED_QUIETLY.get(tag, ())


def parse_manifest(
    root: Element,
    *,
    with_lines: bool = True,
    sdk_fallback: tuple[int | None, int | None] = (1, 1),
) -> Manifest:
    """Read ``root`` (the document element) as Android's package parser would.

    ``with_lines=False`` drops source lines (binary manifests: the model wants ``None``).
    ``sdk_fallback``: (min, target) when no ``<uses-sdk>`` is read: Android's defaults
    (1, 1) for a built manifest; for a source manifest what the caller knows, ``None``
    for unknown. With an unknown target SDK, the defaults that depend on it are those of
    any current target (providers not exported, no legacy storage, no install error).
    """
    if root.tag != "manifest":
        raise ManifestError(f"root element is <{root.tag}>, not <manifest>")
    return _Reader(_package_name(root), with_lines, sdk_fallback).read(root)


def build_class_name(package: str, name: str) -> str:
    """``ParsingUtils.buildClassName``: ".Foo" and "Foo" become "package.Foo"."""
    if name.startswith("."):
        return package + name
    if "." not in name:
        return f"{package}.{name}"
    return name


def _package_name(root: Element) -> str:
    attribute = root.by_name("package", None)
    package = attribute.coerce_to_string() if attribute is not None else None
    if package is None:
        raise ManifestError("<manifest> has no package attribute")
    if package != "android":
        problem = _validate_name(package)
        if problem:
            raise ManifestError(f"invalid manifest package {package!r}: {problem}")
    return package


def _validate_name(name: str) -> str | None:
    """``FrameworkParsingPackageUtils.validateName(name, true, true)``: problem or None."""
    has_separator = False
    front = True
    for char in name:
        if ("a" <= char <= "z") or ("A" <= char <= "Z"):
            front = False
        elif not front and ("0" <= char <= "9" or char == "_"):
            continue
        elif char == ".":
            has_separator = True
            front = True
        else:
            return f"bad character {char!r}"
    if len(name) > MAX_PACKAGE_NAME_LENGTH:
        return f"longer than {MAX_PACKAGE_NAME_LENGTH} characters"
    return None if has_separator else "must have at least one '.' separator"


# --- TypedArray semantics ---------------------------------------------------------------


# --- the reader -------------------------------------------------------------------------


class _Reader:
    """Mutable state of one pass over one manifest (local to ``parse_manifest``)."""

    def __init__(
        self, package: str, with_lines: bool, sdk_fallback: tuple[int | None, int | None]
    ) -> None:
        self.package = package
        self.with_lines = with_lines
        self.min_sdk: int | None = sdk_fallback[0]
        self.target_sdk: int | None = sdk_fallback[1]
        self.max_sdk: int | None = None
        self.uses_permissions: list[UsesPermission] = []
        self.permissions: dict[str, DeclaredPermission] = {}
        self.features: list[UsesFeature] = []
        self.queries_packages: list[str] = []
        self.queries_intents: list[IntentFilter] = []
        self.queries_providers: list[str] = []
        self.application = Application()
        self.label: str | None = None
        self.components: list[Component] = []
        self.ignored: list[IgnoredElement] = []
        #: ``id()`` of the elements read, so the rest can be reported as ignored.
        self.consumed: set[int] = set()
        self.implicit_exported: list[str] = []

    def line(self, element: Element) -> int | None:
        return element.line if self.with_lines else None

    def read(self, root: Element) -> Manifest:
        code = _int(root, "versionCode", 0) if _attr(root, "versionCode") else None
        major = _int(root, "versionCodeMajor", 0) if _attr(root, "versionCodeMajor") else None
        version_code = None
        if code is not None or major is not None:
            version_code = ((major or 0) << 32) | ((code or 0) & 0xFFFFFFFF)
        compile_sdk = _int(root, "compileSdkVersion", 0) or None
        shared_user_id = _string(root, "sharedUserId") or None
        if shared_user_id and self.package != "android":
            problem = _validate_name(shared_user_id)
            if problem:
                raise ManifestError(f"bad sharedUserId {shared_user_id!r}: {problem}")
        found_application = False
        for child in root.children:
            if child.tag == "application":
                if found_application:
                    continue  # "<manifest> has more than one <application>": skipped
                found_application = True
                self.consumed.add(id(child))
                self.read_application(child)
            elif child.tag in MANIFEST_LEVEL_TAGS:
                self.consumed.add(id(child))
                self.read_manifest_child(child)
            elif child.tag == "feature-group":
                # Its <uses-feature> children are read into a feature group (not modelled).
                self.consumed.update(id(c) for c in child.children if c.tag == "uses-feature")
        if self.target_sdk is not None and self.target_sdk >= S and self.implicit_exported:
            raise ManifestError(
                f"{self.implicit_exported[0]}: targeting S+ (version {S} and above) requires "
                "that an explicit value for android:exported be defined when intent filters "
                "are present (Android refuses to install this app)"
            )
        self.collect_ignored(root, "manifest")
        unresolved = self.unresolved_references(root)
        split = root.by_name("split", None)
        return Manifest(
            package=self.package,
            split=(split.coerce_to_string() or None) if split is not None else None,
            version_code=version_code,
            version_name=_string(root, "versionName"),
            label=self.label,
            min_sdk=self.min_sdk,
            target_sdk=self.target_sdk,
            max_sdk=self.max_sdk,
            compile_sdk=compile_sdk,
            shared_user_id=shared_user_id,
            uses_permissions=_unique_permissions(self.uses_permissions),
            permissions=tuple(sorted(self.permissions.values(), key=lambda p: p.name)),
            features=tuple(
                sorted(set(self.features), key=lambda f: (f.name or "", f.gl_es_version or 0))
            ),
            queries=Queries(
                packages=tuple(sorted(set(self.queries_packages))),
                intents=tuple(self.queries_intents),
                providers=tuple(sorted(set(self.queries_providers))),
            ),
            application=self.application,
            components=tuple(sorted(self.components, key=lambda c: (c.kind, c.name))),
            ignored=tuple(self.ignored),
            unresolved=unresolved,
        )

    def unresolved_references(self, root: Element) -> tuple[UnresolvedReference, ...]:
        """References among the ``RESOLVED_BY_ANDROID`` attributes of the elements read."""
        read = [root]
        for child in root.children:
            if id(child) in self.consumed:
                read.append(child)
                if child.tag == "application":
                    read.extend(c for c in child.children if id(c) in self.consumed)
        found = []
        for element in read:
            for name in RESOLVED_BY_ANDROID.get(element.tag, ()):
                attribute = _attr(element, name)
                if attribute is None or not attribute.value.is_reference:
                    continue
                raw = attribute.raw or ""
                written = raw if raw[:1] in ("@", "?") else f"@0x{attribute.value.data:08x}"
                component = _string(element, "name") if element.tag in COMPONENT_TAGS else None
                found.append(
                    UnresolvedReference(
                        tag=element.tag,
                        attribute=name,
                        reference=written,
                        component=build_class_name(self.package, component) if component else None,
                        line=self.line(element),
                        reason=attribute.unresolved or NO_TABLE_REASON,
                    )
                )
        return tuple(found)

    def read_manifest_child(self, child: Element) -> None:
        if child.tag in USES_PERMISSION_TAGS:
            self.read_uses_permission(child)
        elif child.tag == "permission":
            self.read_permission(child)
        elif child.tag == "uses-feature":
            name = _non_resource_string(child, "name")
            gl = None if name is not None else (_int(child, "glEsVersion", 0) or None)
            self.features.append(
                UsesFeature(
                    name=name,
                    required=_bool(child, "required", True),
                    gl_es_version=gl,
                    line=self.line(child),
                )
            )
        elif child.tag == "uses-sdk":
            self.read_uses_sdk(child)
        elif child.tag == "queries":
            self.read_queries(child)

    def read_uses_permission(self, element: Element) -> None:
        name = _non_resource_string(element, "name")
        if name is None:
            self.ignored.append(
                IgnoredElement(tag=element.tag, parent="manifest", line=self.line(element))
            )
            return
        if len(name) > MAX_PERMISSION_NAME_LENGTH:
            raise ManifestError(
                f"the name in the <uses-permission> is longer than {MAX_PERMISSION_NAME_LENGTH}"
            )
        max_attr = _attr(element, "maxSdkVersion")
        max_sdk = max_attr.value.signed if max_attr is not None and max_attr.value.is_int else None
        flags = _int(element, "usesPermissionFlags", 0)
        self.uses_permissions.append(
            UsesPermission(
                name=name,
                element=USES_PERMISSION_TAGS[element.tag],
                max_sdk=max_sdk,
                required_feature=_string(element, "requiredFeature"),
                required_not_feature=_string(element, "requiredNotFeature"),
                never_for_location=bool(flags & NEVER_FOR_LOCATION),
                line=self.line(element),
            )
        )

    def read_permission(self, element: Element) -> None:
        name = build_class_name(self.package, _required_string(element, "name", "<permission>"))
        level = _int(element, "protectionLevel", 0)
        permission = DeclaredPermission(
            name=name,
            protection_level=level,
            protection=protection_names(level),
            group=_non_resource_string(element, "permissionGroup"),
            line=self.line(element),
        )
        previous = self.permissions.get(name)
        if previous is not None:
            if (previous.protection_level, previous.group) != (level, permission.group):
                raise ManifestError(
                    f"found duplicate permission {name} with a different attribute value"
                )
            return
        self.permissions[name] = permission

    def read_uses_sdk(self, element: Element) -> None:
        min_vers, min_code, min_assigned = 1, None, False
        target_vers, target_code = 0, None
        min_attr = _attr(element, "minSdkVersion")
        if min_attr is not None:
            if min_attr.value.type == TYPE_STRING and min_attr.value.string is not None:
                min_code = min_attr.value.string
                min_assigned = bool(min_code)
            else:
                min_vers, min_assigned = min_attr.value.signed, True
        target_attr = _attr(element, "targetSdkVersion")
        if target_attr is not None:
            if target_attr.value.type == TYPE_STRING and target_attr.value.string is not None:
                target_code = target_attr.value.string
                if not min_assigned:
                    min_code = target_code
            else:
                target_vers = target_attr.value.signed
        else:
            target_vers, target_code = min_vers, min_code
        if min_attr is not None or target_attr is not None:
            # Without either (a source manifest's <uses-sdk tools:overrideLibrary=...>),
            # the levels stay the fallback: Android's 1 for a built manifest.
            self.target_sdk = CUR_DEVELOPMENT if target_code is not None else target_vers
            self.min_sdk = CUR_DEVELOPMENT if min_code is not None else min_vers
        max_attr = _attr(element, "maxSdkVersion")
        if max_attr is not None and max_attr.value.is_int:
            self.max_sdk = max_attr.value.signed

    def read_queries(self, element: Element) -> None:
        for child in element.children:
            if child.tag == "intent":
                self.consumed.add(id(child))
                intent = self.read_intent_filter(child)
                if not (intent.actions or intent.schemes or _has_data_type(child)):
                    raise ManifestError("<queries> intent must contain either an action or data")
                if len(intent.actions) > 1:
                    raise ManifestError("<queries> intent tag may have at most one action")
                self.queries_intents.append(intent)
            elif child.tag == "package":
                name = _string(child, "name")
                if not name:
                    raise ManifestError("Package name is missing from <queries> package tag")
                self.queries_packages.append(name)
            elif child.tag == "provider":
                self.consumed.add(id(child))
                authorities = _string(child, "authorities")
                if not authorities:
                    raise ManifestError("Authority missing from <queries> provider tag")
                self.queries_providers.extend(a for a in authorities.split(";") if a)

    def read_intent_filter(self, element: Element) -> IntentFilter:
        actions: list[str] = []
        categories: list[str] = []
        schemes: list[str] = []
        for child in element.children:
            if child.tag in ("action", "category"):
                attribute = child.by_name("name", ANDROID_NS)
                value = attribute.coerce_to_string() if attribute is not None else None
                if not value:
                    raise ManifestError(
                        f"<{child.tag}> in <{element.tag}>: No value supplied for <android:name>"
                    )
                (actions if child.tag == "action" else categories).append(value)
            elif child.tag == "data":
                scheme = _string(child, "scheme")
                if scheme is not None:
                    schemes.append(scheme)
        return IntentFilter(
            actions=tuple(actions),
            categories=tuple(categories),
            schemes=tuple(schemes),
            priority=_int(element, "priority", 0),
        )

    def read_application(self, element: Element) -> None:
        target = self.target_sdk
        name = _string(element, "name")
        allow_backup = _bool(element, "allowBackup", True)
        full_backup = _attr(element, "fullBackupContent")
        cleartext = _attr(element, "usesCleartextTraffic")
        self.label = _string(element, "label") or None
        self.application = Application(
            name=build_class_name(self.package, name) if name else None,
            debuggable=_bool(element, "debuggable", False),
            allow_backup=allow_backup,
            full_backup_content=allow_backup
            and full_backup is not None
            and (full_backup.value.is_reference or full_backup.value.data != 0),
            data_extraction_rules=_attr(element, "dataExtractionRules") is not None,
            uses_cleartext_traffic=(
                _bool(element, "usesCleartextTraffic", target is not None and target < 28)
                if cleartext
                else None
            ),
            network_security_config=_attr(element, "networkSecurityConfig") is not None,
            request_legacy_external_storage=_bool(
                element, "requestLegacyExternalStorage", target is not None and target < 29
            ),
            test_only=_bool(element, "testOnly", False),
            has_code=_bool(element, "hasCode", True),
            line=self.line(element),
        )
        app_permission = _string(element, "permission")
        activities: dict[str, Component] = {}
        for child in element.children:
            if child.tag in COMPONENT_TAGS:
                self.consumed.add(id(child))
                component = self.read_component(child, app_permission, activities)
                if child.tag == "activity":
                    activities[component.name] = component
                self.components.append(component)

    def read_component(
        self, element: Element, app_permission: str | None, activities: dict[str, Component]
    ) -> Component:
        kind = element.tag
        name = build_class_name(self.package, _required_string(element, "name", f"<{kind}>"))
        filters = []
        for child in element.children:
            if child.tag == "intent-filter":
                intent_filter = self.read_intent_filter(child)
                if intent_filter.actions:  # "No actions in intent-filter": dropped
                    filters.append(intent_filter)
        explicit = _bool(element, "exported", False) if _attr(element, "exported") else None
        if explicit is not None:
            exported = explicit
        elif kind == "provider":
            exported = self.target_sdk is not None and self.target_sdk < JELLY_BEAN_MR1
        else:
            exported = bool(filters)
            if filters:
                self.implicit_exported.append(f"<{kind}> {name}")
        permission = _string(element, "permission")
        target_activity = None
        if kind == "activity-alias":
            what = f"<activity-alias> {name}"
            raw_target = _required_string(element, "targetActivity", what)
            target_activity = build_class_name(self.package, raw_target)
            target = activities.get(target_activity)
            if target is None:
                raise ManifestError(
                    f"<activity-alias> {name}: target activity {target_activity} not found"
                )
            permission = permission if permission is not None else target.permission
        elif permission is None and kind != "provider":
            permission = app_permission
        read_permission = write_permission = None
        authorities: tuple[str, ...] = ()
        if kind == "provider":
            read_permission = _string(element, "readPermission") or permission or app_permission
            write_permission = _string(element, "writePermission") or permission or app_permission
            text = _required_string(element, "authorities", f"<provider> {name}")
            if not text.startswith("@0x"):  # a reference: unknown without resources.arsc
                authorities = tuple(a for a in text.split(";") if a)
        return Component(
            kind=kind,
            name=name,
            exported=exported,
            exported_explicit=explicit,
            enabled=_bool(element, "enabled", True),
            permission=permission,
            read_permission=read_permission,
            write_permission=write_permission,
            authorities=authorities,
            grant_uri_permissions=_bool(element, "grantUriPermissions", False),
            foreground_service_types=(
                foreground_service_names(_int(element, "foregroundServiceType", 0))
                if kind == "service"
                else ()
            ),
            isolated_process=kind == "service" and _bool(element, "isolatedProcess", False),
            external_service=kind == "service" and _bool(element, "externalService", False),
            target_activity=target_activity,
            intent_filters=tuple(filters),
            line=self.line(element),
        )

    def collect_ignored(self, root: Element, path: str) -> None:
        """Record manifest-level and component elements Android's parser never reads.

        Iterative (an explicit stack), so 1000 levels of nesting cannot hit Python's
        recursion limit; document order is kept.
        """
        stack = [(root, path)]
        while stack:
            element, where = stack.pop()
            for child in element.children:
                interesting = child.tag in MANIFEST_LEVEL_TAGS or child.tag in COMPONENT_TAGS
                if interesting and id(child) not in self.consumed:
                    self.ignored.append(
                        IgnoredElement(
                            tag=child.tag,
                            parent=where,
                            name=_string(child, "name"),
                            line=self.line(child),
                        )
                    )
            stack.extend((c, f"{where}/{c.tag}") for c in reversed(element.children))


def _has_data_type(element: Element) -> bool:
    return any(c.tag == "data" and _attr(c, "mimeType") is not None for c in element.children)


def _unique_permissions(items: list[UsesPermission]) -> tuple[UsesPermission, ...]:
    """First of each (element, name, max_sdk), sorted by (name, element, max_sdk)."""
    unique: dict[tuple[str, str, int | None], UsesPermission] = {}
    for item in items:
        unique.setdefault((item.element, item.name, item.max_sdk), item)
    return tuple(
        sorted(
            unique.values(),
            key=lambda p: (p.name, p.element, p.max_sdk is not None, p.max_sdk or 0),
        )
    )
