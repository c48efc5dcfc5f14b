"""--keep-going: unreadable inputs become error entries; a lone split is scanned alone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from permaudit.app import CheckRequest, ScanRequest, run_check, run_scan
from permaudit.errors import EXIT_INPUT_FAILED, EXIT_OK, EXIT_POLICY_FAILURE, InputError
from permaudit.inputs.loader import load_inputs, load_inputs_keep_going
from tests.conftest import REPO

GOOD = REPO / "fixtures" / "apk" / "signal-0036b8e2.apk"


def _broken(tmp_path: Path) -> Path:
    bad = tmp_path / "broken.apk"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    return bad


def test_without_the_flag_one_bad_file_stops_the_run(tmp_path: Path) -> None:
    shutil.copyfile(GOOD, tmp_path / "good.apk")
    _broken(tmp_path)
    with pytest.raises(InputError):
        load_inputs([str(tmp_path)])


def test_keep_going_loads_the_others_and_names_the_failure(tmp_path: Path) -> None:
    shutil.copyfile(GOOD, tmp_path / "good.apk")
    bad = _broken(tmp_path)
    apps, failures = load_inputs_keep_going([str(tmp_path), str(tmp_path / "missing.apk")])
    assert [a.input.path for a in apps] == [str(tmp_path / "good.apk")]
    assert [(f.path, f.error) for f in failures] == [
        (str(bad), "InputError"),
        (str(tmp_path / "missing.apk"), "InputError"),
    ]
    assert all(f.message and "\n" not in f.message for f in failures)


def test_scan_keep_going_writes_the_report_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _broken(tmp_path)
    out = tmp_path / "report.json"
    code = run_scan(
        ScanRequest(inputs=(str(GOOD), str(bad)), fmt="json", output=out, keep_going=True)
    )
    assert code == EXIT_INPUT_FAILED
    document = json.loads(out.read_text())
    assert [a["package"] for a in document["apps"]] == ["org.thoughtcrime.securesms"]
    assert [(e["path"], e["error"]) for e in document["errors"]] == [(str(bad), "InputError")]
    assert f"permaudit: error: {bad}: " in capsys.readouterr().err


def test_scan_keep_going_all_read_is_exit_0_and_no_errors_key(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    code = run_scan(ScanRequest(inputs=(str(GOOD),), fmt="json", output=out, keep_going=True))
    assert code == EXIT_OK
    assert "errors" not in json.loads(out.read_text())


def test_check_policy_failure_wins_over_an_input_failure(tmp_path: Path) -> None:
    bad = _broken(tmp_path)
    policy = tmp_path / "policy.yml"
    policy.write_text("fail_on: info\n")
    request = CheckRequest(
        inputs=(str(GOOD), str(bad)), policy_path=policy, fmt="json",
        output=tmp_path / "check.json", keep_going=True,
    )
    assert run_check(request) == EXIT_POLICY_FAILURE
    assert run_check(CheckRequest(
        inputs=(str(GOOD), str(bad)), policy_path=policy, fmt="json",
        output=tmp_path / "check.json", keep_going=True, exit_zero=True,
    )) == EXIT_INPUT_FAILED


def test_lone_split_in_a_directory_is_scanned_alone_with_a_note(
    corpus: Path, tmp_path: Path
) -> None:
    split = corpus / "bundles" / "dynamicfeatures.ondemand-split_config.en.apk"
    shutil.copyfile(split, tmp_path / split.name)
    shutil.copyfile(GOOD, tmp_path / "good.apk")
    apps = load_inputs([str(tmp_path)])
    assert [a.input.kind for a in apps] == ["apk", "apk"]
    lone = next(a for a in apps if a.input.path.endswith(split.name))
    assert lone.manifest.split == "config.en"
    assert any("without its base APK" in n and "scanned on its own" in n for n in lone.notes)


def test_corpus_apk_directory_scans(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus.json"
    assert run_scan(ScanRequest(inputs=(str(corpus / "apk"),), fmt="json", output=out)) == 0
    assert len(json.loads(out.read_text())["apps"]) > 50
