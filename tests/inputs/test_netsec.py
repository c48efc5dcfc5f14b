"""Network security config and backup rules: edge APKs built with resources, Android's
XmlConfigSource semantics, the rules they feed, hostile files, aapt as an oracle."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fixtures import resource_apks as ra
from fixtures.axml_writer import Element, encode
from permaudit.errors import ManifestError
from permaudit.inputs.apk import load
from permaudit.inputs.binary.axml import parse_axml
from permaudit.inputs.binary.xmltree import Element as XmlElement
from permaudit.inputs.loader import load as load_any
from permaudit.inputs.netsec import manifest_only, model_config
from permaudit.inputs.resource_xml import decode_file
from permaudit.inputs.text_resource_xml import parse_resource_xml


def _apk(tmp_path: Path, name: str = "edge.apk", **kwargs: object) -> Path:
    files = kwargs.pop("files", None)
    path = tmp_path / name
    path.write_bytes(ra.build_apk(ra.manifest(**kwargs), files or ra.edge_files()))  # type: ignore[arg-type]
    return path


def _scan(path: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "permaudit", "scan", "--format", "json", str(path)],
        capture_output=True, text=True, check=False,
    )
    assert out.returncode in (0, 1), out.stderr
    app: dict[str, object] = json.loads(out.stdout)["apps"][0]
    return app


def _model(root: Element, *, target: int = 34, debuggable: bool = False):  # type: ignore[no-untyped-def]
    return model_config(parse_axml(encode(root)), target_sdk=target, debuggable=debuggable)


def test_edge_release_build_model(tmp_path: Path) -> None:
    ns = load(str(_apk(tmp_path, target=34)), code=False).network_security
    assert ns is not None and ns.source == "config"
    assert ns.path == "res/xml/network_security_config.xml"
    assert ns.base is not None
    assert not ns.base.cleartext_permitted and ns.base.trusts_user
    first, nested, pinned = ns.domains
    assert [(d.name, d.include_subdomains) for d in first.domains] == [
        ("api.example.ru", True), ("10.0.2.2", False)]  # lower-cased as Locale.US
    assert first.config.cleartext_permitted and first.depth == 1
    # the nested domain-config refuses cleartext and inherits the base's anchors
    assert nested.depth == 2 and not nested.config.cleartext_permitted
    assert nested.config.trust_anchors == ns.base.trust_anchors
    assert pinned.config.pins is not None
    assert pinned.config.pins.expiration == "2018-01-01"
    assert pinned.config.pins.pins == (ra.PIN_A, ra.PIN_B)
    assert [(a.kind, a.src, a.override_pins) for a in pinned.config.trust_anchors] == [
        ("resource", "res/raw/my_ca.pem", True), ("system", "system", False)]
    assert ns.has_debug_overrides and not ns.debug_overrides_active
    assert [a.src for a in ns.debug_anchors] == ["user"]


def test_edge_debug_build_adds_debug_anchors_where_anchors_are_own(tmp_path: Path) -> None:
    ns = load(str(_apk(tmp_path, target=34, debuggable=True)), code=False).network_security
    assert ns is not None and ns.debug_overrides_active
    assert ns.base is not None
    # base-config has its own anchors: debug anchors (user, overridePins default true) added
    assert ("user", True) in [(a.src, a.override_pins) for a in ns.base.trust_anchors]
    pinned = ns.domains[2].config
    assert ("user", True) in [(a.src, a.override_pins) for a in pinned.trust_anchors]


def test_edge_findings_and_json(tmp_path: Path) -> None:
    app = _scan(_apk(tmp_path, target=34))
    fired = {(f["rule"], f["subject"]) for f in app["findings"]}  # type: ignore[index,union-attr]
    assert ("network_security.user_certificates", "user_ca:*") in fired
    assert ("network_security.cleartext", "cleartext:api.example.ru") in fired
    assert ("network_security.pins_expire", "pins:pinned.example.com") in fired
    assert ("network_security.pins_overridable", "pins_override:pinned.example.com") in fired
    assert ("network_security.debug_overrides", "debug-overrides") in fired
    assert ("hardening.backup_without_rules", "android:allowBackup") in fired
    # the NSC decides: no manifest-attribute cleartext finding
    assert not any(rule == "hardening.cleartext_traffic" for rule, _ in fired)
    messages = {f["rule"]: f["message"] for f in app["findings"]}  # type: ignore[index,union-attr]
    assert "cleartext allowed to *.api.example.ru, 10.0.2.2" in messages[
        "network_security.cleartext"]
    assert "not enforced after 2018-01-01" in messages["network_security.pins_expire"]
    assert "device-transfer" in messages["hardening.backup_without_rules"]
    assert "cloud-backup" not in messages["hardening.backup_without_rules"]
    ns = app["network_security"]
    assert ns["cleartext_domains"] == ["10.0.2.2", "api.example.ru"]  # type: ignore[index]
    backup = {b["kind"]: b for b in app["backup"]}  # type: ignore[union-attr,index]
    cloud = backup["dataExtractionRules"]["sections"][0]
    assert cloud["name"] == "cloud-backup" and not cloud["excludes_nothing"]
    assert cloud["includes"][0]["require_flags"] == ["clientSideEncryption"]
    full = backup["fullBackupContent"]["sections"][0]
    assert [e["path"] for e in full["excludes"]] == ["tokens.xml", "messages.db"]
    assert "nowhere" in backup["fullBackupContent"]["problems"][0]


def test_debug_build_does_not_flag_user_ca_or_shipped_overrides(tmp_path: Path) -> None:
    app = _scan(_apk(tmp_path, target=34, debuggable=True))
    rules = {f["rule"] for f in app["findings"]}  # type: ignore[index,union-attr]
    assert "network_security.user_certificates" not in rules
    assert "network_security.debug_overrides" not in rules
    assert "hardening.debuggable" in rules


def test_backup_excluding_everywhere_does_not_fire(tmp_path: Path) -> None:
    app = _scan(_apk(tmp_path, target=34, files=ra.edge_files(transfer_excludes=True)))
    assert "hardening.backup_without_rules" not in {f["rule"] for f in app["findings"]}  # type: ignore[index,union-attr]


def test_old_target_uses_full_backup_content(tmp_path: Path) -> None:
    # targetSdk < 31: dataExtractionRules are not used; fullBackupContent excludes files
    app = _scan(_apk(tmp_path, target=30))
    assert "hardening.backup_without_rules" not in {f["rule"] for f in app["findings"]}  # type: ignore[index,union-attr]


def test_uses_cleartext_ignored_when_config_present(tmp_path: Path) -> None:
    app = _scan(_apk(tmp_path, target=34, uses_cleartext=True))
    assert "hardening.cleartext_traffic" not in {f["rule"] for f in app["findings"]}  # type: ignore[index,union-attr]
    plain = _scan(_apk(tmp_path, "plain.apk", target=34, nsc=False, uses_cleartext=True))
    assert "hardening.cleartext_traffic" in {f["rule"] for f in plain["findings"]}  # type: ignore[index,union-attr]
    assert plain["network_security"]["source"] == "default"  # type: ignore[index]


@pytest.mark.parametrize(("target", "cleartext", "user"), [
    (23, True, True), (24, True, False), (27, True, False), (28, False, False)])
def test_target_sdk_defaults(target: int, cleartext: bool, user: bool) -> None:
    ns = manifest_only(target, None)
    assert ns.base is not None
    assert (ns.base.cleartext_permitted, ns.base.trusts_user) == (cleartext, user)
    empty = _model(Element("network-security-config"), target=target)
    assert empty.base is not None
    assert (empty.base.cleartext_permitted, empty.base.trusts_user) == (cleartext, user)


def test_domain_inherits_platform_default_not_set_values() -> None:
    root = Element("network-security-config", children=[
        Element("domain-config", children=[Element("domain", text="a.org")])])
    ns = _model(root, target=27)
    assert ns.domains[0].config.cleartext_permitted  # platform default for targetSdk 27


def test_string_boolean_counts_as_set_to_the_default() -> None:
    # getAttributeBooleanValue on a string gives the default (true), and the value is set
    root = Element("network-security-config", children=[
        Element("base-config", {"cleartextTrafficPermitted": "false"})])
    ns = _model(root, target=34)
    assert ns.base is not None and ns.base.cleartext_permitted


@pytest.mark.parametrize(("root", "reason"), [
    (Element("network-security"), "root element"),
    (Element("network-security-config", children=[Element("base-config"),
                                                   Element("base-config")]), "only one base"),
    (Element("network-security-config", children=[Element("domain-config")]), "no domain"),
    (Element("network-security-config", children=[Element("domain-config", children=[
        Element("domain", text="a.org"), Element("domain", text="A.org")])]), "already"),
    (Element("network-security-config", children=[Element("base-config", children=[
        Element("pin-set")])]), "pin-set element not allowed"),
    (Element("network-security-config", children=[Element("domain-config", children=[
        Element("domain", text="a.org"),
        Element("pin-set", children=[Element("pin", {"digest": "SHA-256"}, text="AAAA")])])]),
     "needs 32"),
    (Element("network-security-config", children=[Element("domain-config", children=[
        Element("domain", text="a.org"), Element("pin-set", {"expiration": "2018-13-01"})])]),
     "invalid expiration"),
    (Element("network-security-config", children=[Element("base-config", children=[
        Element("trust-anchors", children=[Element("certificates", {"src": "usr"})])])]),
     "unknown certificates src"),
    (Element("network-security-config", children=[Element("debug-overrides"),
                                                   Element("debug-overrides")]), "only one debug"),
])
def test_invalid_files(root: Element, reason: str) -> None:
    ns = _model(root)
    assert ns.source == "invalid" and ns.base is None
    assert reason in ns.problems[0]


def test_invalid_debug_overrides_only_matter_when_debuggable() -> None:
    root = Element("network-security-config", children=[Element("debug-overrides", children=[
        Element("domain", text="a.org")])])
    assert _model(root, debuggable=False).source == "config"
    assert _model(root, debuggable=True).source == "invalid"


def test_expiration_prefix_is_what_simpledateformat_parses() -> None:
    root = Element("network-security-config", children=[Element("domain-config", children=[
        Element("domain", text="a.org"),
        Element("pin-set", {"expiration": "2030-1-2T00"},
                children=[Element("pin", {"digest": "sha-256"}, text=ra.PIN_A)])])])
    pins = _model(root).domains[0].config.pins
    assert pins is not None and pins.expiration == "2030-01-02"


def test_hostile_deep_nesting_is_iterative_and_bounded() -> None:
    inner = Element("domain-config", children=[Element("domain", text="d0.org")])
    for i in range(1, 900):
        inner = Element("domain-config", {"cleartextTrafficPermitted": i == 1},
                        children=[Element("domain", text=f"d{i}.org"), inner])
    root = Element("network-security-config", children=[inner])
    start = time.perf_counter()
    ns = _model(root)
    assert time.perf_counter() - start < 2
    assert len(ns.domains) == 900 and ns.domains[-1].depth == 900
    # d1 sets cleartext true; d0 (nested inside it) inherits it
    assert ns.domains[-1].config.cleartext_permitted
    assert not ns.domains[0].config.cleartext_permitted


def test_hostile_huge_counts_are_linear() -> None:
    domains = [Element("domain", text=f"h{i}.example") for i in range(20000)]
    root = Element("network-security-config", children=[
        Element("domain-config", {"cleartextTrafficPermitted": True}, children=domains)])
    start = time.perf_counter()
    ns = _model(root)
    assert time.perf_counter() - start < 5
    assert len(ns.domains[0].domains) == 20000


def test_hostile_missing_and_undecodable_files(tmp_path: Path) -> None:
    files = ra.edge_files()
    files["res/xml/network_security_config.xml"] = b"\x03\x00\x08\x00\xff\xff\xff\x7f"
    del files["res/xml/backup_rules.xml"]
    app = load(str(_apk(tmp_path, target=34, files=files)), code=False)
    assert app.network_security is not None and app.network_security.source == "unread"
    assert "cannot be decoded" in app.network_security.problems[0]
    full = next(b for b in app.backup if b.kind == "fullBackupContent")
    assert "not in the archive" in full.problems[0]


def test_reference_loop_for_the_config_stays_unread(tmp_path: Path) -> None:
    types: ra.Types = {"xml": {"a": {"": ra.TableRef(0x7F010001)},
                               "b": {"": ra.TableRef(0x7F010000)}}}
    root = ra.manifest(target=34, backup=False)
    path = tmp_path / "loop.apk"
    path.write_bytes(ra.build_apk(root, {}, types))
    ns = load(str(path), code=False).network_security
    assert ns is not None and ns.source == "unread"
    assert "longer than" in ns.problems[0]


@pytest.mark.skipif(shutil.which("aapt") is None, reason="aapt not installed")
def test_aapt_reads_the_edge_files(tmp_path: Path) -> None:
    path = _apk(tmp_path, target=34)
    tree = subprocess.run(
        ["aapt", "dump", "xmltree", str(path), "res/xml/network_security_config.xml"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert 'C: "API.Example.ru"' in tree and "E: debug-overrides" in tree
    table = subprocess.run(["aapt", "dump", "resources", str(path)],
                           capture_output=True, text=True, check=True).stdout
    assert "xml/network_security_config" in table


# --- androguard as an independent decoder of the written files ------------------------------


@pytest.fixture
def quiet_androguard() -> Iterator[None]:
    from loguru import logger

    logger.disable("androguard")
    yield
    logger.enable("androguard")


@pytest.mark.usefixtures("quiet_androguard")
@pytest.mark.parametrize("tree", [ra.edge_nsc(), ra.full_backup(), ra.extraction()],
                         ids=["nsc", "full-backup", "extraction"])
def test_androguard_reads_the_same_tree(tree: Element) -> None:
    from androguard.core.axml import AXMLPrinter

    data = encode(tree)
    theirs = AXMLPrinter(data).get_xml_obj()
    ours = parse_axml(data)

    def flat_theirs(node: Any) -> list[tuple[str, str | None, dict[str, str]]]:
        out = [(node.tag, node.text, dict(node.attrib))]
        for child in node:
            out.extend(flat_theirs(child))
        return out

    def flat_ours(node: XmlElement) -> list[tuple[str, str | None, dict[str, str]]]:
        attrs = {a.name or "": (a.coerce_to_string() or "") for a in node.attributes}
        out = [(node.tag, node.text, attrs)]
        for child in node.children:
            out.extend(flat_ours(child))
        return out

    mine = flat_ours(ours)
    other = flat_theirs(theirs)
    assert [t for t, _, _ in mine] == [t for t, _, _ in other]
    assert [x for _, x, _ in mine] == [x for _, x, _ in other]  # text of <domain>, <pin>
    # androguard prints references as @7F020000 and booleans as true/false
    normal = [{k: v.replace("@0x7f", "@7F") for k, v in a.items()} for _, _, a in mine]
    assert [{k: v.upper() for k, v in a.items()} for a in normal] == [
        {k: v.upper() for k, v in a.items()} for _, _, a in other]


# --- source trees: res/xml beside a text manifest -------------------------------------------

SOURCE_NSC = b"""<?xml version="1.0" encoding="utf-8"?>
<network-security-config>
    <base-config cleartextTrafficPermitted="false">
        <trust-anchors><certificates src="system"/><certificates src="user"/></trust-anchors>
    </base-config>
    <domain-config cleartextTrafficPermitted="true">
        <domain includeSubdomains="true">
            Example.com
        </domain>
        <domain>10.0.2.2</domain>
    </domain-config>
</network-security-config>
"""


def _source(tmp_path: Path, nsc: bytes | None, extra: str = "") -> Path:
    main = tmp_path / "src" / "main"
    (main / "res" / "xml").mkdir(parents=True)
    manifest = main / "AndroidManifest.xml"
    manifest.write_text(
        '<manifest xmlns:android="http://schemas.android.com/apk/res/android" '
        'package="org.example.src"><uses-sdk android:minSdkVersion="21" '
        'android:targetSdkVersion="34"/><application '
        f'android:networkSecurityConfig="@xml/network_security_config" {extra}/></manifest>',
        encoding="utf-8",
    )
    if nsc is not None:
        (main / "res" / "xml" / "network_security_config.xml").write_bytes(nsc)
    return manifest


def test_source_tree_config_is_read(tmp_path: Path) -> None:
    app = load_any(str(_source(tmp_path, SOURCE_NSC)))
    ns = app.network_security
    assert ns is not None and ns.source == "config"
    assert ns.base is not None and ns.base.trusts_user and not ns.base.cleartext_permitted
    # text kept as written (aapt2 keeps non-blank text runs), lower-cased by Android
    assert [d.name for d in ns.domains[0].domains] == ["\n            example.com\n        ",
                                                       "10.0.2.2"]


def test_source_tree_missing_file_and_doctype(tmp_path: Path) -> None:
    missing = load_any(str(_source(tmp_path / "a", None)))
    assert missing.network_security is not None
    assert missing.network_security.source == "unread"
    assert "not beside the manifest" in missing.network_security.problems[0]
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><network-security-config/>'
    refused = load_any(str(_source(tmp_path / "b", evil)))
    assert refused.network_security is not None
    assert "refused" in refused.network_security.problems[0]


def test_source_tree_without_references_is_unchanged(tmp_path: Path) -> None:
    manifest = tmp_path / "AndroidManifest.xml"
    manifest.write_text('<manifest package="a.b"><application/></manifest>', encoding="utf-8")
    assert load_any(str(manifest)).network_security is None


def test_hostile_text_nesting_is_bounded() -> None:
    root = b"network-security-config"
    data = b"<" + root + b">" + b"<a>" * 300 + b"</a>" * 300 + b"</" + root + b">"
    with pytest.raises(ManifestError, match="deeper"):
        parse_resource_xml(data, "res/xml/x.xml")


def test_hostile_axml_nesting_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    inner = Element("domain-config", children=[Element("domain", text="x.org")])
    for _ in range(1100):
        inner = Element("domain-config", children=[inner])
    files = ra.edge_files()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(10_000)  # the test-only writer recurses; the decoder does not
    try:
        files["res/xml/network_security_config.xml"] = encode(Element(
            "network-security-config", children=[inner]))
    finally:
        sys.setrecursionlimit(limit)
    ns = load(str(_apk(tmp_path, target=34, files=files)), code=False).network_security
    assert ns is not None and ns.source == "unread"
    assert "deeper" in ns.problems[0]


def test_cleartext_domains_meet_the_servers_the_code_names(tmp_path: Path) -> None:
    from fixtures.dex_writer import build_dex

    files = ra.edge_files()
    files["classes.dex"] = build_dex(
        classes=["Lcom/example/edge/nsc/Api;"],
        strings=["https://files.api.example.ru/v1/upload", "https://secure.api.example.ru/login",
                 "https://www.example.org/"],
    )
    app = _scan(_apk(tmp_path, target=34, files=files))
    message = next(f["message"] for f in app["findings"]  # type: ignore[union-attr,index]
                   if f["rule"] == "network_security.cleartext")
    # secure.api.example.ru is refused by its nested domain-config (exact match wins)
    assert message.endswith("servers the code names among them: files.api.example.ru")


# --- property: mutated files give a model or a problem, never an exception ------------------

_EDGE_BYTES = encode(ra.edge_nsc())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_EDGE_BYTES) - 1), st.integers(0, 255)),
                max_size=8), st.booleans())
def test_mutated_config_bytes_never_escape(edits: list[tuple[int, int]], debuggable: bool) -> None:
    data = bytearray(_EDGE_BYTES)
    for offset, value in edits:
        data[offset] = value
    found = decode_file("networkSecurityConfig", "@0x7f010000", "res/xml/n.xml", bytes(data))
    if found.root is None:
        assert found.problem
        return
    ns = model_config(found.root, target_sdk=34, debuggable=debuggable)
    assert ns.source in ("config", "invalid")
    assert (ns.base is None) == (ns.source == "invalid")


def test_split_archive_reads_the_base_config(tmp_path: Path) -> None:
    import zipfile

    base = ra.build_apk(ra.manifest(target=34), ra.edge_files())
    path = tmp_path / "app.apks"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("splits/base-master.apk", base)
    app = load_any(str(path))
    assert app.input.kind == "apks"
    ns = app.network_security
    assert ns is not None and ns.source == "config"
    assert ns.domains[0].domains[0].name == "api.example.ru"
    assert {b.kind for b in app.backup} == {"fullBackupContent", "dataExtractionRules"}


def test_backup_entries_are_capped_and_bad_paths_ignored() -> None:
    from permaudit.inputs.backup_rules import MAX_PATHS, read_backup_rules

    excludes = [Element("exclude", {"domain": "file", "path": f"f{i}"}) for i in range(1500)]
    excludes.append(Element("exclude", {"domain": "file", "path": "../../etc"}))
    root = parse_axml(encode(Element("full-backup-content", children=excludes)))
    rules = read_backup_rules(root, "fullBackupContent")
    (section,) = rules.sections
    assert len(section.excludes) == MAX_PATHS
    assert any("500 more entries" in p for p in rules.problems)
    assert any("../../etc" in p for p in rules.problems)


def test_backup_file_with_the_wrong_root_copies_everything() -> None:
    from permaudit.engine.netsec import backup_nothing_excluded
    from permaudit.inputs.backup_rules import read_backup_rules

    rules = read_backup_rules(parse_axml(encode(Element("full-backup"))), "fullBackupContent")
    assert rules.read and not rules.sections
    assert "expected <full-backup-content>" in rules.problems[0]
    fired = list(backup_nothing_excluded((rules,), True, 30, has_rules_attribute=True))
    assert fired and "fullBackupContent" in fired[0][1]


def test_config_attribute_that_is_not_a_reference_is_ignored_as_android_does(
    tmp_path: Path,
) -> None:
    root = ra.manifest(target=34, nsc=False, backup=False)
    app_element = root.children[2]
    patched = ra._e("manifest", root.attrs, *root.children[:2], ra._e(
        "application", {**app_element.attrs, "android:networkSecurityConfig": "res/xml/x.xml"}))
    path = tmp_path / "string.apk"
    path.write_bytes(ra.build_apk(patched, {}))
    ns = load(str(path), code=False).network_security
    assert ns is not None and ns.source == "default"
    assert "ignores it" in ns.problems[0]


def test_max_like_config_lists_every_cleartext_domain(tmp_path: Path) -> None:
    files: dict[str, Element | bytes] = {"res/xml/network_security_config.xml": ra.max_like_nsc()}
    app = _scan(_apk(tmp_path, target=35, backup=False, files=files))
    messages = sorted(f["message"] for f in app["findings"]  # type: ignore[union-attr,index]
                      if f["rule"] == "network_security.cleartext")
    assert messages == [
        "cleartext allowed to *.voskhod.ru, *.gov.ru (domain-config at line 9)",
        "cleartext allowed to mobileid.megafon.ru, idgw.mobileid.mts.ru, hhe.mts.ru, "
        "he-mc.tele2.ru, he-mc.t2.ru, balance.beeline.ru (domain-config at line 2)",
    ]
    assert app["network_security"]["cleartext_domains"] == sorted(  # type: ignore[index]
        ra.MAX_CLEARTEXT + ra.MAX_CLEARTEXT_SUBDOMAINS)
    assert "user_certificates" not in {f["rule"].split(".")[-1] for f in app["findings"]}  # type: ignore[union-attr,index]


def test_unknown_target_sdk_assumes_current_defaults_and_says_so(tmp_path: Path) -> None:
    main = tmp_path / "src" / "main"
    (main / "res" / "xml").mkdir(parents=True)
    (main / "res" / "xml" / "nsc.xml").write_bytes(b"<network-security-config/>")
    manifest = main / "AndroidManifest.xml"
    manifest.write_text(
        '<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="a.b">'
        '<application android:networkSecurityConfig="@xml/nsc"/></manifest>', encoding="utf-8")
    app = load_any(str(manifest))
    assert app.manifest.target_sdk is None
    ns = app.network_security
    assert ns is not None and ns.base is not None and ns.source == "config"
    assert not ns.base.cleartext_permitted and not ns.base.trusts_user
    assert any("targetSdk unknown" in p for p in ns.problems)
