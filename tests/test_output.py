"""permaudit.output: stdout, special targets, symlinks, inputs, temp files, full disks."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from conftest import FIXTURES
from permaudit import output
from permaudit.cli import EXIT_INTERRUPTED, main
from permaudit.errors import PermauditError, UsageError

MAX_APK = FIXTURES / "apk" / "max-25.8.1.apk"


def test_dash_is_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["scan", "-f", "json", "-o", "-", str(MAX_APK)]) == 0
    assert json.loads(capsys.readouterr().out)["apps"]
    assert not (tmp_path / "-").exists()


def test_device_is_written_through_not_replaced() -> None:
    before = os.stat("/dev/null")
    output.write_output("report", Path("/dev/null"))
    after = os.stat("/dev/null")
    assert (after.st_ino, after.st_mode, after.st_rdev) == (
        before.st_ino, before.st_mode, before.st_rdev)


def test_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        output.write_output("through the pipe", fifo)
        assert os.read(reader, 100) == b"through the pipe\n"
    finally:
        os.close(reader)
    assert fifo.is_fifo()


def test_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    output.write_output("new", link)
    assert link.is_symlink()
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


def test_output_equal_to_an_input_is_refused(tmp_path: Path) -> None:
    apk = tmp_path / "app.apk"
    apk.write_bytes(MAX_APK.read_bytes())
    alias = tmp_path / "alias.apk"
    alias.symlink_to(apk)
    for target in (apk, alias, tmp_path / "." / "app.apk"):
        with pytest.raises(UsageError, match="also an input"):
            output.write_output("x", target, inputs=[str(apk)])
    assert apk.read_bytes() == MAX_APK.read_bytes()


def test_cli_output_equal_to_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apk = tmp_path / "app.apk"
    apk.write_bytes(MAX_APK.read_bytes())
    assert main(["scan", "-o", str(apk), str(apk)]) == 2
    err = capsys.readouterr().err
    assert err.count("permaudit: error:") == 1 and "also an input" in err
    assert apk.read_bytes() == MAX_APK.read_bytes()


def test_dev_full_is_a_clear_error() -> None:
    with pytest.raises(PermauditError, match="No space left"):
        output.write_output("x" * 100_000, Path("/dev/full"))


def test_temp_file_removed_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(PermauditError, match="No space left"):
        output.write_output("x", tmp_path / "out.txt")
    assert list(tmp_path.iterdir()) == []

    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        output.write_output("x", tmp_path / "out.txt")
    assert list(tmp_path.iterdir()) == []


def test_surrogate_file_names_are_encoded_visibly_and_losslessly(tmp_path: Path) -> None:
    name = os.fsdecode(b"\xff.apk")
    out = tmp_path / "r.json"
    output.write_output(json.dumps({"input": name}, ensure_ascii=False), out)
    raw = out.read_bytes()
    raw.decode("utf-8")  # valid UTF-8
    assert b"\\udcff" in raw
    assert os.fsencode(json.loads(raw)["input"]) == b"\xff.apk"


def test_non_utf8_names_in_sarif_and_output_path(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    apk = Path(os.fsdecode(bytes(tmp_path) + b"/\xff.apk"))
    apk.write_bytes(MAX_APK.read_bytes())
    for fmt in ("sarif", "json", "junit", "markdown", "github", "table"):
        out = Path(os.fsdecode(bytes(tmp_path) + b"/\xfe." + fmt.encode()))
        assert main(["check", "--exit-zero", "-f", fmt, "-o", str(out), str(apk)]) == 0, fmt
        out.read_bytes().decode("utf-8")
    assert "%FF.apk" in Path(os.fsdecode(bytes(tmp_path) + b"/\xfe.sarif")).read_text()
    capsys.readouterr()


COMMANDS = [
    ["scan"], ["check"], ["compare", str(MAX_APK)], ["diff", str(MAX_APK)],
    ["baseline", "create", "-o", "b.json"],
]


@pytest.mark.parametrize("command", COMMANDS)
def test_ctrl_c_exits_130_with_one_line(command: list[str], capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    import permaudit.app as app

    def sigint(*args: object, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        raise AssertionError("SIGINT was not delivered")

    monkeypatch.setattr(app, "load_apps", sigint)
    before = signal.getsignal(signal.SIGINT)
    assert main([*command, str(MAX_APK)]) == EXIT_INTERRUPTED
    err = capsys.readouterr().err
    assert err == "permaudit: interrupted\n"
    assert signal.getsignal(signal.SIGINT) is before
    assert list(tmp_path.iterdir()) == []
