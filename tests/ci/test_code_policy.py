"""The gate over code evidence on the messenger fixtures: policy entries, --against, --no-code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import REPO
from permaudit._infra.records import replace
from permaudit.android.platform import platform_for
from permaudit.ci import gate
from permaudit.ci.policy import parse_policy
from permaudit.cli import main
from permaudit.engine.evaluate import evaluate
from permaudit.errors import RulesError
from permaudit.inputs.loader import load_inputs
from permaudit.model import Report, Severity
from permaudit.rules.ruleset import load_ruleset

MAX = REPO / "fixtures" / "apk" / "max-25.8.1.apk"
WHATSAPP = REPO / "fixtures" / "apk" / "whatsapp-2.24.24.78.apk"


def report(path: Path) -> Report:
    (app,) = load_inputs([str(path)])
    return evaluate(app, load_ruleset(), platform_for(36))


def items(verdict: gate.Verdict, rule: str) -> dict[str, str]:
    return {i.subject: i.status.value for i in verdict.items if i.rule == rule}


def test_deny_by_tracker_category_country_and_owner() -> None:
    policy = parse_policy(
        "deny:\n  - tracker_category: crash_reporting\n  - server_country: RU\n"
        "  - server_owner: jetbrains\n", "p.yml")
    verdict = gate.decide(report(MAX), policy, None)
    assert items(verdict, gate.RULE_DENY) == {
        "tracker:OK Tracer": "fail", "owner:VK": "fail", "owner:JetBrains": "fail",
    }
    assert all(i.severity >= Severity.HIGH for i in verdict.items if i.rule == gate.RULE_DENY)
    # WhatsApp ships no crash reporter and names no Russian server or JetBrains'.
    assert items(gate.decide(report(WHATSAPP), policy, None), gate.RULE_DENY) == {}


def test_allow_a_tracker_by_name_accepts_its_finding() -> None:
    policy = parse_policy(
        "allow:\n  - tracker: MYTRACKER\n    justification: DPA with VK\n", "p.yml")
    verdict = gate.decide(report(MAX), policy, None, fail_on=Severity.LOW)
    statuses = items(verdict, "tracker.analytics")
    assert statuses == {"tracker:myTracker": "accepted", "tracker:OK Tracer": "fail",
                        "tracker:OK Calls SDK analytics": "fail"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deny:\n  - tracker: myTraker\n",
         "p.yml:2:14: error: unknown tracker 'myTraker' (did you mean 'myTracker'?) (names as "
         "`permaudit scan` shows them)"),
        ("deny:\n  - tracker_category: ads\n",
         "p.yml:2:23: error: unknown tracker category 'ads'; use one of analytics, "
         "advertisement, crash_reporting, location, profiling, identification"),
        ("deny:\n  - server_country: ru\n",
         "p.yml:2:21: error: 'ru' is not an ISO 3166-1 alpha-2 country code such as RU or US "
         "(did you mean 'RU'?)"),
        ("deny:\n  - server_country: NO\n",
         "p.yml:2:21: error: server_country must be a string, but YAML reads 'NO' as a "
         "boolean; quote it: \"NO\""),
        ("deny:\n  - tracker: myTracker\nallow:\n  - tracker: mytracker\n    justification: x\n",
         "p.yml:2:14: error: tracker myTracker is both denied and allowed (allowed at line 4)"),
    ],
)
def test_hostile_policy_entries_are_located(text: str, expected: str) -> None:
    with pytest.raises(RulesError) as caught:
        parse_policy(text, "p.yml")
    assert list(caught.value.diagnostics) == [expected]


def without_vk(rep: Report) -> Report:
    """``rep`` as an older build would be: no OK Tracer, no server in Russia."""
    evidence = rep.code_evidence
    assert evidence is not None
    old = replace(
        evidence,
        trackers=tuple(t for t in evidence.trackers if t.name != "OK Tracer"),
        hosts=tuple(h for h in evidence.hosts if h.country != "RU"),
    )
    return replace(rep, code_evidence=old)


def test_against_a_tracker_added_and_a_new_country_widen() -> None:
    new = report(MAX)
    verdict = gate.decide_against(without_vk(new), new, parse_policy("", "p.yml"))
    assert items(verdict, "diff.tracker_added") == {"tracker:OK Tracer": "fail"}
    assert items(verdict, "diff.server_country_added") == {"country:RU": "below"}
    # The same build against itself: nothing added.
    same = gate.decide_against(new, new, parse_policy("", "p.yml"))
    assert not [i for i in same.items if i.rule.startswith("diff.")]


def test_against_an_old_build_whose_code_could_not_be_read_adds_nothing() -> None:
    """Its DEX unreadable, the old build has empty evidence: comparing would call every
    tracker and country of the new one added (``diff`` says "code not compared" too)."""
    new = report(MAX)
    unread = replace(new, code_evidence=type(new.code_evidence)(
        notes=("classes.dex: not read (truncated)",)))
    verdict = gate.decide_against(unread, new, parse_policy("", "p.yml"))
    assert not [i for i in verdict.items if i.rule.startswith("diff.")]


def test_against_changes_follow_the_policy() -> None:
    new = report(MAX)
    policy = parse_policy(
        "allow:\n  - tracker: OK Tracer\n    justification: crash reports, reviewed\n"
        "rules:\n  severity: {diff.server_country_added: critical}\n", "p.yml")
    verdict = gate.decide_against(without_vk(new), new, policy)
    assert items(verdict, "diff.tracker_added") == {"tracker:OK Tracer": "accepted"}
    assert items(verdict, "diff.server_country_added") == {"country:RU": "fail"}
    disabled = parse_policy("rules:\n  disable: [diff.tracker_added]\n", "p.yml")
    verdict = gate.decide_against(without_vk(new), new, disabled)
    assert items(verdict, "diff.tracker_added") == {"tracker:OK Tracer": "disabled"}


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_no_code_with_a_code_policy_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "p.yml"
    policy.write_text("deny:\n  - server_country: RU\n", encoding="utf-8")
    code, out, err = run(["check", str(MAX), "--policy", str(policy), "--no-code"], capsys)
    assert (code, out) == (2, "")
    assert err == (f"{policy}:2:21: error: server country RU is denied by the policy, which "
                   "needs the app's code: --no-code cannot judge it (drop --no-code)\n")
    # With the code read, the same policy fails on VK's servers.
    code, out, err = run(["check", str(MAX), "--policy", str(policy), "--format", "json"],
                         capsys)
    assert code == 1
    denied = [i for i in json.loads(out)["apps"][0]["check"]["items"] if i["kind"] == "deny"]
    assert [(i["subject"], i["status"]) for i in denied] == [("owner:VK", "fail")]


def test_no_code_with_a_code_rule_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "r.yml"
    rules.write_text("rules:\n  - id: acme.ru\n    title: t\n    severity: high\n"
                     "    rationale: r\n    when: {server_country: RU}\n", encoding="utf-8")
    code, out, err = run(["check", str(MAX), "--rules", str(rules), "--no-code"], capsys)
    assert (code, out) == (2, "")
    assert err == (f"{rules}:2:5: error: rule 'acme.ru' matches the app's code: --no-code "
                   "cannot judge it (drop --no-code)\n")


def test_no_code_notes_the_default_code_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["check", str(MAX), "--no-code", "--exit-zero"], capsys)
    assert code == 0
    assert err.splitlines()[0] == (
        "permaudit: note: --no-code: not evaluated (they need the app's code): "
        "tracker.advertising, tracker.location, tracker.identification, tracker.analytics, "
        "code.unrequested_api, diff.tracker_added, diff.server_country_added")


def test_sarif_and_junit_carry_code_findings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(MAX), "--format", "sarif", "--fail-on", "low"], capsys)
    assert code == 1
    run_ = json.loads(out)["runs"][0]
    assert "tracker.analytics" in {r["id"] for r in run_["tool"]["driver"]["rules"]}
    results = {(r["ruleId"], r["level"]) for r in run_["results"]
               if r["ruleId"].startswith("tracker.")}
    assert results == {("tracker.analytics", "note")}
    code, out, _ = run(["check", str(MAX), "--format", "junit", "--fail-on", "low"], capsys)
    assert code == 1
    assert '<testcase name="tracker.analytics" classname="ru.oneme.app"' in out
    assert "tracker:myTracker" in out
