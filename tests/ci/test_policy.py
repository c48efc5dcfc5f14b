"""Tests of the policy file: every key, positions of every error, reference checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import TESTS
from permaudit.ci.policy import (
    CAPABILITY,
    PERMISSION,
    Policy,
    find_policy,
    load_policy,
    parse_policy,
    unknown_references,
)
from permaudit.errors import RulesError
from permaudit.model import Severity

DATA = TESTS / "data" / "policy"


def errors_of(text: str) -> list[str]:
    """The diagnostics parse_policy raises for ``text``."""
    with pytest.raises(RulesError) as caught:
        parse_policy(text, "p.yml")
    return list(caught.value.diagnostics)


def test_valid_policy_reads_every_key() -> None:
    policy = load_policy(DATA / "valid.yml", display="valid.yml")
    assert policy.source == "valid.yml"
    assert policy.fail_on == Severity.MEDIUM
    assert policy.device_sdk == 34
    assert policy.max_score == 60
    assert [(a.target.kind, a.target.name, a.justification) for a in policy.allow] == [
        (PERMISSION, "android.permission.CAMERA", "Video calls and QR-code login need the camera."),
        (CAPABILITY, "location", "Live location sharing, opt-in per chat."),
    ]
    assert [(d.target.kind, d.target.name, d.reason) for d in policy.deny] == [
        (CAPABILITY, "accessibility", None),
        (PERMISSION, "android.permission.SEND_SMS", None),
        (CAPABILITY, "install_packages", "we ship through the Play Store only"),
    ]
    assert policy.severity_for("capability.overlay") == Severity.CRITICAL
    assert policy.severity_for("capability.camera") is None
    assert policy.is_disabled("hardening.cleartext_traffic")
    assert not policy.is_disabled("capability.overlay")
    assert policy.rules_files == (DATA / "extra-rules.yml",)
    origin = policy.allow[0].target.origin
    assert origin is not None and (origin.line, origin.column) == (7, 17)


def test_empty_or_comment_only_file_is_the_empty_policy() -> None:
    assert parse_policy("", "p.yml") == Policy(source="p.yml")
    assert parse_policy("# nothing yet\n\n", "p.yml") == Policy(source="p.yml")


def test_typo_in_a_key_points_at_it_with_a_hint() -> None:
    with pytest.raises(RulesError) as caught:
        load_policy(DATA / "typo.yml", display="typo.yml")
    assert caught.value.diagnostics == (
        "typo.yml:2:1: error: unknown key 'alow' in the policy (did you mean 'allow'?)",
    )
    assert caught.value.exit_code == 2


def test_every_error_is_reported_at_once_in_file_order() -> None:
    with pytest.raises(RulesError) as caught:
        load_policy(DATA / "invalid.yml", display="invalid.yml")
    assert caught.value.diagnostics == (
        "invalid.yml:1:10: error: fail_on must be one of info, low, medium, high, critical, "
        "not 'hihg' (did you mean 'high'?)",
        "invalid.yml:2:13: error: device_sdk must be an integer, not a string ('34')",
        "invalid.yml:3:12: error: max_score must be at most 100, not 101",
        "invalid.yml:5:5: error: an allow entry needs a written 'justification'",
        "invalid.yml:7:20: error: justification must be a string, but YAML reads 'yes' as a "
        'boolean; quote it: "yes"',
        "invalid.yml:11:5: error: capability contacts is both denied and allowed "
        "(allowed at line 8)",
        "invalid.yml:12:17: error: malformed permission name 'not a permission' "
        "(expected a dotted name such as android.permission.CAMERA)",
        "invalid.yml:13:1: error: duplicate key 'fail_on' in the policy (first at line 1, "
        "column 1)",
        "invalid.yml:15:33: error: a severity must be one of info, low, medium, high, "
        "critical, not 'severe'",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "p.yml:1:1: error: the policy must be a mapping, not a list"),
        (
            "version: 2\n",
            "p.yml:1:10: error: policy version 2 is not supported (this permaudit reads version 1)",
        ),
        ("fail_on: [high\n", "p.yml:2:1: error: YAML syntax error"),
        (
            "allow:\n  - permission: android.permission.CAMERA\n    capability: camera\n"
            "    justification: x\n",
            "p.yml:2:5: error: an allow entry needs exactly one of 'permission', 'capability', "
            "'tracker', 'tracker_category', 'server_country', 'server_owner'",
        ),
        (
            "allow:\n  - capability: Camera!\n    justification: x\n",
            "p.yml:2:17: error: malformed capability id 'Camera!'",
        ),
        ("deny: accessibility\n", "p.yml:1:7: error: deny must be a list, not a string"),
        ("deny: [sms, sms]\n", "p.yml:1:13: error: capability sms is already denied at line 1"),
        (
            "rules:\n  disable: [a.b]\n  severity: {a.b: low}\n",
            "p.yml:2:13: error: rule 'a.b' is both disabled and given a severity",
        ),
        (
            "rules:\n  serverity: {a: low}\n",
            "p.yml:2:3: error: unknown key 'serverity' in rules (did you mean 'severity'?)",
        ),
        ("max_score: 1.5\n", "p.yml:1:12: error: max_score must be an integer, not a float"),
    ],
)
def test_single_errors(text: str, expected: str) -> None:
    errors = errors_of(text)
    assert len(errors) == 1, errors
    assert errors[0].startswith(expected), errors[0]


def test_missing_file_and_directory() -> None:
    with pytest.raises(RulesError, match=r"nope\.yml: error: policy file not found"):
        load_policy(DATA / "nope.yml", display="nope.yml")
    with pytest.raises(RulesError, match="policy file is a directory"):
        load_policy(DATA)


def test_find_policy(tmp_path: Path) -> None:
    assert find_policy(tmp_path) is None
    (tmp_path / ".permaudit.yml").write_text("fail_on: low\n", encoding="utf-8")
    assert find_policy(tmp_path) == tmp_path / ".permaudit.yml"


def test_unknown_rule_and_capability_ids_against_the_ruleset() -> None:
    policy = parse_policy(
        "allow:\n  - capability: microphon\n    justification: x\n"
        "deny: [sms]\nrules:\n  disable: [capability.camra]\n",
        "p.yml",
    )
    assert unknown_references(
        policy,
        frozenset({"capability.camera", "capability.microphone"}),
        frozenset({"camera", "microphone", "sms"}),
    ) == [
        "p.yml:2:17: error: unknown capability 'microphon' (did you mean 'microphone'?)",
        "p.yml:6:13: error: unknown rule id 'capability.camra' (did you mean 'capability.camera'?)",
    ]


def test_a_missing_rule_file_is_blamed_on_the_key_that_names_it(tmp_path: Path) -> None:
    """Not ``ci-rules.yml:1:1`` (the file that is not there) but the policy's own line."""
    (tmp_path / "here.yml").write_text("ruleset: x\nversion: '1'\n", encoding="utf-8")
    (tmp_path / "adir.yml").mkdir()
    text = "fail_on: high\nrules:\n  files: [here.yml, ci-rules.yml, adir.yml]\n"
    with pytest.raises(RulesError) as caught:
        parse_policy(text, ".permaudit.yml", base_dir=tmp_path)
    assert list(caught.value.diagnostics) == [
        f".permaudit.yml:3:21: error: rules.files: cannot read 'ci-rules.yml' "
        f"({tmp_path / 'ci-rules.yml'}): No such file or directory",
        f".permaudit.yml:3:35: error: rules.files: cannot read 'adir.yml' "
        f"({tmp_path / 'adir.yml'}): is a directory",
    ]
    policy = parse_policy("rules:\n  files: here.yml\n", "p.yml", base_dir=tmp_path)
    assert policy.rules_files == (tmp_path / "here.yml",)
