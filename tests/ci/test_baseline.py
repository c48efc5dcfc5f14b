"""Tests of the baseline file: round trip, determinism, update, corrupt and newer files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from permaudit.ci import baseline as baselines
from permaudit.ci.baseline import BaselineError
from permaudit.model import Severity
from tests.ci.test_gate import CAMERA, MIC, finding, make_report, perm


def test_round_trip_keeps_fingerprints_and_reach_but_no_wording_or_severity() -> None:
    report = make_report([perm(MIC, max_sdk=30), perm(CAMERA)], access={"camera": ("photo",)})
    value = baselines.from_reports([report])
    text = baselines.to_json(value)
    assert baselines.parse_baseline(text, "b.json") == value
    document = json.loads(text)
    assert document["schema_version"] == baselines.SCHEMA_VERSION
    assert document["findings"] == [
        {
            "package": "com.example.app",
            "rule": "capability.camera",
            "subject": "camera",
            "fingerprint": "fp:capability.camera:com.example.app:camera",
        },
        {
            "package": "com.example.app",
            "rule": "capability.microphone",
            "subject": "microphone",
            "fingerprint": "fp:capability.microphone:com.example.app:microphone",
        },
    ]
    assert {
        "package": "com.example.app",
        "name": MIC,
        "element": "uses-permission",
        "max_sdk": 30,
    } in document["permissions"]
    assert document["capabilities"][0] == {
        "package": "com.example.app",
        "id": "camera",
        "via": [CAMERA],
        "access": ["photo"],
    }
    assert "severity" not in text and "message" not in text and "reaches" not in text


def test_serialisation_is_deterministic_and_order_independent() -> None:
    a = make_report([perm(MIC), perm(CAMERA)])
    b = make_report([perm(CAMERA), perm(MIC)])
    assert baselines.to_json(baselines.from_reports([a])) == baselines.to_json(
        baselines.from_reports([b])
    )


def test_rewording_or_regrading_a_rule_keeps_the_fingerprint() -> None:
    old = make_report([], [finding("r.x", "subject", Severity.LOW)])
    new = make_report([], [finding("r.x", "subject", Severity.CRITICAL)])
    assert baselines.from_reports([old]).fingerprints == baselines.from_reports([new]).fingerprints


def test_update_replaces_scanned_packages_and_keeps_the_others() -> None:
    one = make_report([perm(MIC)], package="com.one")
    two = make_report([perm(CAMERA)], package="com.two")
    old = baselines.from_reports([one, two])
    one_now = make_report([perm(CAMERA)], package="com.one")
    updated = baselines.update(old, [one_now])
    assert {(f.package, f.rule) for f in updated.findings} == {
        ("com.one", "capability.camera"),
        ("com.two", "capability.camera"),
    }
    assert updated.packages == frozenset({"com.one", "com.two"})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.json"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"schema_version": 1, "findings": [', "corrupt baseline: not valid JSON (line 1"),
        ("[]", "corrupt baseline: not a permaudit baseline (no schema_version)"),
        ('{"findings": []}', "corrupt baseline: not a permaudit baseline (no schema_version)"),
        (
            '{"schema_version": "1", "findings": []}',
            "corrupt baseline: schema_version must be a positive integer, not '1'",
        ),
        ('{"schema_version": 1}', "corrupt baseline: findings: missing"),
        ('{"schema_version": 1, "findings": {}}', "corrupt baseline: findings: must be a list"),
        (
            '{"schema_version": 1, "findings": [{"package": "a", "rule": "r", "subject": "s"}]}',
            "corrupt baseline: findings[0].fingerprint: must be a non-empty string",
        ),
        (
            '{"schema_version": 1, "findings": [], "permissions": [{"package": "a", '
            '"name": "n", "element": "e", "max_sdk": true}]}',
            "corrupt baseline: permissions[0].max_sdk: must be a positive integer or null",
        ),
        (
            '{"schema_version": 99, "findings": []}',
            "baseline schema version 99 was written by a newer permaudit; this one reads "
            "versions up to 1: upgrade permaudit",
        ),
    ],
)
def test_corrupt_or_newer_baseline_is_a_clear_error(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(BaselineError) as caught:
        baselines.load_baseline(write(tmp_path, text), display="baseline.json")
    assert str(caught.value).startswith(f"baseline.json: {message}"), str(caught.value)
    assert caught.value.exit_code == 2


def test_missing_baseline_names_the_command_that_creates_one(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="permaudit baseline create"):
        baselines.load_baseline(tmp_path / "none.json")


def test_older_schema_is_migrated_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """The migration path: a version-1 file read by a permaudit whose schema is 2."""

    def one_to_two(document: dict[str, Any]) -> dict[str, Any]:
        return {**document, "schema_version": 2, "findings": document["entries"]}

    monkeypatch.setattr(baselines, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(baselines.MIGRATIONS, 1, one_to_two)
    entry = {"package": "p", "rule": "r", "subject": "s", "fingerprint": "f"}
    value = baselines.parse_baseline(
        json.dumps({"schema_version": 1, "entries": [entry]}), "old.json"
    )
    assert value.fingerprints == frozenset({"f"})
    assert json.loads(baselines.to_json(value))["schema_version"] == 2
