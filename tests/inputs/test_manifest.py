"""Manifest semantics of ParsingPackageUtils, on synthetic binary manifests.

The manifests are real AXML bytes from ``fixtures.axml_writer`` (attributes sorted by
resource id, as aapt2 writes them) decoded by our own decoder, so each test runs the same
path as an APK does.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from fixtures.axml_writer import Element, Hex, Ref, Value, encode
from permaudit.android.attributes import ANDROID_NS, ATTRIBUTE_IDS
from permaudit.errors import ManifestError
from permaudit.inputs.binary import xmltree as tree
from permaudit.inputs.binary.axml import parse_axml
from permaudit.inputs.manifest import CUR_DEVELOPMENT, parse_manifest
from permaudit.model import USES_PERMISSION, USES_PERMISSION_SDK_23, Manifest

PKG = "com.example.app"
P = "android.permission."


def read(*children: Element, attrs: Mapping[str, Value] | None = None) -> Manifest:
    root = Element("manifest", {"package": PKG, **(attrs or {})}, children)
    return parse_manifest(parse_axml(encode(root)), with_lines=False)


def sdk(min_sdk: Value | None = None, target: Value | None = None) -> Element:
    attrs: dict[str, Value] = {}
    if min_sdk is not None:
        attrs["android:minSdkVersion"] = min_sdk
    if target is not None:
        attrs["android:targetSdkVersion"] = target
    return Element("uses-sdk", attrs)


def perm(name: Value, tag: str = "uses-permission", **attrs: Value) -> Element:
    return Element(tag, {"android:name": name, **{f"android:{k}": v for k, v in attrs.items()}})


def app(*children: Element, **attrs: Value) -> Element:
    return Element("application", {f"android:{k}": v for k, v in attrs.items()}, children)


def component(kind: str, name: str, *children: Element, **attrs: Value) -> Element:
    full = {"android:name": name, **{f"android:{k}": v for k, v in attrs.items()}}
    return Element(kind, full, children)


def intent_filter(*actions: str) -> Element:
    return Element("intent-filter", {}, [Element("action", {"android:name": a}) for a in actions])


def test_defaults_without_uses_sdk() -> None:
    manifest = read(app())
    assert (manifest.min_sdk, manifest.target_sdk, manifest.version_code) == (1, 1, None)
    application = manifest.application
    assert application.allow_backup and application.has_code and not application.debuggable
    assert application.uses_cleartext_traffic is None
    # requestLegacyExternalStorage defaults to targetSdk < Q (29).
    assert application.request_legacy_external_storage


@pytest.mark.parametrize(
    ("min_sdk", "target", "expected"),
    [
        (21, None, (21, 21)),  # targetSdk defaults to minSdk
        (None, 30, (1, 30)),
        ("VanillaIceCream", 34, (CUR_DEVELOPMENT, 34)),
        (None, "VanillaIceCream", (CUR_DEVELOPMENT, CUR_DEVELOPMENT)),  # min takes target's code
        (21, "Baklava", (21, CUR_DEVELOPMENT)),
    ],
)
def test_uses_sdk(min_sdk: Value | None, target: Value | None, expected: tuple[int, int]) -> None:
    manifest = read(sdk(min_sdk, target))
    assert (manifest.min_sdk, manifest.target_sdk) == expected


def test_version_code_major() -> None:
    manifest = read(attrs={"android:versionCode": 25, "android:versionCodeMajor": 1})
    assert manifest.version_code == (1 << 32) | 25


def test_version_name_reference_is_unknown() -> None:
    """aapt resolves @7f040001 through resources.arsc; without it the value is None."""
    assert read(attrs={"android:versionName": Ref(0x7F040001)}).version_name is None
    assert read(attrs={"android:versionName": "1.2"}).version_name == "1.2"


def test_uses_permission_spellings_and_sdk_23() -> None:
    manifest = read(
        perm(P + "CAMERA"),
        perm(P + "READ_CONTACTS", "uses-permission-sdk-23"),
        perm(P + "RECORD_AUDIO", "uses-permission-sdk-m"),
    )
    assert [(u.element, u.name) for u in manifest.uses_permissions] == [
        (USES_PERMISSION, P + "CAMERA"),
        (USES_PERMISSION_SDK_23, P + "READ_CONTACTS"),
        (USES_PERMISSION_SDK_23, P + "RECORD_AUDIO"),
    ]


def test_duplicates_are_merged_but_distinct_max_sdk_kept() -> None:
    manifest = read(
        perm(P + "INTERNET"),
        perm(P + "INTERNET"),
        perm(P + "WRITE_EXTERNAL_STORAGE", maxSdkVersion=18),
        perm(P + "WRITE_EXTERNAL_STORAGE"),
    )
    assert [(u.name, u.max_sdk) for u in manifest.uses_permissions] == [
        (P + "INTERNET", None),
        (P + "WRITE_EXTERNAL_STORAGE", None),
        (P + "WRITE_EXTERNAL_STORAGE", 18),
    ]


def test_max_sdk_only_from_int_types() -> None:
    """parseMinOrMaxSdkVersion reads TYPE_FIRST_INT..TYPE_LAST_INT only."""
    (entry,) = read(perm(P + "CAMERA", maxSdkVersion="18")).uses_permissions
    assert entry.max_sdk is None


def test_flags_and_features_of_uses_permission() -> None:
    (entry,) = read(
        perm(P + "BLUETOOTH_SCAN", usesPermissionFlags=Hex(0x10000), requiredFeature="f.x")
    ).uses_permissions
    assert (entry.never_for_location, entry.required_feature) == (True, "f.x")


def test_uses_permission_name_reference_is_dropped_and_listed() -> None:
    """getNonResourceString: a reference gives null and the element is skipped."""
    manifest = read(perm(Ref(0x7F0B0001)))
    assert manifest.uses_permissions == ()
    assert [(i.tag, i.parent) for i in manifest.ignored] == [("uses-permission", "manifest")]


def test_nested_uses_permission_is_ignored() -> None:
    """parseBaseApkTags reads only direct children of <manifest>; parseBaseApplication sends
    an unknown child to ParsingUtils.unknownTag, which skips it and its subtree."""
    manifest = read(
        perm(P + "INTERNET"),
        app(perm(P + "READ_SMS"), component("activity", ".Main", perm(P + "CAMERA"))),
        Element("queries", {}, [perm(P + "RECORD_AUDIO")]),
    )
    assert [u.name for u in manifest.uses_permissions] == [P + "INTERNET"]
    ignored = {(i.tag, i.parent, i.name) for i in manifest.ignored}
    assert ignored == {
        ("uses-permission", "manifest/application", P + "READ_SMS"),
        ("uses-permission", "manifest/application/activity", P + "CAMERA"),
        ("uses-permission", "manifest/queries", P + "RECORD_AUDIO"),
    }


def test_second_application_is_ignored() -> None:
    manifest = read(
        app(component("activity", ".A")), app(component("service", ".S"), debuggable=True)
    )
    assert [c.name for c in manifest.components] == [f"{PKG}.A"]
    assert not manifest.application.debuggable
    assert {(i.tag, i.parent) for i in manifest.ignored} == {
        ("application", "manifest"),
        ("service", "manifest/application"),
    }


def test_component_names_are_resolved_against_the_package() -> None:
    manifest = read(
        app(
            component("activity", ".Dot"),
            component("activity", "Bare"),
            component("service", "org.other.Full"),
        )
    )
    assert [c.name for c in manifest.components] == [
        f"{PKG}.Bare",
        f"{PKG}.Dot",
        "org.other.Full",
    ]


def test_exported_implied_by_intent_filters_before_s() -> None:
    manifest = read(
        sdk(21, 30),
        app(
            component("activity", ".Open", intent_filter("a.VIEW")),
            component("activity", ".Closed"),
            component("receiver", ".NoAction", Element("intent-filter", {}, [])),
            component("service", ".Explicit", intent_filter("a.X"), exported=False),
        ),
    )
    exported = {
        c.name.rsplit(".", 1)[1]: (c.exported, c.exported_explicit) for c in manifest.components
    }
    assert exported == {
        "Open": (True, None),
        "Closed": (False, None),
        "NoAction": (False, None),  # intent-filter without actions is dropped
        "Explicit": (False, False),
    }


def test_missing_exported_with_intent_filter_is_rejected_from_s() -> None:
    """DeferredError.MISSING_EXPORTED_FLAG is enabled for targetSdk >= 31: install fails."""
    with pytest.raises(ManifestError, match="explicit value for android:exported"):
        read(sdk(21, 31), app(component("activity", ".Open", intent_filter("a.VIEW"))))
    ok = read(sdk(21, 31), app(component("activity", ".Open", intent_filter("a.V"), exported=True)))
    assert ok.components[0].exported


@pytest.mark.parametrize(("target", "exported"), [(16, True), (17, False)])
def test_provider_default_export_changed_in_api_17(target: int, exported: bool) -> None:
    manifest = read(sdk(9, target), app(component("provider", ".P", authorities="a.b")))
    (provider,) = manifest.components
    assert (provider.exported, provider.authorities) == (exported, ("a.b",))


def test_provider_without_authorities_is_rejected() -> None:
    with pytest.raises(ManifestError, match="authorities"):
        read(app(component("provider", ".P")))


def test_application_permission_is_the_component_default() -> None:
    manifest = read(
        app(
            component("activity", ".A"),
            component("service", ".S", permission="p.OWN"),
            component("provider", ".P", authorities="x.y", readPermission="p.READ"),
            permission="p.APP",
        )
    )
    by_kind = {c.kind: c for c in manifest.components}
    assert by_kind["activity"].permission == "p.APP"
    assert by_kind["service"].permission == "p.OWN"
    assert (by_kind["provider"].read_permission, by_kind["provider"].write_permission) == (
        "p.READ",
        "p.APP",
    )


def test_foreground_service_types_are_decoded() -> None:
    manifest = read(
        app(component("service", ".S", foregroundServiceType=Hex(0x40 | 0x80 | 0x40000000)))
    )
    assert manifest.components[0].foreground_service_types == ("camera", "microphone", "specialUse")


@pytest.mark.parametrize(
    ("level", "names"),
    [
        (0, ("normal",)),
        (1, ("dangerous",)),
        (3, ("signature", "privileged")),  # fixProtectionLevel
        (0x2 | 0x40 | 0x8000000, ("signature", "appop", "knownSigner")),
    ],
)
def test_protection_levels(level: int, names: tuple[str, ...]) -> None:
    (declared,) = read(
        Element("permission", {"android:name": "p.X", "android:protectionLevel": Hex(level)})
    ).permissions
    assert (declared.protection_level, declared.protection) == (level, names)


def test_permission_without_a_dot_gets_the_package_prefix() -> None:
    """parseComponent runs buildClassName on permission names too."""
    (declared,) = read(Element("permission", {"android:name": "LOCAL"})).permissions
    assert declared.name == f"{PKG}.LOCAL"


def test_features_and_queries() -> None:
    manifest = read(
        Element(
            "uses-feature", {"android:name": "android.hardware.camera", "android:required": False}
        ),
        Element("uses-feature", {"android:glEsVersion": Hex(0x30000)}),
        Element(
            "queries",
            {},
            [
                Element("package", {"android:name": "com.other"}),
                Element("intent", {}, [Element("action", {"android:name": "a.SEND"})]),
                Element("provider", {"android:authorities": "x.one;x.two"}),
            ],
        ),
    )
    assert [(f.name, f.required, f.gl_es_version) for f in manifest.features] == [
        (None, True, 0x30000),
        ("android.hardware.camera", False, None),
    ]
    assert manifest.queries.packages == ("com.other",)
    assert manifest.queries.providers == ("x.one", "x.two")
    assert [i.actions for i in manifest.queries.intents] == [("a.SEND",)]


def test_target_sdk_applies_in_document_order() -> None:
    """parseBaseAppBasicFlags reads pkg.getTargetSdkVersion() when <application> is parsed:
    a <uses-sdk> written after it does not change the application's defaults."""
    before = read(sdk(21, 30), app())
    after = read(app(), sdk(21, 30))
    assert not before.application.request_legacy_external_storage
    assert after.application.request_legacy_external_storage
    assert after.target_sdk == 30


@pytest.mark.parametrize(
    ("root", "message"),
    [
        (Element("application", {"package": PKG}), "not <manifest>"),
        (Element("manifest", {}), "no package"),
        (Element("manifest", {"package": "nodots"}), "at least one '.'"),
        (Element("manifest", {"package": "com.1bad"}), "bad character"),
        (Element("manifest", {"android:name": PKG}), "no package"),  # must be un-namespaced
    ],
)
def test_manifests_android_rejects(root: Element, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        parse_manifest(parse_axml(encode(root)))


def test_framework_package_name_is_exempt() -> None:
    assert (
        parse_manifest(parse_axml(encode(Element("manifest", {"package": "android"})))).package
        == "android"
    )


def test_deep_nesting_within_the_decoder_bound_does_not_recurse() -> None:
    """999 nested elements (the decoder allows 1000) end in a Manifest, not RecursionError.
    Built as an xmltree directly: the fixture writer itself recurses."""
    name = tree.Attribute(
        namespace=ANDROID_NS,
        name="name",
        resource_id=ATTRIBUTE_IDS["name"],
        value=tree.TypedValue(type=tree.TYPE_STRING, string=P + "CAMERA"),
    )
    inner = tree.Element(tag="uses-permission", attributes=(name,))
    for _ in range(997):
        inner = tree.Element(tag="x", children=(inner,))
    package = tree.Attribute(namespace=None, name="package", raw=PKG)
    manifest = parse_manifest(
        tree.Element(tag="manifest", attributes=(package,), children=(inner,))
    )
    assert manifest.uses_permissions == ()
    (ignored,) = manifest.ignored
    assert (ignored.tag, ignored.parent.count("/"), ignored.name) == (
        "uses-permission",
        997,
        P + "CAMERA",
    )


def test_references_android_would_resolve_are_reported_not_guessed() -> None:
    """Android reads these values from resources.arsc; permaudit keeps the default and
    says so, so a debuggable app written as android:debuggable="@bool/x" is not silently
    reported as not debuggable."""
    manifest = read(
        perm(P + "CAMERA", maxSdkVersion=Ref(0x7F0A0001)),
        app(
            component("activity", ".Open", intent_filter("a.b.C"), exported=Ref(0x7F050001)),
            component("activity", ".Plain", exported=False, enabled=Ref(0x7F050002)),
            debuggable=Ref(0x7F030000),
        ),
        attrs={"android:versionName": Ref(0x7F040001)},
    )
    assert manifest.application.debuggable is False  # the default, as before
    found = {(u.tag, u.component, u.attribute, u.reference) for u in manifest.unresolved}
    assert found == {
        ("manifest", None, "versionName", "@0x7f040001"),
        ("uses-permission", None, "maxSdkVersion", "@0x7f0a0001"),
        ("application", None, "debuggable", "@0x7f030000"),
        ("activity", PKG + ".Open", "exported", "@0x7f050001"),
    }  # enabled is not reported: its default (true) is the cautious reading


def test_literal_values_leave_nothing_unresolved() -> None:
    manifest = read(
        sdk(21, 34),
        app(component("service", ".S", exported=True), debuggable=True),
        attrs={"android:versionName": "1.0"},
    )
    assert manifest.unresolved == ()
