"""The Python API gives what the CLI gives: same reports, same verdicts, same errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import permaudit
from conftest import FIXTURES
from permaudit.cli import main
from permaudit.errors import InputError, UsageError

MAX = str(FIXTURES / "apk" / "max-25.8.1.apk")
MAX_NEW = str(FIXTURES / "apk" / "max-26.19.2.apk")
SIGNAL = str(FIXTURES / "apk" / "signal-0036b8e2.apk")


@pytest.fixture(autouse=True)
def _no_policy_from_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./.permaudit.yml picked up by accident


def _cli_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, object]:
    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_check_verdict_equals_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    result = permaudit.check([MAX, SIGNAL], fail_on="high")
    code, document = _cli_json(["check", "-f", "json", "--fail-on", "high", MAX, SIGNAL], capsys)
    assert code == 1 and not result.passed
    assert isinstance(document, dict)
    cli_failing = {
        (app["package"], item["rule"])
        for app in document["apps"] for item in app["check"]["items"]
        if item["status"] == "fail"
    }
    api_failing = {
        (verdict.report.app.manifest.package, item.rule)
        for verdict in result.verdicts for item in verdict.failing
    }
    assert api_failing == cli_failing
    assert ("ru.oneme.app", "capability.microphone") in api_failing


def test_check_with_a_baseline_accepts_what_it_lists(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    assert main(["baseline", "create", "-o", str(baseline), MAX]) == 0
    assert permaudit.check(MAX, baseline=baseline, fail_on="info").passed
    assert not permaudit.check(MAX, fail_on="info").passed


def test_check_against_an_older_build_judges_only_what_is_new() -> None:
    result = permaudit.check(MAX_NEW, against=[MAX], fail_on="info")
    assert [v.report.app.manifest.version_name for v in result.verdicts] == ["26.19.2"]
    assert result.verdicts[0].compared_to is not None


def test_check_errors_are_permaudit_errors() -> None:
    with pytest.raises(UsageError, match="fail_on"):
        permaudit.check(MAX, fail_on="hgih")
    with pytest.raises(InputError):
        permaudit.check("no/such.apk")
    with pytest.raises(UsageError, match="--baseline or --against"):
        permaudit.check(MAX, baseline="b.json", against=[MAX])


def test_code_false_reads_no_dex() -> None:
    assert permaudit.scan(MAX).code_evidence is not None
    assert permaudit.scan(MAX, code=False).code_evidence is None
    assert all(
        report.code_evidence is None
        for report in permaudit.scan_many([MAX, SIGNAL], code=False).reports
    )
