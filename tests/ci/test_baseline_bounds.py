"""Hostile baselines, generated here: deep JSON, huge numbers, special files -> exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from permaudit.ci.baseline import MAX_INT_DIGITS, MAX_JSON_DEPTH
from permaudit.cli import main

APK = Path(__file__).parents[2] / "fixtures" / "apk" / "max-25.8.1.apk"


def run(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["check", "--baseline", str(path), str(APK)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("permaudit: error:")]
    assert len(errors) == 1, err
    assert str(path) in errors[0]
    return errors[0]


def test_deep_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "b.json"
    path.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    assert f"nested deeper than {MAX_JSON_DEPTH} levels (line 1 column" in run(path, capsys)


def test_brackets_inside_strings_do_not_count(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "b.json"
    path.write_text('{"a": "' + "[" * 100 + '\\"["}', encoding="utf-8")
    assert "nested deeper" not in run(path, capsys)


def test_huge_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "b.json"
    path.write_text('{"schema_version": ' + "9" * 5000 + "}", encoding="utf-8")
    assert f"number of 5000 digits (at most {MAX_INT_DIGITS})" in run(path, capsys)


def test_fifo_and_dev_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "b.json"
    os.mkfifo(fifo)
    assert "not a regular file" in run(fifo, capsys)
    assert "not a regular file" in run(Path("/dev/zero"), capsys)
