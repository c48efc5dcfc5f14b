"""CLI behaviour of ``scan`` and ``rules``: exit codes, stdout/stderr separation, no tracebacks."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES
from permaudit.cli import main
from permaudit.formatters.json.report import SCHEMA_VERSION

MAX_APK = FIXTURES / "apk" / "max-25.8.1.apk"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Call ``main`` and return (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_scan_json_goes_to_stdout_only(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "scan", "--format", "json", str(MAX_APK))
    assert code == 0
    assert err == ""
    document = json.loads(out)
    assert document["schema_version"] == SCHEMA_VERSION == 2
    assert [app["package"] for app in document["apps"]] == ["ru.oneme.app"]


def test_scan_json_is_byte_identical_across_runs(capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "scan", "--format", "json", str(MAX_APK))[1]
    second = run(capsys, "scan", "--format", "json", str(MAX_APK))[1]
    assert first == second


def test_scan_reports_the_file_digest_only_with_hash(capsys: pytest.CaptureFixture[str]) -> None:
    expected = hashlib.sha256(MAX_APK.read_bytes()).hexdigest()
    plain = json.loads(run(capsys, "scan", "--format", "json", str(MAX_APK))[1])
    hashed = json.loads(run(capsys, "scan", "--format", "json", "--hash", str(MAX_APK))[1])
    assert plain["apps"][0]["input"]["sha256"] is None
    assert hashed["apps"][0]["input"]["sha256"] == expected
    hashed["apps"][0]["input"]["sha256"] = None
    assert hashed == plain  # the digest is the only difference
    table = run(capsys, "scan", "--hash", str(MAX_APK))[1]
    assert f"  sha256: {expected}\n" in table
    assert "sha256:" not in run(capsys, "scan", str(MAX_APK))[1]


def test_scan_table_has_no_colour_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", str(MAX_APK))
    assert code == 0
    assert "\033[" not in out
    assert "ru.oneme.app" in out
    assert "Microphone" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("scan", "/nonexistent/app.apk"), "/nonexistent/app.apk: "),
        (("scan", "--format", "yaml", "x.apk"), "Invalid value for '-f' / '--format'"),
        (("scan",), "Missing argument"),
        (("scan", "--device-sdk", "0", "x.apk"), "--device-sdk"),
        (("scan", "--device-sdk", "99", str(MAX_APK)), "--device-sdk 99"),
        (("nosuchcommand",), "No such command"),
    ],
)
def test_usage_and_input_errors_exit_2_with_one_clear_line(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert err.startswith("permaudit: error: ")
    assert message in err.splitlines()[0]
    assert "Traceback" not in err


def test_not_a_zip_names_the_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bogus = tmp_path / "notes.apk"
    bogus.write_text("hello, not an apk\n")
    code, out, err = run(capsys, "scan", str(bogus))
    assert (code, out) == (2, "")
    assert err.startswith(f"permaudit: error: {bogus}: ")
    assert len(err.strip().splitlines()) == 1


def test_one_bad_input_among_several_writes_no_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "report.json"
    code, out, err = run(
        capsys,
        "scan",
        "--format",
        "json",
        "-o",
        str(output),
        str(MAX_APK),
        str(tmp_path / "missing.apk"),
    )
    assert code == 2
    assert out == ""
    assert "missing.apk" in err
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_output_file_is_written_and_stdout_stays_empty(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    output = tmp_path / "report.json"
    code, out, err = run(capsys, "scan", "--format", "json", "-o", str(output), str(MAX_APK))
    assert (code, out, err) == (0, "", "")
    assert json.loads(output.read_text())["apps"][0]["package"] == "ru.oneme.app"


def test_unwritable_output_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(
        capsys, "scan", "-o", str(tmp_path / "no" / "such" / "dir.txt"), str(MAX_APK)
    )
    assert code == 2
    assert "cannot write" in err


def test_internal_error_is_exit_3_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    # Every command line runs permaudit.app.run_scan.
    monkeypatch.setattr("permaudit.app.analyse", explode)
    code, out, err = run(capsys, "scan", str(MAX_APK))
    assert code == 3
    assert out == ""
    assert "internal error: RuntimeError: boom" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, "--debug", "scan", str(MAX_APK))
    assert code == 3
    assert "Traceback" in err


def test_help_lists_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "Exit codes" in out
    assert "scan" in out


def test_rules_validate_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_compiled_copy(*_: object, **__: object) -> None:
        raise AssertionError("validate must read the YAML, not its compiled copy")

    monkeypatch.setattr("permaudit.rules.ruleset.compiled_default_ruleset", no_compiled_copy)
    code, out, err = run(capsys, "rules", "validate", "--default")
    assert code == 0, err
    assert out.startswith("ok: the default ruleset: ruleset permaudit-default with ")


def test_rules_validate_reports_every_error_with_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("rules:\n  - id: x.y\n    severty: high\n    title: t\n")
    code, out, err = run(capsys, "rules", "validate", str(bad))
    assert code == 2
    assert out == ""
    assert f"{bad}:3:5: error:" in err
    assert "severty" in err


def test_python_dash_m_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "permaudit", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout.startswith("permaudit, version ")


def test_compare_counts_apps_not_arguments(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "apps"
    folder.mkdir()
    for name in ("max-25.8.1.apk", "telegram-11.13.0.apk"):
        (folder / name).write_bytes((FIXTURES / "apk" / name).read_bytes())
    code, out, err = run(capsys, "compare", "--format", "json", str(folder))
    assert (code, err) == (0, "")
    packages = [app["package"] for app in json.loads(out)["apps"]]
    assert packages == ["ru.oneme.app", "org.telegram.messenger"]
    (folder / "telegram-11.13.0.apk").unlink()
    code, out, err = run(capsys, "compare", str(folder))
    assert (code, out) == (2, "")
    assert "compare needs at least two apps" in err


@pytest.mark.parametrize(
    ("tty", "no_color", "output", "expected"),
    [
        (True, None, None, True),
        (True, "1", None, False),
        (False, None, None, False),
        (True, None, Path("report.txt"), False),
    ],
)
def test_colour_only_on_a_terminal_without_no_color(
    monkeypatch: pytest.MonkeyPatch, tty: bool, no_color: str | None, output: Path | None,
    expected: bool,
) -> None:
    from permaudit.output import use_color

    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert use_color(output) is expected


def test_a_device_below_the_apps_min_sdk_is_called_out(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", "--format", "json", "--device-sdk", "22", str(MAX_APK))
    assert code == 0
    assert json.loads(out)["apps"][0]["installable"] is False
    code, out, _ = run(capsys, "scan", "--device-sdk", "22", str(MAX_APK))
    assert "cannot be installed there (it needs API 29)" in " ".join(out.split())  # wrapped
    code, out, _ = run(capsys, "scan", "--format", "json", "--device-sdk", "29", str(MAX_APK))
    assert json.loads(out)["apps"][0]["installable"] is True


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sacn", "app.apk"], "permaudit: error: no such command 'sacn' (did you mean 'scan'?)\n"),
        (["comapre"], "permaudit: error: no such command 'comapre' (did you mean 'compare'?)\n"),
        (["rules", "lsit"], "permaudit: error: no such command 'lsit' (did you mean 'list'?)\n"),
        (
            ["baseline", "craete"],
            "permaudit: error: no such command 'craete' (did you mean 'create'?)\n",
        ),
    ],
)
def test_a_mistyped_command_gets_one_line_with_a_suggestion(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    assert run(capsys, *args) == (2, "", expected)


def test_an_unknown_command_without_a_close_match_gets_the_help_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "frobnicate")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "permaudit: error: No such command 'frobnicate'.",
        "Try 'permaudit --help' for help.",
    ]


def test_shell_completion_as_documented(tmp_path: Path) -> None:
    """README's ``_PERMAUDIT_COMPLETE`` recipe: the script, then a completion of ``sc``."""
    script = subprocess.run(
        [sys.executable, "-m", "permaudit"],
        env={"_PERMAUDIT_COMPLETE": "bash_source", "PATH": ""},
        capture_output=True, text=True, check=True,
    )
    assert "_permaudit_completion()" in script.stdout
    answer = subprocess.run(
        [sys.executable, "-m", "permaudit"],
        env={"_PERMAUDIT_COMPLETE": "bash_complete", "COMP_WORDS": "permaudit sc",
             "COMP_CWORD": "1", "PATH": ""},
        capture_output=True, text=True, check=True,
    )
    assert answer.stdout.split() == ["plain,scan"]
