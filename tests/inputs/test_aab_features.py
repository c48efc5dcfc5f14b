"""Feature modules' own resources.pb: a module's manifest resolves against the tables Android
loads with its APK (``inputs.table_set``): its own, its ``<uses-split>`` parents', the base's
and, unless the base sets ``isolatedSplits``, every other module's.

Oracles, independent of the lazy reader and of the search: protobuf's full decode of every
module table (the schema of ``test_aab_resources``); the same app built as split APKs by
``arsc_writer``/``axml_writer``; the same bundle turned into split APKs by AOSP's own
``aapt2 convert`` (what bundletool runs), when aapt2 is installed; and, for the corpus
bundles, ``aapt2 dump resources`` of each module.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from fixtures import aab_writer as bw
from fixtures import arsc_writer
from fixtures import resource_apks as ra
from fixtures.axml_writer import Element, Ref, encode
from fixtures.bundle_writer import archive
from permaudit.inputs import aab
from permaudit.inputs.binary.arsc import TYPE_REFERENCE
from permaudit.inputs.binary.protoxml import parse_proto_xml
from permaudit.inputs.binary.respb import ProtoResourceTable
from permaudit.inputs.loader import load
from permaudit.inputs.resources import resolve
from permaudit.inputs.table_set import TableCache, TableSet, search_order, uses_split
from permaudit.model import Manifest
from tests.conftest import corpus_files
from tests.inputs.test_aab_resources import _defaults

AAPT2 = shutil.which("aapt2")
#: The fixture's ``<uses-split>``: maps depends on chat.
PARENTS = {"maps": "chat"}


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _decoded() -> dict[str, dict[int, object]]:
    """Every table of the fixture bundle, decoded in full by protobuf."""
    tables = {"base": bw.resource_table(bw.edge_types(), package=bw.EDGE_PACKAGE),
              **bw.feature_tables()}
    return {module: dict(_defaults(data)) for module, data in tables.items()}


def _loaded_with(module: str, isolated: bool) -> list[str]:
    """The modules whose tables Android loads for ``module``'s manifest, written out here
    from the two split asset loaders (not from ``table_set``)."""
    if not isolated:
        return ["base", *bw.FEATURE_PACKAGES]
    chain = [module]
    while chain[-1] in PARENTS:
        chain.append(PARENTS[chain[-1]])
    return [*chain, "base"]


def _component_refs() -> list[tuple[str, str, str, int]]:
    """(module, component name, attribute, reference) of the fixture's feature manifests."""
    found = []
    for module, root in bw.feature_manifests().items():
        application = next(c for c in root.children if c.tag == "application")
        for component in application.children:
            name = bw.EDGE_PACKAGE + str(component.attrs["android:name"])
            for key, value in component.attrs.items():
                if isinstance(value, Ref) and key in ("android:exported", "android:enabled"):
                    found.append((module, name, key.removeprefix("android:"), value.value))
    return found


@pytest.mark.parametrize("isolated", [False, True])
def test_feature_references_take_the_values_a_full_decode_of_the_right_table_gives(
    tmp_path: Path, isolated: bool,
) -> None:
    app = load(_write(tmp_path, "f.aab", bw.feature_bundle(isolated=isolated)), code=False)
    decoded = _decoded()
    components = {c.name: c for c in app.manifest.components}
    expected_unresolved = set()
    for module, name, attribute, ref in _component_refs():
        values = [decoded[m][ref] for m in _loaded_with(module, isolated) if ref in decoded[m]]
        component = components[name]
        got = component.exported if attribute == "exported" else component.enabled
        if values:
            assert got == values[0], (module, name, attribute)
        else:  # stays unresolved: the attribute's default applies (no intent filter here)
            assert got is (attribute == "enabled"), (module, name, attribute)
            if attribute == "exported":
                expected_unresolved.add((name, attribute, f"@0x{ref:08x}"))
    unresolved = {(u.component, u.attribute, u.reference): u.reason
                  for u in app.manifest.unresolved}
    assert set(unresolved) == expected_unresolved
    # news depends on no module: with isolated splits it does not see chat's table.
    feed = (bw.EDGE_PACKAGE + ".news.Feed", "exported", f"@0x{bw.CHAT_EXPORTED:08x}")
    assert (feed in unresolved) is isolated
    if isolated:
        assert unresolved[feed] == (f"split news: no entry @0x{bw.CHAT_EXPORTED:08x} in "
                                    "news/resources.pb, base/resources.pb")
    gone = (bw.EDGE_PACKAGE + ".chat.Gone", "exported", f"@0x{bw.CHAT_MISSING:08x}")
    assert unresolved[gone].startswith(
        f"split chat: no entry @0x{bw.CHAT_MISSING:08x} in chat/resources.pb, base/resources.pb")
    # The base manifest is as before: its own table answers.
    assert app.manifest.label == "Edge Bundle" and app.manifest.target_sdk == 34


def _comparable(manifest: Manifest) -> tuple[object, ...]:
    """What must agree between a bundle and its split APKs (reasons name other files)."""
    return (manifest.label, manifest.components,
            sorted((u.component or "", u.attribute, u.reference) for u in manifest.unresolved))


def _apks_from_writers() -> bytes:
    """The fixture app as a base APK and one split APK per feature (binary XML, arsc)."""
    types = bw.edge_types()
    types["bool"]["hdpi_true"] = {"": True}  # arsc_writer writes locale configs only
    members = {"base.apk": ra.build_apk(bw.feature_base_manifest(), ra.edge_files(), types)}
    for module, root in bw.feature_manifests().items():
        table = arsc_writer.build_table(bw.feature_types()[module], package_name=bw.EDGE_PACKAGE,
                                        package_id=bw.FEATURE_PACKAGES[module])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as apk:
            apk.writestr("AndroidManifest.xml", encode(root))
            apk.writestr("resources.arsc", table)
        members[f"{module}.apk"] = buffer.getvalue()
    return archive(members)


def test_the_same_app_as_split_apks_reads_the_same(tmp_path: Path) -> None:
    types = bw.edge_types()
    types["bool"]["hdpi_true"] = {"": True}
    tables = bw.feature_tables()
    bundle = bw.build_aab(
        bw.feature_base_manifest(), types, ra.edge_files(), package=bw.EDGE_PACKAGE,
        modules={m: (root, tables[m]) for m, root in bw.feature_manifests().items()})
    for locale in (None, "ru"):
        from_bundle = load(_write(tmp_path, "f.aab", bundle), code=False, locale=locale)
        from_apks = load(_write(tmp_path, "f.apks", _apks_from_writers()), code=False,
                         locale=locale)
        assert _comparable(from_bundle.manifest) == _comparable(from_apks.manifest)
    reasons = {u.component: u.reason for u in from_apks.manifest.unresolved}
    assert reasons[bw.EDGE_PACKAGE + ".chat.Gone"] == (
        f"split chat: no entry @0x{bw.CHAT_MISSING:08x} in resources.arsc of chat.apk, "
        "resources.arsc of base.apk, resources.arsc of maps.apk, resources.arsc of news.apk")


def _proto_apk(bundle: zipfile.ZipFile, module: str) -> bytes:
    """A bundle module laid out as aapt2's proto-format APK (manifest at the root)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name in bundle.namelist():
            if not name.startswith(module + "/"):
                continue
            inner = name[len(module) + 1:]
            skipped = inner.startswith(("dex/", "lib/", "root/", "assets/"))
            if skipped or (inner.endswith(".pb") and inner != "resources.pb"):
                continue
            out.writestr("AndroidManifest.xml" if inner == "manifest/AndroidManifest.xml"
                         else inner, bundle.read(name))
    return buffer.getvalue()


@pytest.mark.skipif(AAPT2 is None, reason="aapt2 not installed")
def test_the_bundle_converted_by_aapt2_reads_the_same(tmp_path: Path) -> None:
    """``aapt2 convert --output-format binary`` turns each module into the split APK
    bundletool would build (its own resources.arsc and binary manifest). aapt2 wants every
    file the table names: the edge table's unused debug config gets one."""
    files = {**ra.edge_files(), "res/xml/network_security_config_debug.xml": ra.edge_nsc()}
    tables = bw.feature_tables()
    data = bw.build_aab(
        bw.feature_base_manifest(), bw.edge_types(), files, package=bw.EDGE_PACKAGE,
        modules={m: (root, tables[m]) for m, root in bw.feature_manifests().items()})
    members = {}
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        for module in ("base", *bw.FEATURE_PACKAGES):
            source = _write(tmp_path, f"{module}.proto.apk", _proto_apk(bundle, module))
            target = tmp_path / f"{module}.apk"
            subprocess.run([AAPT2 or "aapt2", "convert", "--output-format", "binary", "-o",
                            str(target), source], check=True, capture_output=True)
            members[f"{module}.apk"] = target.read_bytes()
    from_apks = load(_write(tmp_path, "c.apks", archive(members)), code=False)
    from_bundle = load(_write(tmp_path, "f.aab", data), code=False)
    assert _comparable(from_bundle.manifest) == _comparable(from_apks.manifest)
    assert from_apks.manifest.unresolved  # the missing entries stay missing


# --- the corpus bundles ---------------------------------------------------------------


def _corpus_bundles() -> list[Path]:
    return corpus_files("bundles", "*.aab")


def _module_tables(bundle: zipfile.ZipFile) -> dict[str, bytes]:
    return {name.split("/")[0]: bundle.read(name) for name in bundle.namelist()
            if name.count("/") == 1 and name.endswith("/resources.pb")}


def _aapt2_defaults(bundle: zipfile.ZipFile, module: str, tmp_path: Path) -> dict[int, object]:
    """The default-configuration value ``aapt2 dump resources`` prints for each entry of
    ``module``'s table (strings, booleans, integers; others are left out)."""
    path = _write(tmp_path, f"{module}.proto.apk", _proto_apk(bundle, module))
    out = subprocess.run([AAPT2 or "aapt2", "dump", "resources", path], check=True,
                         capture_output=True, text=True).stdout
    found: dict[int, object] = {}
    current = None
    for line in out.splitlines():
        match = re.match(r"\s+resource 0x([0-9a-f]{8}) ", line)
        if match:
            current = int(match.group(1), 16)
            continue
        default = re.match(r"\s+\(\) (.*)$", line)
        if current is None or default is None:
            continue
        text = default.group(1)
        string = re.match(r'"(.*)"( src=.*)?$', text)
        if string:
            found[current] = string.group(1)
        elif text in ("true", "false"):
            found[current] = text == "true"
        elif re.fullmatch(r"-?\d+", text):
            found[current] = ("prim", int(text))
        current = None
    return found


@pytest.mark.parametrize("path", _corpus_bundles(), ids=lambda p: p.name)
def test_corpus_feature_module_references_resolve_as_their_tables_say(
    path: Path, tmp_path: Path,
) -> None:
    """Every reference of every feature module manifest of the corpus bundles (any
    attribute) that has a default value: resolved through the module's table set, it is
    the value protobuf's full decode (and aapt2's dump) gives in the one module table that
    has the id."""
    with zipfile.ZipFile(path) as bundle:
        tables = _module_tables(bundle)
        roots = {name.split("/")[0]: parse_proto_xml(bundle.read(name))
                 for name in bundle.namelist() if name.endswith("/manifest/AndroidManifest.xml")}
        dumps = ({m: _aapt2_defaults(bundle, m, tmp_path) for m in tables}
                 if AAPT2 is not None else {})
    decoded = {m: dict(_defaults(data)) for m, data in tables.items()}
    cache = TableCache({m: (lambda d=data: ProtoResourceTable(d)) for m, data in tables.items()},
                       {m: f"{m}/resources.pb" for m in tables})
    parents = {m: (None if m == "base" else uses_split(root)) for m, root in roots.items()}
    checked = 0
    for module, root in roots.items():
        if module == "base":
            continue
        table = TableSet(cache, search_order(module, base="base", parents=parents,
                                             isolated=False))
        stack = [root]
        while stack:
            element = stack.pop()
            stack.extend(element.children)
            for attribute in element.attributes:
                if attribute.value.type != TYPE_REFERENCE or attribute.value.data >> 24 == 1:
                    continue
                ref = attribute.value.data
                owners = [m for m in decoded if ref in decoded[m]]
                assert len(owners) <= 1, (hex(ref), owners)  # bundletool: ids are unique
                if not owners:
                    continue  # no default value (a bag, or only density configs): not compared
                got = resolve(table, ref).value
                expected = decoded[owners[0]][ref]
                if isinstance(expected, tuple):  # ("prim", n) / ("ref", id): compare ints only
                    expected = expected[1] if expected[0] == "prim" else got
                assert got == expected, (module, element.tag, attribute.name, hex(ref))
                if owners and ref in dumps.get(owners[0], {}):
                    dumped = dumps[owners[0]][ref]
                    assert got == (dumped[1] if isinstance(dumped, tuple) else dumped)
                checked += 1
    assert checked > 0
    app = load(str(path), code=False)
    assert app.manifest.unresolved == ()


# --- bounded, lazy, hostile ---------------------------------------------------------------


def test_feature_tables_are_read_only_when_a_reference_needs_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[str] = []
    real = aab._table

    def spy(stream, directory, entry, evidence, budget):  # type: ignore[no-untyped-def]
        read.append(entry.name if entry is not None else "-")
        return real(stream, directory, entry, evidence, budget)

    monkeypatch.setattr(aab, "_table", spy)
    plain = {m: (bw._feature(m, ()), t) for m, t in bw.feature_tables().items()}
    bundle = bw.build_aab(bw.edge_manifest(), bw.edge_types(), ra.edge_files(),
                          package=bw.EDGE_PACKAGE, modules=plain)
    load(_write(tmp_path, "p.aab", bundle), code=False)
    assert read == ["base/resources.pb"]
    read.clear()
    load(_write(tmp_path, "f.aab", bw.feature_bundle()), code=False)
    assert sorted(read) == ["base/resources.pb", "chat/resources.pb", "maps/resources.pb",
                            "news/resources.pb"]


def test_a_broken_or_missing_feature_table_is_named_in_the_reason(tmp_path: Path) -> None:
    tables: dict[str, bytes | None] = dict(bw.feature_tables())
    tables["chat"] = b"\x12\xff\xff\xff\x0f"
    tables["maps"] = None
    modules = {m: (root, tables[m]) for m, root in bw.feature_manifests().items()}
    bundle = bw.build_aab(bw.edge_manifest(), bw.edge_types(), ra.edge_files(),
                          package=bw.EDGE_PACKAGE, modules=modules)
    app = load(_write(tmp_path, "b.aab", bundle), code=False)
    reasons = {u.component: u.reason or "" for u in app.manifest.unresolved}
    chat = reasons[bw.EDGE_PACKAGE + ".chat.Chat"]
    assert chat.startswith(f"split chat: no entry @0x{bw.CHAT_EXPORTED:08x} in chat/resources."
                           "pb (chat/resources.pb cannot be read (resources.pb: ")
    assert "maps/resources.pb (none)" in reasons[bw.EDGE_PACKAGE + ".maps.Tiles"]
    # The base's own references do not depend on the features' tables.
    assert app.manifest.label == "Edge Bundle"


def test_the_tables_of_a_bundle_share_one_size_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = len(bw.resource_table(bw.edge_types(), package=bw.EDGE_PACKAGE))
    monkeypatch.setattr(aab, "MAX_TABLE_SIZE", base + 10)
    app = load(_write(tmp_path, "f.aab", bw.feature_bundle()), code=False)
    reasons = {u.component: u.reason or "" for u in app.manifest.unresolved}
    assert "chat/resources.pb not read: the bundle's resource tables together exceed " \
        f"{base + 10} bytes" in reasons[bw.EDGE_PACKAGE + ".chat.Chat"]
    assert app.manifest.label == "Edge Bundle"


def test_a_uses_split_cycle_ends_the_search() -> None:
    parents = {"base": None, "a": "b", "b": "c", "c": "a"}
    assert search_order("a", base="base", parents=parents, isolated=True) == [
        "a", "b", "c", "base"]
    assert search_order("a", base="base", parents=parents, isolated=False) == [
        "a", "b", "c", "base"]
    assert search_order("base", base="base", parents=parents, isolated=True) == ["base"]
    assert search_order("base", base="base", parents=parents, isolated=False) == [
        "base", "a", "b", "c"]
    # An unknown parent (Android refuses the set) ends the chain too.
    assert search_order("x", base="base", parents={"base": None, "x": "nope"},
                        isolated=True) == ["x", "base"]


def test_only_the_first_uses_split_counts() -> None:
    root = parse_proto_xml(bw.xml_node(Element(tag="manifest", children=(
        Element(tag="uses-split", attrs={"android:name": "chat"}),
        Element(tag="uses-split", attrs={"android:name": "maps"}),
    ))))
    assert uses_split(root) == "chat"


def test_loose_split_apks_resolve_across_their_tables_too(tmp_path: Path) -> None:
    from permaudit.inputs.loader import load_inputs

    with zipfile.ZipFile(io.BytesIO(_apks_from_writers())) as members:
        paths = [_write(tmp_path, name, members.read(name)) for name in members.namelist()]
    (loose,) = load_inputs(paths, code=False)
    from_apks = load(_write(tmp_path, "f.apks", _apks_from_writers()), code=False)
    assert _comparable(loose.manifest) == _comparable(from_apks.manifest)
    assert {u.component for u in loose.manifest.unresolved} == {
        bw.EDGE_PACKAGE + ".chat.Gone", bw.EDGE_PACKAGE + ".maps.Far"}


def test_a_search_visits_at_most_max_tables() -> None:
    from permaudit.inputs.table_set import MAX_TABLES

    names = [f"m{i:04d}" for i in range(1000)]
    parents: dict[str, str | None] = {"base": None, **{n: None for n in names}}
    assert len(search_order("m0000", base="base", parents=parents, isolated=False)) \
        == MAX_TABLES
    chain = {"base": None, **{n: (names[i + 1] if i + 1 < len(names) else None)
                              for i, n in enumerate(names)}}
    order = search_order("m0000", base="base", parents=chain, isolated=True)
    assert len(order) == MAX_TABLES and order[-1] == "base"


def test_many_feature_modules_with_missing_references_stay_bounded(tmp_path: Path) -> None:
    """400 modules, each naming an entry no table has: each search stops at MAX_TABLES
    tables, each table is read once."""
    modules = {
        f"f{i:03d}": (bw._feature(f"f{i:03d}", (Element(tag="service", attrs={
            "android:name": f".S{i}", "android:exported": Ref(0x80020063)}),)),
            bw.resource_table({"bool": {"x": {"": True}}}, package=bw.EDGE_PACKAGE,
                              package_id=0x80 + i % 100))
        for i in range(400)
    }
    bundle = bw.build_aab(bw.edge_manifest(), bw.edge_types(), ra.edge_files(),
                          package=bw.EDGE_PACKAGE, modules=modules)
    app = load(_write(tmp_path, "many.aab", bundle), code=False)
    assert len(app.manifest.unresolved) == 400
    assert all(u.reason and u.reason.endswith("and 252 more") for u in app.manifest.unresolved)
