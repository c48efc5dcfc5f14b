"""The app label in every report and ``--locale`` on every command, end to end.

Inputs are the edge fixtures with a resources.arsc (fixtures/edge/label-by-reference.yml:
label "Example Messenger", in Russian "Пример мессенджера"; flags-by-reference.yml and
unresolved-references.yml) and a second build of the label fixture made here.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES
from fixtures.axml_writer import encode
from fixtures.build import apk_bytes, resource_ids, table_from_spec, tree_from_spec
from permaudit import api
from permaudit.cli import main

EDGE = FIXTURES / "apk" / "edge"
LABEL = str(EDGE / "label-by-reference.apk")
FLAGS = str(EDGE / "flags-by-reference.apk")
UNRESOLVED = str(EDGE / "unresolved-references.apk")
RU = "Пример мессенджера"
DEFAULT = "Example Messenger"
PACKAGE = "com.example.edge.label"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def second_build(tmp_path: Path) -> str:
    """The label fixture as version 2.6.0 (versionName is a string resource)."""
    spec = yaml.safe_load((FIXTURES / "edge" / "label-by-reference.yml").read_text("utf-8"))
    spec = copy.deepcopy(spec)
    spec["resources"]["string"]["version_name"] = {"": "2.6.0"}
    spec["manifest"]["attrs"]["android:versionCode"] = 26
    resources = spec["resources"]
    tree = tree_from_spec(spec["manifest"], resource_ids(resources))
    path = tmp_path / "label-2.6.0.apk"
    path.write_bytes(apk_bytes(encode(tree), arsc=table_from_spec(resources, PACKAGE)))
    return str(path)


@pytest.mark.parametrize(
    ("locale", "label"),
    [(None, DEFAULT), ("ru", RU), ("ru-rRU", RU), ("ru_RU", RU), ("de", DEFAULT)],
)
def test_scan_header_and_json_carry_the_label(
    capsys: pytest.CaptureFixture[str], locale: str | None, label: str
) -> None:
    extra = ["--locale", locale] if locale else []
    code, out, _ = run(capsys, "scan", "--no-code", LABEL, *extra)
    assert code == 0
    assert out.splitlines()[0] == f"{label} ({PACKAGE}) 2.5.0 (versionCode 25)"
    code, out, _ = run(capsys, "scan", "--no-code", "--format", "json", LABEL, *extra)
    app = json.loads(out)["apps"][0]
    expected_locale = {"ru_RU": "ru-rRU"}.get(locale or "", locale)
    assert (app["label"], app["locale"], app["version_name"]) == (label, expected_locale, "2.5.0")


def test_no_label_falls_back_to_the_package(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", "--no-code", FLAGS)
    assert code == 0 and out.splitlines()[0] == "com.example.edge.flagref 1.0 (versionCode 1)"
    code, out, _ = run(capsys, "scan", "--no-code", "--format", "json", FLAGS)
    assert json.loads(out)["apps"][0]["label"] is None


@pytest.mark.parametrize("command", ["scan", "compare", "check", "batch"])
def test_a_bad_locale_is_a_usage_error(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, err = run(capsys, command, LABEL, LABEL, "--locale", "russian-federation")
    assert (code, out) == (2, "")
    assert "--locale 'russian-federation'" in err and "Traceback" not in err


def test_diff_locale_and_bad_locale(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    new = second_build(tmp_path)
    code, out, _ = run(capsys, "diff", LABEL, new, "--locale", "ru")
    assert code == 0
    title = " ".join(out.split())  # the title wraps to the terminal width
    assert title.startswith(
        f"permaudit diff: {RU} ({PACKAGE}) 2.5.0 (25) -> {RU} ({PACKAGE}) 2.6.0"
    )
    code, out, _ = run(capsys, "diff", "--format", "markdown", LABEL, new)
    assert out.startswith(f"## permaudit diff: {DEFAULT} ({PACKAGE}) 2.5.0 (25) → 2.6.0 (26)")
    code, _, err = run(capsys, "diff", LABEL, new, "--locale", "1")
    assert code == 2 and "--locale '1'" in err


def test_compare_columns_are_label_package_and_version(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    new = second_build(tmp_path)
    code, out, _ = run(capsys, "compare", "--no-code", "--format", "json", LABEL, new, FLAGS)
    assert code == 0
    apps = json.loads(out)["apps"]
    assert [a["label"] for a in apps] == [DEFAULT, DEFAULT, None]
    columns = [(a["column"]["label"], a["column"]["app_label"]) for a in apps]
    assert columns == [
        (f"{DEFAULT} ({PACKAGE}) 2.5.0", DEFAULT),
        (f"{DEFAULT} ({PACKAGE}) 2.6.0", DEFAULT),
        ("com.example.edge.flagref", None),
    ]
    code, out, _ = run(capsys, "compare", "--no-code", LABEL, new, "--locale", "ru")
    assert f"{RU} ({PACKAGE}) 2.5.0" in out and f"{RU} ({PACKAGE}) 2.6.0" in out


def test_check_sarif_and_junit_name_the_app(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .permaudit.yml from the checkout
    code, out, _ = run(capsys, "check", "--exit-zero", "--format", "sarif", LABEL, "--locale", "ru")
    assert code == 0
    artifact = json.loads(out)["runs"][0]["artifacts"][0]
    assert artifact["description"]["text"] == f"{RU} ({PACKAGE}) 2.5.0"
    assert artifact["properties"] == {"package": PACKAGE, "label": RU}
    code, out, _ = run(capsys, "check", "--exit-zero", "--format", "junit", LABEL)
    suite = ET.fromstring(out).find("testsuite")  # noqa: S314 (our own output)
    assert suite is not None and suite.get("name") == f"permaudit {DEFAULT} ({PACKAGE})"
    code, out, _ = run(capsys, "check", "--exit-zero", "--format", "markdown", LABEL)
    assert f"{DEFAULT} (`{PACKAGE}`) 2.5.0" in out


def test_batch_and_api_take_the_locale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.jsonl"
    assert main(["batch", "-j", "1", "-o", str(target), LABEL, FLAGS, "--locale", "ru"]) == 0
    capsys.readouterr()
    labels = [json.loads(line)["label"] for line in target.read_text("utf-8").splitlines()]
    assert labels == [RU, None]
    assert api.scan(LABEL, locale="ru-rRU").app.manifest.label == RU
    assert api.scan(LABEL).app.manifest.label == DEFAULT
    assert [c.app_label for c in api.compare([LABEL, FLAGS], locale="ru").apps] == [RU, None]


def test_unresolved_references_say_why(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", "--no-code", "--format", "json", UNRESOLVED)
    assert code == 0
    reasons = {
        u["attribute"]: u["reason"] for u in json.loads(out)["apps"][0]["unresolved_references"]
    }
    assert reasons == {
        "testOnly": "no entry @0x7f0100ff in resources.arsc",
        "requestLegacyExternalStorage": "@0x7f010001 is configuration-dependent: no default "
        "value, defined only for ru",
    }
    code, out, _ = run(capsys, "scan", "--no-code", UNRESOLVED)
    text = " ".join(out.split())
    assert "android:testOnly=@0x7f0100ff (no entry @0x7f0100ff in resources.arsc)" in text
    assert "defined only for ru" in text
    # On a Russian phone the value exists: resolved (true), no longer unresolved.
    code, out, _ = run(
        capsys, "scan", "--no-code", "--format", "json", UNRESOLVED, "--locale", "ru"
    )
    app = json.loads(out)["apps"][0]
    assert [u["attribute"] for u in app["unresolved_references"]] == ["testOnly"]
    assert app["application"]["request_legacy_external_storage"] is True


def test_text_manifest_and_missing_table_reasons(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest = tmp_path / "AndroidManifest.xml"
    manifest.write_text(
        '<manifest xmlns:android="http://schemas.android.com/apk/res/android" '
        'package="com.example.src"><uses-sdk android:minSdkVersion="24" '
        'android:targetSdkVersion="34"/><application android:label="@string/app_name" '
        'android:debuggable="@bool/debug"/></manifest>',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "scan", "--format", "json", str(manifest))
    app = json.loads(out)["apps"][0]
    assert app["label"] is None
    assert [(u["attribute"], u["reason"]) for u in app["unresolved_references"]] == [
        ("debuggable", "a text manifest: the app's res/values are not read")
    ]
    spec = yaml.safe_load((FIXTURES / "edge" / "flags-by-reference.yml").read_text("utf-8"))
    tree = tree_from_spec(spec["manifest"], resource_ids(spec["resources"]))
    bare = tmp_path / "no-table.apk"
    bare.write_bytes(apk_bytes(encode(tree)))  # the references, without the table
    code, out, _ = run(capsys, "scan", "--no-code", "--format", "json", str(bare))
    assert code == 0
    reasons = {u["reason"] for u in json.loads(out)["apps"][0]["unresolved_references"]}
    assert reasons == {"no resources.arsc in the package"}
