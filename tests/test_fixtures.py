"""Fixture APKs: AXML writer, reproducible builds, decoding by aapt, androguard and permaudit."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixtures import build
from fixtures.axml_writer import Element, Hex, Ref, attribute_id, encode
from fixtures.icon_png import ICON_PATH
from tests.conftest import FIXTURES, REPO

PROFILES = sorted((FIXTURES / "profiles").glob("*.yml"))
EDGES = sorted((FIXTURES / "edge").glob("*.yml"))
FACTS = REPO.parent / "shared" / "messengers"
AAPT = shutil.which("aapt")

Entry = tuple[str, str, int | None]


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _apk(spec: Path) -> Path:
    if spec.parent.name == "edge":
        return FIXTURES / "apk" / "edge" / f"{spec.stem}.apk"
    return FIXTURES / "apk" / f"{_yaml(spec)['fixture']}.apk"


def _profile_entries(profile: dict[str, Any]) -> set[Entry]:
    return {(e["element"], e["name"], e.get("maxSdkVersion")) for e in profile["uses_permissions"]}


def _edge_entries(spec: dict[str, Any]) -> set[Entry]:
    return {(e["element"], e["name"], e["max_sdk"]) for e in spec["expect"]["uses_permissions"]}


def _expected(spec: Path) -> set[Entry]:
    data = _yaml(spec)
    return _edge_entries(data) if spec.parent.name == "edge" else _profile_entries(data)


def _manifest(apk: Path) -> bytes:
    with zipfile.ZipFile(apk) as archive:
        return archive.read("AndroidManifest.xml")


# --- a tiny independent chunk walker for the writer's own tests ---------------------------


def _chunks(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(type, header size, offset, size) of each chunk in data[start:end]."""
    pos = start
    while pos < end:
        ctype, hsize, size = struct.unpack_from("<HHI", data, pos)
        yield ctype, hsize, pos, size
        pos += size


def _decode(
    data: bytes,
) -> tuple[list[str], list[int], list[tuple[str, list[tuple[str, int, int]]]]]:
    """String pool, resource map, and (tag, [(attr name, type, data)]) per start element."""
    assert struct.unpack_from("<HH", data, 0) == (0x0003, 8)
    strings: list[str] = []
    res_map: list[int] = []
    elements = []
    for ctype, hsize, pos, size in _chunks(data, 8, len(data)):
        if ctype == 0x0001:
            count, _, flags, strings_start, _ = struct.unpack_from("<IIIII", data, pos + 8)
            assert flags == 0  # UTF-16
            offsets = struct.unpack_from(f"<{count}I", data, pos + hsize)
            for off in offsets:
                at = pos + strings_start + off
                (n,) = struct.unpack_from("<H", data, at)
                strings.append(data[at + 2 : at + 2 + 2 * n].decode("utf-16-le"))
        elif ctype == 0x0180:
            res_map = list(struct.unpack_from(f"<{(size - 8) // 4}I", data, pos + 8))
        elif ctype == 0x0102:
            _, name, _, _, count, _, _, _ = struct.unpack_from("<IIHHHHHH", data, pos + 16)
            attrs = []
            for i in range(count):
                _, a_name, _, _, _, dtype, value = struct.unpack_from(
                    "<IIIHBBI", data, pos + 36 + 20 * i
                )
                attrs.append((strings[a_name], dtype, value))
            elements.append((strings[name], attrs))
    return strings, res_map, elements


def test_resource_map_lines_up_with_the_first_strings() -> None:
    root = Element(
        "manifest",
        {"package": "p", "android:versionCode": 1},
        [
            Element("uses-permission", {"android:maxSdkVersion": 28, "android:name": "name"}),
        ],
    )
    strings, res_map, _ = _decode(encode(root))
    assert res_map == sorted(res_map)
    assert strings[: len(res_map)] == ["name", "versionCode", "maxSdkVersion"]
    assert res_map == [attribute_id(s) for s in strings[: len(res_map)]]
    # the value "name" is a separate string from the attribute name "name", as in aapt2
    assert strings.count("name") == 2


def test_attributes_are_sorted_by_resource_id_unless_told_otherwise() -> None:
    attrs = {"android:permission": "P", "android:exported": True, "android:name": "S"}
    sorted_el = _decode(encode(Element("manifest", {}, [Element("service", attrs)])))[2][1]
    as_written = _decode(
        encode(Element("manifest", {}, [Element("service", attrs, sort_attrs=False)]))
    )[2][1]
    assert [a[0] for a in sorted_el[1]] == ["name", "permission", "exported"]
    assert [a[0] for a in as_written[1]] == ["permission", "exported", "name"]


def test_typed_values() -> None:
    root = Element(
        "x",
        {
            "android:exported": True,
            "android:enabled": False,
            "android:versionCode": 7,
            "android:protectionLevel": Hex(0x12),
            "android:networkSecurityConfig": Ref(0x7F180006),
            "android:name": "n",
            "package": "p",
        },
    )
    strings, _, elements = _decode(encode(root))
    got = {name: (dtype, value) for name, dtype, value in elements[0][1]}
    assert got["exported"] == (0x12, 0xFFFFFFFF)
    assert got["enabled"] == (0x12, 0)
    assert got["versionCode"] == (0x10, 7)
    assert got["protectionLevel"] == (0x11, 0x12)
    assert got["networkSecurityConfig"] == (0x01, 0x7F180006)
    assert got["name"][0] == 0x03 and strings[got["name"][1]] == "n"
    # no-namespace attributes have no resource id and come after the framework ones
    assert elements[0][1][-1][0] == "package"


def test_writer_rejects_unknown_attributes() -> None:
    with pytest.raises(ValueError, match="no known resource id"):
        encode(Element("manifest", {"android:notAnAttribute": "x"}))
    with pytest.raises(ValueError, match="only the android: prefix"):
        encode(Element("manifest", {"tools:node": "replace"}))


def test_compile_value_follows_aapt2() -> None:
    assert build.compile_value("android:protectionLevel", "signature|privileged") == Hex(0x12)
    assert build.compile_value(
        "foregroundServiceType", "phoneCall|mediaProjection|camera|microphone"
    ) == Hex(0xE4)
    assert build.compile_value("usesPermissionFlags", "neverForLocation") == Hex(0x10000)
    assert build.compile_value("glEsVersion", "0x00020000") == Hex(0x20000)
    assert build.compile_value("android:networkSecurityConfig", "@0x7f180006") == Ref(0x7F180006)
    assert build.compile_value("android:exported", True) is True
    assert build.compile_value("android:versionName", "1.0") == "1.0"
    with pytest.raises(ValueError, match="unknown flag"):
        build.compile_value("protectionLevel", "signatre")


def test_qualify_class_names_like_aapt2() -> None:
    assert build.qualify("org.x", ".a.B") == "org.x.a.B"
    assert build.qualify("org.x", "B") == "org.x.B"
    assert build.qualify("org.x", "com.y.B") == "com.y.B"


# --- reproducible builds -------------------------------------------------------------------


def test_committed_apks_rebuild_byte_for_byte() -> None:
    result = subprocess.run(
        [sys.executable, str(FIXTURES / "build.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_check_names_the_differing_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(FIXTURES / "apk", tmp_path / "apk")
    changed = tmp_path / "apk" / "max-25.8.1.apk"
    changed.write_bytes(changed.read_bytes() + b"\0")
    (tmp_path / "apk" / "edge" / "sdk23-element.apk").unlink()
    (tmp_path / "apk" / "stale.apk").write_bytes(b"")
    assert build.main(["--check", "--out", str(tmp_path / "apk")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "fixtures/build.py: edge/sdk23-element.apk: not committed",
        "fixtures/build.py: stale.apk: no spec builds it",
        "fixtures/build.py: max-25.8.1.apk: bytes differ",
    ]


def test_every_spec_has_a_committed_apk_and_the_demo_fixture_exists() -> None:
    assert (FIXTURES / "apk" / "max-25.8.1.apk").is_file()
    for spec in PROFILES + EDGES:
        assert _apk(spec).is_file(), spec


@pytest.mark.parametrize("spec", PROFILES + EDGES, ids=lambda p: p.stem)
def test_zip_layout_is_fixed(spec: Path) -> None:
    with zipfile.ZipFile(_apk(spec)) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    if spec.parent.name != "edge":
        # The messenger fixtures carry a synthetic launcher icon (fixtures/icon_png.py).
        assert names == ["AndroidManifest.xml", "resources.arsc", "classes.dex", ICON_PATH]
    elif "resources" in _yaml(spec):
        assert names == ["AndroidManifest.xml", "resources.arsc"]
    else:
        assert names == ["AndroidManifest.xml"]
    for info in infos:
        assert info.compress_type == zipfile.ZIP_STORED
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr == build.ZIP_EXTERNAL_ATTR
    for info in infos[1:]:
        data_start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        assert data_start % 4 == 0, info.filename


# --- code facts -> classes.dex -------------------------------------------------------------

CODE_FACTS = sorted((FIXTURES / "code").glob("*.yml"))
DEXDUMP = shutil.which("dexdump")


def _dex(apk: Path) -> bytes:
    with zipfile.ZipFile(apk) as archive:
        return archive.read("classes.dex")


def _defined(dex: bytes) -> list[str]:
    """Java names of the classes ``dex`` defines, sorted (permaudit's reader)."""
    from permaudit.inputs.binary.dex import read_dex

    parsed = read_dex(dex)
    return sorted(parsed.types[t][1:-1].replace("/", ".") for t in parsed.class_defs)


def test_every_messenger_profile_has_code_facts() -> None:
    fixtures = {f for p in CODE_FACTS for f in _yaml(p)["fixtures"]}
    assert fixtures == {_yaml(p)["fixture"] for p in PROFILES}


@pytest.mark.parametrize("path", CODE_FACTS, ids=lambda p: p.stem)
def test_code_facts_are_the_shared_facts(path: Path) -> None:
    code = _yaml(path)
    facts_path = REPO.parent / code["facts"]
    if not facts_path.is_file():
        pytest.skip(f"facts not found at {facts_path}")
    facts = _yaml(facts_path)
    if "total_classes" in facts:  # a class list: prefixes with counts, strings, API refs
        want = [(s["prefix"], s["classes"], s["representative_class"]) for s in facts["sdks"]]
        got = [(s["prefix"], s["classes"], s["representative_class"]) for s in code["sdks"]]
        assert got == want
        assert code["strings"]["urls"] == facts["urls"]
        written = {a["api"]: a["call_sites"] for a in code["api_references"]}
        skipped = set(code["api_references_not_written"])
        called = {a["api"]: a["call_sites"] for a in facts["api_references"]["apis"]}
        assert written == {k: v for k, v in called.items() if v and k not in skipped}
    else:  # declared dependencies: one class per expected prefix, hosts as given
        want_prefixes = {
            p.strip()
            for s in facts["sdks"]
            if s["expected_dex_prefix"] not in code["sdks_not_written"]
            for p in s["expected_dex_prefix"].split(",")
        }
        assert {s["prefix"] for s in code["sdks"]} == want_prefixes
        assert code["strings"]["hosts_not_in_urls"] == [h["host"] for h in facts.get("hosts", ())]
    texts = code["strings"]["urls"] + code["strings"]["hosts_not_in_urls"]
    for host in facts.get("hosts", ()):  # every host the facts name is in some string
        assert any(host["host"] in text for text in texts), host


@pytest.mark.parametrize("path", CODE_FACTS, ids=lambda p: p.stem)
def test_fixture_dex_holds_each_prefix_with_its_count(path: Path) -> None:
    code = _yaml(path)
    for fixture in code["fixtures"]:
        defined = _defined(_dex(FIXTURES / "apk" / f"{fixture}.apk"))
        for sdk in code["sdks"]:
            dotted = sdk["prefix"].replace("/", ".") + "."
            assert sum(1 for c in defined if c.startswith(dotted)) == sdk["classes"], sdk["prefix"]
            if sdk.get("representative_class"):
                assert sdk["representative_class"][1:-1].replace("/", ".") in defined


def test_sdk_classes_refuses_counts_that_contradict() -> None:
    sdks = [{"prefix": "a/b", "classes": 1}]
    assert build.sdk_classes(sdks) == {"La/b/Fixture0001;"}
    with pytest.raises(ValueError, match="a/b: 2 named classes but the facts count 1"):
        build.sdk_classes(sdks, ["La/b/X;", "La/b/Y;"])


@pytest.mark.skipif(DEXDUMP is None, reason="dexdump not installed (apt-get install dexdump)")
@pytest.mark.parametrize("spec", PROFILES, ids=lambda p: p.stem)
def test_dexdump_reads_the_fixture_dex_and_its_classes(spec: Path, tmp_path: Path) -> None:
    dex = tmp_path / "classes.dex"
    dex.write_bytes(_dex(_apk(spec)))
    result = subprocess.run(
        [DEXDUMP or "dexdump", "-c", str(dex)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    out = subprocess.run(
        [DEXDUMP or "dexdump", str(dex)], capture_output=True, text=True, check=True
    ).stdout
    descriptors = re.findall(r"^  Class descriptor  : '(L[^']+;)'", out, re.MULTILINE)
    assert sorted(d[1:-1].replace("/", ".") for d in descriptors) == _defined(dex.read_bytes())




# --- profiles against the facts ------------------------------------------------------------


@pytest.mark.parametrize("app", ["max", "whatsapp", "telegram", "signal"])
def test_profile_lists_equal_the_facts(app: str) -> None:
    facts_path = FACTS / f"{app}.yml"
    if not facts_path.is_file():
        pytest.skip(f"facts not found at {facts_path}")
    facts = _yaml(facts_path)
    profile = _yaml(FIXTURES / "profiles" / f"{app}.yml")
    want = [
        (p["element"], p["name"], p.get("maxSdkVersion"), p.get("usesPermissionFlags"))
        for p in facts["permissions"]
    ]
    got = [
        (p["element"], p["name"], p.get("maxSdkVersion"), p.get("usesPermissionFlags"))
        for p in profile["uses_permissions"]
    ]
    assert got == want
    assert [p["sources"] for p in profile["uses_permissions"]] == [
        p["sources"] for p in facts["permissions"]
    ]
    assert [p["name"] for p in profile["permissions"]] == [
        p["name"] for p in facts["declared_permissions"]
    ]
    assert [
        (f.get("name"), f.get("glEsVersion"), f["required"]) for f in profile["uses_features"]
    ] == [(f.get("name"), f.get("glEsVersion"), f["required"]) for f in facts["uses_features"]]
    assert profile["sources"] == facts["sources"]


def test_max_variant_is_the_facts_delta() -> None:
    facts_path = FACTS / "max.yml"
    if not facts_path.is_file():
        pytest.skip(f"facts not found at {facts_path}")
    variant = _yaml(facts_path)["variants"][0]
    old = _profile_entries(_yaml(FIXTURES / "profiles" / "max.yml"))
    new = _profile_entries(_yaml(FIXTURES / "profiles" / "max-26.19.2.yml"))
    assert len(new) == variant["uses_permission_entries"] == 53
    assert {n for _, n, _ in old - new} == set(variant["permissions_removed_vs_25.8.1"]) | {
        "android.permission.WRITE_EXTERNAL_STORAGE"
    }
    assert {n for _, n, _ in new - old} == {
        p["name"] for p in variant["permissions_added_vs_25.8.1"]
    } | {"android.permission.WRITE_EXTERNAL_STORAGE"}
    assert ("uses-permission", "android.permission.WRITE_EXTERNAL_STORAGE", 29) in new


@pytest.mark.parametrize("spec", PROFILES, ids=lambda p: p.stem)
def test_profile_counts_match_its_lists(spec: Path) -> None:
    profile = _yaml(spec)
    elements = [e["element"] for e in profile["uses_permissions"]]
    assert profile["counts"] == {
        "uses-permission": elements.count("uses-permission"),
        "uses-permission-sdk-23": elements.count("uses-permission-sdk-23"),
        "permission": len(profile["permissions"]),
        "uses-feature": len(profile["uses_features"]),
    }
    assert len(_profile_entries(profile)) == len(elements), "duplicate entries"


# --- aapt ----------------------------------------------------------------------------------

needs_aapt = pytest.mark.skipif(AAPT is None, reason="Debian aapt not installed")
_PERM_LINE = re.compile(
    r"^(uses-permission(?:-sdk-23)?): name='([^']*)'(?: maxSdkVersion='(\d+)')?$"
)


def _aapt(*args: str) -> str:
    result = subprocess.run([AAPT or "aapt", *args], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@needs_aapt
@pytest.mark.parametrize("spec", PROFILES + EDGES, ids=lambda p: p.stem)
def test_aapt_dump_permissions_is_exactly_the_spec(spec: Path) -> None:
    lines = _aapt("dump", "permissions", str(_apk(spec))).splitlines()
    entries: set[Entry] = set()
    declared = []
    for line in lines[1:]:
        if line.startswith("permission: "):
            declared.append(line.removeprefix("permission: "))
            continue
        match = _PERM_LINE.match(line)
        assert match, f"unexpected aapt line {line!r}"
        element, name, max_sdk = match.groups()
        entries.add((element, name, int(max_sdk) if max_sdk else None))
    assert len(entries) == len(lines) - 1 - len(declared), "duplicate lines"
    assert entries == _expected(spec)
    data = _yaml(spec)
    want_declared = data.get("permissions") or data["expect"].get("permissions") or []
    assert declared == [p["name"] for p in want_declared]


@needs_aapt
@pytest.mark.parametrize("spec", PROFILES, ids=lambda p: p.stem)
def test_aapt_badging_gives_package_version_and_sdk(spec: Path) -> None:
    profile = _yaml(spec)
    out = _aapt("dump", "badging", str(_apk(spec)))
    code = profile["versionCode"] or ""
    name = profile["versionName"] or ""
    assert f"package: name='{profile['package']}' versionCode='{code}' versionName='{name}'" in out
    sdk = profile["sdk"]
    if sdk["minSdkVersion"] is not None:
        assert f"sdkVersion:'{sdk['minSdkVersion']}'\n" in out
    assert f"targetSdkVersion:'{sdk['targetSdkVersion']}'\n" in out


@needs_aapt
@pytest.mark.parametrize("spec", PROFILES, ids=lambda p: p.stem)
def test_aapt_resolves_the_label_from_resources_arsc(spec: Path) -> None:
    profile = _yaml(spec)
    label = profile["resources"]["strings"]["app_name"]["value"]
    assert f"application-label:'{label}'\n" in _aapt("dump", "badging", str(_apk(spec)))


@needs_aapt
@pytest.mark.parametrize("spec", PROFILES + EDGES, ids=lambda p: p.stem)
def test_aapt_xmltree_parses(spec: Path) -> None:
    out = _aapt("dump", "xmltree", str(_apk(spec)), "AndroidManifest.xml")
    assert out.startswith("N: android=http://schemas.android.com/apk/res/android\n  E: manifest")


# --- androguard (test-only, as an independent decoder) -------------------------------------


@pytest.fixture
def quiet_androguard() -> Iterator[None]:
    from loguru import logger

    logger.disable("androguard")
    yield
    logger.enable("androguard")


@pytest.mark.usefixtures("quiet_androguard")
@pytest.mark.parametrize("spec", PROFILES + EDGES, ids=lambda p: p.stem)
def test_androguard_decodes_the_same_permissions(spec: Path) -> None:
    from androguard.core.axml import AXMLPrinter

    printer = AXMLPrinter(_manifest(_apk(spec)))
    assert printer.is_valid()
    root = printer.get_xml_obj()
    ns = "{http://schemas.android.com/apk/res/android}"
    tags = {
        "uses-permission": "uses-permission",
        "uses-permission-sdk-23": "uses-permission-sdk-23",
        "uses-permission-sdk-m": "uses-permission-sdk-23",
    }
    got = set()
    for child in root:
        if child.tag in tags:
            max_sdk = child.get(f"{ns}maxSdkVersion")
            got.add((tags[child.tag], child.get(f"{ns}name"), int(max_sdk) if max_sdk else None))
    assert got == _expected(spec)


# --- permaudit's own reader ----------------------------------------------------------------


def _load(apk: Path) -> Any:
    sources = pytest.importorskip("permaudit.inputs.loader")
    if not hasattr(sources, "load"):
        pytest.skip("permaudit.inputs.loader.load not written yet")
    return sources.load(str(apk))


@pytest.mark.parametrize("spec", PROFILES, ids=lambda p: p.stem)
def test_permaudit_reads_every_profile_entry(spec: Path) -> None:
    profile = _yaml(spec)
    manifest = _load(_apk(spec)).manifest
    got = {(p.element, p.name, p.max_sdk) for p in manifest.uses_permissions}
    assert got == _profile_entries(profile)
    assert len(manifest.uses_permissions) == len(profile["uses_permissions"])
    never = {p.name for p in manifest.uses_permissions if p.never_for_location}
    assert never == {e["name"] for e in profile["uses_permissions"] if e.get("usesPermissionFlags")}
    assert manifest.package == profile["package"]
    assert manifest.version_code == profile["versionCode"]
    assert manifest.target_sdk == profile["sdk"]["targetSdkVersion"]
    assert {p.name for p in manifest.permissions} == {p["name"] for p in profile["permissions"]}


@pytest.mark.parametrize("spec", EDGES, ids=lambda p: p.stem)
def test_permaudit_reads_each_edge_case_as_android_does(spec: Path) -> None:
    expect = _yaml(spec)["expect"]
    manifest = _load(_apk(spec)).manifest
    assert {(p.element, p.name, p.max_sdk) for p in manifest.uses_permissions} == _edge_entries(
        {"expect": expect}
    )
    components = {(c.kind, c.name): c for c in manifest.components}
    for want in expect.get("components", ()):
        component = components[(want["kind"], want["name"])]
        assert component.exported is want["exported"], want["name"]
        if "permission" in want:
            assert component.permission == want["permission"], want["name"]
    for want in expect.get("permissions", ()):
        declared = {p.name: p.protection_level for p in manifest.permissions}
        assert declared[want["name"]] == want["protection_level"]
    if "ignored" in expect:
        assert {(i.tag, i.parent, i.name) for i in manifest.ignored} == {
            (i["tag"], i["parent"], i["name"]) for i in expect["ignored"]
        }
    for key in ("min_sdk", "target_sdk"):
        if key in expect:
            assert getattr(manifest, key) == expect[key]
    for key, value in (expect.get("application") or {}).items():
        assert getattr(manifest.application, key) == value
    _check_resources(_apk(spec), manifest, expect)


def _check_resources(apk: Path, manifest: Any, expect: dict[str, Any]) -> None:
    """The parts of an edge case that come from its resources.arsc."""
    if "label" in expect:
        assert manifest.label == expect["label"]
    for locale, label in (expect.get("labels") or {}).items():
        app = _load_locale(apk, locale)
        assert (app.locale, app.manifest.label) == (locale, label), locale
    if "version_name" in expect:
        assert manifest.version_name == expect["version_name"]
    if "disabled" in expect:
        assert sorted(c.name for c in manifest.components if not c.enabled) == expect["disabled"]
    if "unresolved" in expect:
        got = {u.attribute: u.reason for u in manifest.unresolved}
        assert got == {u["attribute"]: u["reason"] for u in expect["unresolved"]}


def _load_locale(apk: Path, locale: str) -> Any:
    from permaudit.inputs.loader import load

    return load(str(apk), locale=locale)


RESOURCE_EDGES = [p for p in EDGES if "resources" in _yaml(p)]


def test_edge_cases_with_resources_exist() -> None:
    names = {p.stem for p in RESOURCE_EDGES}
    assert {"label-by-reference", "flags-by-reference", "unresolved-references"} <= names


@needs_aapt
@pytest.mark.parametrize("spec", RESOURCE_EDGES, ids=lambda p: p.stem)
def test_aapt_dump_resources_reads_the_written_table(spec: Path) -> None:
    """Every entry of the spec's ``resources:`` is in aapt's dump, under its id and config,
    with the value type aapt shows (t=0x03 string, 0x12 bool, 0x10 int, 0x01 reference)."""
    from fixtures.build import resource_ids

    resources = _yaml(spec)["resources"]
    ids = resource_ids(resources)
    out = _aapt("dump", "--values", "resources", str(_apk(spec)))
    config = None
    seen: dict[tuple[str, str], str] = {}
    for line in out.splitlines():
        head = re.match(r"^\s+config (.*):$", line)
        if head:
            config = "" if head.group(1) == "(default)" else head.group(1)
            continue
        entry = re.match(r"^\s+resource 0x([0-9a-f]{8}) [^:]+:(\w+/\w+): t=0x([0-9a-f]{2})", line)
        if entry and config is not None:
            assert int(entry.group(1), 16) == ids["@" + entry.group(2)]
            seen[(entry.group(2), config)] = entry.group(3)
    want = {}
    for type_name, entries in resources.items():
        for name, configs in entries.items():
            for cfg, value in configs.items():
                kind = (
                    "01" if isinstance(value, str) and value.startswith("@")
                    else "03" if isinstance(value, str)
                    else "12" if isinstance(value, bool) else "10"
                )
                want[(f"{type_name}/{name}", str(cfg).replace("-", "-r"))] = kind
    assert seen == want


@needs_aapt
def test_aapt_badging_label_by_reference_and_its_russian_translation() -> None:
    out = _aapt("dump", "badging", str(FIXTURES / "apk" / "edge" / "label-by-reference.apk"))
    assert "versionName='2.5.0'" in out
    assert "application-label:'Example Messenger'\n" in out
    assert "application-label-ru:'Пример мессенджера'\n" in out
    app = _load(FIXTURES / "apk" / "edge" / "label-by-reference.apk")
    assert app.manifest.label == "Example Messenger"
    assert _load_locale(FIXTURES / "apk" / "edge" / "label-by-reference.apk", "ru").manifest.label \
        == "Пример мессенджера"


@needs_aapt
def test_aapt_badging_debuggable_by_reference() -> None:
    apk = FIXTURES / "apk" / "edge" / "flags-by-reference.apk"
    assert "\napplication-debuggable\n" in _aapt("dump", "badging", str(apk))
    assert _load(apk).manifest.application.debuggable is True


@needs_aapt
@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("sdk-by-reference", "ERROR getting 'android:minSdkVersion' attribute"),
        ("unresolved-references", "ERROR getting 'android:testOnly' attribute"),
    ],
)
def test_aapt_badging_limits_we_document(name: str, error: str) -> None:
    """Debian's aapt 0.2 badging stops where these specs say; Android (and we) read on."""
    result = subprocess.run(
        [AAPT or "aapt", "dump", "badging", str(FIXTURES / "apk" / "edge" / f"{name}.apk")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode != 0 and error in result.stderr


def test_whatsapp_sdk23_and_max_max_sdk_survive_end_to_end() -> None:
    whatsapp = _load(FIXTURES / "apk" / "whatsapp-2.24.24.78.apk").manifest
    sdk23 = {p.name for p in whatsapp.uses_permissions if p.element == "uses-permission-sdk-23"}
    assert sdk23 == {
        "android.permission.CALL_PHONE",
        "android.permission.ANSWER_PHONE_CALLS",
        "android.permission.READ_CALL_LOG",
    }
    limited = {p.name: p.max_sdk for p in whatsapp.uses_permissions if p.max_sdk is not None}
    assert limited == {"android.permission.BLUETOOTH_ADMIN": 30}
    for apk, write_max in (("max-25.8.1.apk", 28), ("max-26.19.2.apk", 29)):
        manifest = _load(FIXTURES / "apk" / apk).manifest
        limited = {p.name: p.max_sdk for p in manifest.uses_permissions if p.max_sdk is not None}
        assert limited == {
            "android.permission.BLUETOOTH": 30,
            "android.permission.READ_EXTERNAL_STORAGE": 32,
            "android.permission.WRITE_EXTERNAL_STORAGE": write_max,
        }


def test_permaudit_reads_back_a_generated_manifest(tmp_path: Path) -> None:
    """A manifest built in the test (40 permissions, each its own maxSdk) reads back exactly."""
    names = [f"android.permission.P{i}" for i in range(40)]
    root = Element(
        "manifest",
        {"package": "com.example.gen"},
        [
            Element("uses-sdk", {"android:minSdkVersion": 21, "android:targetSdkVersion": 34}),
            *[
                Element("uses-permission", {"android:name": n, "android:maxSdkVersion": 20 + i})
                for i, n in enumerate(names)
            ],
            Element("application"),
        ],
    )
    path = tmp_path / "generated.apk"
    path.write_bytes(build.apk_bytes(encode(root)))
    manifest = _load(path).manifest
    assert {(p.name, p.max_sdk) for p in manifest.uses_permissions} == {
        (n, 20 + i) for i, n in enumerate(names)
    }
