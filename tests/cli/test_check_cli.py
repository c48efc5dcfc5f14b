"""End-to-end tests of ``permaudit check`` and ``permaudit baseline`` in temporary directories.

Inputs are APKs built here from the Max fixture profile (fixtures/build.py): the profile as
committed, and variants of it (without RECORD_AUDIO, with READ_EXTERNAL_STORAGE on every
API level), so a "release" that adds the microphone can be checked against a baseline.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO
from fixtures.axml_writer import encode
from fixtures.build import apk_bytes, tree_from_profile
from permaudit.ci import gate
from permaudit.cli import main

PROFILE = REPO / "fixtures" / "profiles" / "max.yml"
MIC = "android.permission.RECORD_AUDIO"
READ_STORAGE = "android.permission.READ_EXTERNAL_STORAGE"

Run = Callable[..., tuple[int, str, str]]


def build_apk(path: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """Write the Max fixture (optionally edited) as an APK at ``path``."""
    profile = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    profile = copy.deepcopy(profile)
    if edit is not None:
        edit(profile)
    path.write_bytes(apk_bytes(encode(tree_from_profile(profile))))
    return path


def without_mic(profile: dict[str, Any]) -> None:
    profile["uses_permissions"] = [p for p in profile["uses_permissions"] if p["name"] != MIC]


def storage_on_all_levels(profile: dict[str, Any]) -> None:
    for entry in profile["uses_permissions"]:
        if entry["name"] == READ_STORAGE:
            entry.pop("maxSdkVersion", None)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """``run(*argv)`` -> (exit code, stdout, stderr), in ``tmp_path`` as working directory."""
    monkeypatch.chdir(tmp_path)

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


@pytest.fixture
def apks(tmp_path: Path) -> dict[str, str]:
    """``base`` (no microphone), ``mic`` (base + RECORD_AUDIO), ``storage`` (base with
    READ_EXTERNAL_STORAGE widened to every API level); names relative to ``tmp_path``."""
    build_apk(tmp_path / "base.apk", without_mic)
    build_apk(tmp_path / "mic.apk")

    def widened(profile: dict[str, Any]) -> None:
        without_mic(profile)
        storage_on_all_levels(profile)

    build_apk(tmp_path / "storage.apk", widened)
    return {"base": "base.apk", "mic": "mic.apk", "storage": "storage.apk"}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def create_baseline(run: Run, apk: str) -> None:
    code, out, err = run("baseline", "create", apk, "-o", "base.json")
    assert (code, out) == (0, "")
    assert err.startswith("permaudit: wrote base.json: ")


# --- the stories of the issue -------------------------------------------------------------


def test_baseline_create_then_check_the_same_apk_passes(run: Run, apks: dict[str, str]) -> None:
    create_baseline(run, apks["base"])
    code, out, err = run("check", apks["base"], "--baseline", "base.json")
    assert code == 0
    assert err.startswith("permaudit: PASS ")
    assert "0 new since baseline" in err
    assert "Verdict: PASS (fail on high, compared with baseline)" in out


def test_a_release_adding_record_audio_fails_naming_the_finding(
    run: Run, apks: dict[str, str]
) -> None:
    create_baseline(run, apks["base"])
    code, out, err = run("check", apks["mic"], "--baseline", "base.json")
    assert code == 1
    assert err.startswith("permaudit: FAIL ")
    assert "(1 new since baseline," in err
    verdict = out[out.index("Verdict: FAIL") :]
    fail_rows = [line.split() for line in verdict.splitlines() if line.startswith("FAIL  ")]
    assert fail_rows == [["FAIL", "high", "capability.microphone"]]


def test_a_widened_max_sdk_version_fails_despite_the_baseline(
    run: Run, apks: dict[str, str]
) -> None:
    create_baseline(run, apks["base"])
    code, out, _ = run("check", apks["storage"], "--baseline", "base.json", "--format", "json")
    assert code == 1
    items = json.loads(out)["apps"][0]["check"]["items"]
    failing = {i["rule"]: i["reason"] for i in items if i["status"] == "fail"}
    assert failing == {
        "capability.files": "broadened since baseline: files now reaches legacy storage"
    }


def test_an_accepted_permission_passes_with_its_justification_in_the_report(
    run: Run, apks: dict[str, str], tmp_path: Path
) -> None:
    create_baseline(run, apks["base"])
    write(
        tmp_path / ".permaudit.yml",
        "allow:\n  - permission: android.permission.RECORD_AUDIO\n"
        "    justification: Voice messages and calls (PRIV-12).\n",
    )
    code, out, err = run("check", apks["mic"], "--baseline", "base.json")
    assert code == 0
    assert err.startswith("permaudit: PASS ")
    assert "1 accepted by policy" in err
    line = next(i for i, text in enumerate(out.splitlines()) if text.startswith("accepted"))
    assert "capability.microphone" in out.splitlines()[line]
    assert "Voice messages and calls (PRIV-12)." in " ".join(out[out.index("Verdict:") :].split())
    code, markdown, _ = run("check", apks["mic"], "--baseline", "base.json", "-f", "markdown")
    assert code == 0
    assert "*Voice messages and calls (PRIV-12).*" in markdown


def test_a_denied_capability_fails(run: Run, apks: dict[str, str], tmp_path: Path) -> None:
    write(
        tmp_path / "policy.yml", "deny:\n  - capability: install_packages\n    reason: Play only\n"
    )
    code, out, err = run("check", apks["base"], "--policy", "policy.yml", "--fail-on", "critical")
    assert code == 1
    assert err.startswith("permaudit: FAIL ")
    assert err.rstrip().endswith("; install_packages denied by policy")
    assert "denied by policy (Play only)" in out


def test_a_typo_in_a_policy_key_is_a_usage_error_with_its_position(
    run: Run, apks: dict[str, str], tmp_path: Path
) -> None:
    write(tmp_path / ".permaudit.yml", "fail_on: high\nalow:\n  - capability: camera\n")
    code, out, err = run("check", apks["base"])
    assert (code, out) == (2, "")
    assert err == (
        ".permaudit.yml:2:1: error: unknown key 'alow' in the policy "
        "(did you mean 'allow'?)\n"
    )


def test_an_unknown_capability_in_the_policy_is_reported_with_its_position(
    run: Run, apks: dict[str, str], tmp_path: Path
) -> None:
    write(tmp_path / "p.yml", "deny: [microphon]\n")
    code, _, err = run("check", apks["base"], "--policy", "p.yml")
    assert code == 2
    assert err == (
        "p.yml:1:8: error: unknown capability 'microphon' "
        "(did you mean 'microphone'?)\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"schema_version": 1, "findings": [', "base.json: corrupt baseline: not valid JSON"),
        (
            '{"schema_version": 7, "findings": []}',
            "base.json: baseline schema version 7 was written by a newer permaudit",
        ),
    ],
)
def test_a_corrupt_or_newer_baseline_is_a_usage_error(
    run: Run, apks: dict[str, str], tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path / "base.json", text)
    code, out, err = run("check", apks["base"], "--baseline", "base.json")
    assert (code, out) == (2, "")
    assert err.startswith(f"permaudit: error: {message}")
    assert len(err.splitlines()) == 1


def test_exit_zero_gives_the_same_report_and_exit_0(run: Run, apks: dict[str, str]) -> None:
    failing = run("check", apks["mic"])
    assert failing[0] == 1
    code, out, err = run("check", apks["mic"], "--exit-zero")
    assert code == 0
    assert out == failing[1]
    assert err == failing[2].rstrip("\n") + " (--exit-zero: exit status 0)\n"


def test_against_an_old_build(run: Run, apks: dict[str, str]) -> None:
    code, out, err = run("check", apks["base"], "--against", apks["base"])
    assert code == 0, err
    code, out, err = run("check", apks["mic"], "--against", apks["base"], "-f", "json")
    assert code == 1
    items = json.loads(out)["apps"][0]["check"]["items"]
    assert [(i["rule"], i["reason"]) for i in items if i["status"] == "fail"] == [
        ("capability.microphone", "new since base.apk")
    ]
    assert "(1 new since base.apk," in err


def test_baseline_update_replaces_the_findings(run: Run, apks: dict[str, str]) -> None:
    create_baseline(run, apks["base"])
    assert run("check", apks["mic"], "--baseline", "base.json")[0] == 1
    code, out, err = run("baseline", "update", apks["mic"], "--baseline", "base.json")
    assert (code, out) == (0, "")
    assert err.startswith("permaudit: updated base.json: ")
    assert run("check", apks["mic"], "--baseline", "base.json")[0] == 0


def test_baseline_create_refuses_to_overwrite(run: Run, apks: dict[str, str]) -> None:
    create_baseline(run, apks["base"])
    code, _, err = run("baseline", "create", apks["base"], "-o", "base.json")
    assert code == 2
    assert "base.json: already exists; use 'permaudit baseline update'" in err


def test_output_is_written_atomically_and_stdout_stays_empty(
    run: Run, apks: dict[str, str], tmp_path: Path
) -> None:
    code, out, err = run("check", apks["mic"], "-f", "sarif", "-o", "out.sarif")
    assert (code, out) == (1, "")
    assert err.startswith("permaudit: FAIL ")
    assert json.loads((tmp_path / "out.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []
    # An input error before rendering leaves no file at all.
    write(tmp_path / "bad.json", "nope")
    code, _, _ = run("check", apks["mic"], "--baseline", "bad.json", "-o", "never.sarif")
    assert code == 2
    assert not (tmp_path / "never.sarif").exists()


# --- exit codes, one per row --------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected", "stderr_start"),
    [
        (["check", "{base}", "--fail-on", "critical"], 0, "permaudit: PASS "),
        (["check", "{mic}"], 1, "permaudit: FAIL "),
        (
            ["check", "{base}", "--fail-on", "severe"],
            2,
            "permaudit: error: Invalid value for '--fail-on'",
        ),
        (["check", "{base}", "--no-such-flag"], 2, "permaudit: error: No such option"),
        (["check"], 2, "permaudit: error: Missing argument 'APP...'"),
        (["check", "missing.apk"], 2, "permaudit: error: missing.apk: "),
        (["check", "notzip.apk"], 2, "permaudit: error: notzip.apk: "),
        (
            ["check", "{base}", "--policy", "bad-policy.yml"],
            2,
            "bad-policy.yml:1:10: error: fail_on must be one of",
        ),
        (
            ["check", "{base}", "--baseline", "corrupt.json"],
            2,
            "permaudit: error: corrupt.json: corrupt baseline",
        ),
        (
            ["check", "{base}", "-o", "no/such/dir/out.txt"],
            2,
            "permaudit: error: no/such/dir/out.txt: cannot write",
        ),
        (
            ["check", "{base}", "--baseline", "corrupt.json", "--against", "{base}"],
            2,
            "permaudit: error: use --baseline or --against, not both",
        ),
        (
            ["check", "{base}", "--against", "{other}"],
            2,
            "permaudit: error: --against: no old build of ru.oneme.app",
        ),
    ],
)
def test_exit_codes(
    run: Run,
    apks: dict[str, str],
    tmp_path: Path,
    argv: list[str],
    expected: int,
    stderr_start: str,
) -> None:
    write(tmp_path / "notzip.apk", "this is not a zip")
    write(tmp_path / "bad-policy.yml", "fail_on: hihg\n")
    write(tmp_path / "corrupt.json", "{")
    signal = REPO / "fixtures" / "apk" / "signal-0036b8e2.apk"
    shutil.copy(signal, tmp_path / "other.apk")
    code, _, err = run(*(a.format(other="other.apk", **apks) for a in argv))
    assert code == expected, err
    assert err.startswith(stderr_start), err
    assert "Traceback" not in err


def test_an_internal_bug_is_exit_3_in_one_line(
    run: Run, apks: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> gate.Verdict:
        raise RuntimeError("boom")

    monkeypatch.setattr(gate, "decide", broken)
    code, out, err = run("check", apks["base"])
    assert (code, out) == (3, "")
    assert err == (
        "permaudit: internal error: RuntimeError: boom (this is a bug; please report it, "
        "with --debug output)\n"
    )
    code, _, err = run("--debug", "check", apks["base"])
    assert code == 3
    assert "Traceback (most recent call last)" in err
    assert "RuntimeError: boom" in err


def test_help_lists_the_exit_codes(run: Run) -> None:
    code, out, _ = run("check", "--help")
    assert code == 0
    assert "1  the policy failed (and nothing else)" in out
    assert "3  internal error" in out


# --- the GitHub Action runs the same command line -----------------------------------------


def action_script() -> tuple[str, dict[str, str]]:
    """The ``run:`` script of the action's check step and its env (with ``${{ }}`` inputs)."""
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "check")
    assert step["shell"] == "bash"
    return step["run"], step["env"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_action_step_runs_permaudit_check(tmp_path: Path, apks: dict[str, str]) -> None:
    script, env_template = action_script()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "permaudit"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m permaudit "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    inputs = {
        "apk": "mic.apk",
        "policy": "",
        "baseline": "base.json",
        "against": "",
        "fail-on": "high",
        "sarif": "results.sarif",
        "format": "github",
    }
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
    }
    for name, value in env_template.items():
        key = value.removeprefix("${{ inputs.").removesuffix(" }}")
        env[name] = inputs[key]

    def action(apk: str) -> subprocess.CompletedProcess[str]:
        env["PERMAUDIT_APK"] = apk
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    assert (
        subprocess.run(
            [str(shim), "baseline", "create", "base.apk", "-o", "base.json"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            check=False,
            timeout=120,
        ).returncode
        == 0
    )
    passed = action("base.apk")
    assert passed.returncode == 0, passed.stderr
    assert "::notice title=permaudit check::PASS " in passed.stdout
    failed = action("mic.apk")
    assert failed.returncode == 1, failed.stderr
    assert "::error file=mic.apk,title=permaudit capability.microphone (high)" in failed.stdout
    sarif = json.loads((tmp_path / "results.sarif").read_text(encoding="utf-8"))
    assert any(r["ruleId"] == "capability.microphone" for r in sarif["runs"][0]["results"])
    assert (
        (tmp_path / "github_output").read_text(encoding="utf-8").endswith("sarif=results.sarif\n")
    )


# --- docs/ci.md works as written -----------------------------------------------------------


def doc_commands() -> list[list[str]]:
    """Every ``permaudit check|baseline`` command line in docs/ci.md's code blocks."""
    import re
    import shlex

    text = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            line = re.sub(r"^\s*(- run: |- )", "", line).strip()
            if re.match(r"permaudit (check|baseline) ", line) and "..." not in line:
                commands.append(shlex.split(line)[1:])
    return commands


def test_docs_commands_run_against_the_fixtures(run: Run, apks: dict[str, str]) -> None:
    commands = doc_commands()
    assert len(commands) >= 6
    names = {
        "app-release.apk": apks["mic"],
        "last-release.apk": apks["base"],
    }
    code, _, err = run("baseline", "create", apks["base"], "-o", "permaudit-baseline.json")
    assert code == 0, err
    for argv in commands:
        argv = [names.get(a, a) for a in argv]
        if argv[:2] == ["baseline", "create"]:
            argv += ["--force"]
        code, _, err = run(*argv)
        assert code in (0, 1), (argv, err)
        assert err.startswith(("permaudit: PASS", "permaudit: FAIL", "permaudit: wrote")), err


def test_check_of_a_source_manifest_does_not_claim_what_an_old_target_sdk_implies(
    run: Run, corpus: Path
) -> None:
    """Conversations' src/main manifest has no <uses-sdk> (Gradle injects it): its target
    SDK is unknown, so neither background location nor call log is implied by "targetSdk 1"
    (split permissions need targetSdk < targetSdkBelow, PermissionManagerService)."""
    manifest = str(corpus / "manifests" / "Conversations-AndroidManifest.xml")
    code, out, _ = run("check", manifest, "--format", "json")
    document = json.loads(out)
    (entry,) = document["apps"]
    assert (entry["min_sdk"], entry["target_sdk"], entry["installable"]) == (None, None, None)
    assert entry["sdk_origin"]["target_sdk"] == "unknown"
    text = json.dumps(entry)
    assert "implied by targetSdk" not in text
    assert "background_location" not in text and "call_log" not in text
    given = run("check", manifest, "--target-sdk", "28", "--format", "json")[1]
    assert "capability.background_location" in given  # 28 < 29: implied, as Android does
    policy = write(Path("levels.yml"), "target_sdk: 28\nmin_sdk: 21\n")
    from_policy = run("check", manifest, "--policy", str(policy), "--format", "json")[1]
    assert "capability.background_location" in from_policy
    assert code in (0, 1)


def test_policy_sdk_levels_are_validated(run: Run, tmp_path: Path) -> None:
    policy = write(tmp_path / "bad.yml", "target_sdk: 0\nmin_sdk: nine\n")
    code, _, err = run("check", str(REPO / "fixtures" / "apk" / "max-26.19.2.apk"),
                       "--policy", str(policy))
    assert code == 2
    assert "bad.yml:1:13" in err and "bad.yml:2:10" in err
