"""Terminal tables fit the width (``COLUMNS``): no line is wider, except one unbreakable token.

Every text report is rendered through ``main`` at 80, 120 and 200 columns (the width comes
from ``COLUMNS``, as on a terminal) and every line is checked; ids are never broken.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO
from permaudit.cli import main
from permaudit.formatters import COMPARE_FORMATS, renderer
from permaudit.formatters.text.layout import (
    DEFAULT_WIDTH,
    block_rows,
    cell,
    table,
    text_width,
    wrap,
)
from permaudit.model import Component, Severity
from permaudit.output import text_width as output_width
from permaudit.views.compare import compare
from tests.views.test_compare import finding, hit, perm, report

WIDTHS = (80, 120, 200)
MAX = "fixtures/apk/max-25.8.1.apk"
MAX_NEW = "fixtures/apk/max-26.19.2.apk"
ALL_APKS = sorted(str(p.relative_to(REPO)) for p in (FIXTURES / "apk").glob("*.apk"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def too_wide(text: str, width: int) -> list[str]:
    """Lines wider than ``width`` that hold more than one token (those could have wrapped)."""
    return [
        line for line in text.splitlines()
        if text_width(line) > width and len(line.split()) != 1
    ]


def run_at(width: int, args: list[str], monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(args) in (0, 1)
    return capsys.readouterr().out


COMMANDS = {
    "scan": ["scan", *ALL_APKS],
    "compare-3": ["compare", MAX, "fixtures/apk/whatsapp-2.24.24.78.apk",
                  "fixtures/apk/telegram-11.13.0.apk"],
    "compare-all": ["compare", *ALL_APKS],
    "diff": ["diff", MAX, MAX_NEW],
    "check": ["check", MAX],
    "rules-list": ["rules", "list"],
}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_text_report_fits_the_terminal(
    command: str, width: int, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run_at(width, COMMANDS[command], monkeypatch, capsys)
    assert out.strip()
    assert too_wide(out, width) == []


def test_the_checker_catches_a_line_that_could_have_wrapped() -> None:
    assert too_wide("a " * 50, 80) == ["a " * 50]
    assert too_wide("x" * 90, 80) == []  # one token: nowhere to break it


@pytest.mark.parametrize("width", WIDTHS)
def test_rule_ids_and_permission_names_are_never_broken(
    width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    words = set(run_at(width, ["rules", "list"], monkeypatch, capsys).split())
    assert "hardening.target_sdk_below_play_minimum" in words
    assert "exported.provider" in words
    scan = set(run_at(width, ["scan", MAX_NEW], monkeypatch, capsys).split())
    assert "com.sonymobile.home.permission.PROVIDER_INSERT_BADGE" in scan
    assert "REQUEST_IGNORE_BATTERY_OPTIMIZATIONS" in scan


def test_wide_terminal_gets_the_side_by_side_grid(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wide = run_at(200, COMMANDS["compare-3"], monkeypatch, capsys)
    narrow = run_at(80, COMMANDS["compare-3"], monkeypatch, capsys)
    assert "│ capability" in wide
    assert "│ capability" not in narrow  # one block per capability instead
    assert "Microphone (microphone, high)" in narrow


def many_apps_comparison(count: int) -> str:
    reports = [
        report(
            f"com.example.app{index:03d}",
            permissions=[perm("CAMERA", "camera"), perm(f"com.example.p{index}.X")],
            capabilities=[hit("camera", "CAMERA", severity=Severity.HIGH, access=("photo",))]
            if index % 3 else [],
            findings=[finding("exported.service", f"service:com.example.S{index}")]
            if index % 2 else [],
            components=[Component(kind="service", name=f"com.example.S{index}", exported=True)],
        )
        for index in range(count)
    ]
    return renderer(COMPARE_FORMATS, "table")(compare(reports), color=False, width=DEFAULT_WIDTH)


def test_compare_of_120_apps_has_no_giant_line() -> None:
    text = many_apps_comparison(120)
    assert too_wide(text, DEFAULT_WIDTH) == []
    assert max(text_width(line) for line in text.splitlines()) <= DEFAULT_WIDTH
    # One block per row: which apps share a value, every app named.
    assert "com.example.app000" in text and "com.example.app119" in text
    assert "  all apps: yes" in text  # CAMERA: every app requests it


def test_width_comes_from_columns_else_80_off_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert output_width(None) == 80  # pytest's stdout is not a terminal
    assert output_width(Path("report.txt")) == 80
    monkeypatch.setenv("COLUMNS", "132")
    assert output_width(None) == 132
    monkeypatch.setenv("COLUMNS", "5")
    assert output_width(None) == 40  # the narrowest layout
    monkeypatch.setenv("COLUMNS", "wide")
    assert output_width(None) == 80


def test_wrap_breaks_only_between_words() -> None:
    text = "via service:com.example.VeryLongServiceNameThatDoesNotFit, CAMERA"
    lines = wrap(text, 20)
    assert " ".join(line.strip() for line in lines) == text
    assert "service:com.example.VeryLongServiceNameThatDoesNotFit," in [
        line.strip() for line in lines
    ]


def test_table_shrinks_then_hangs_then_falls_back_to_blocks() -> None:
    rows = [["com.example.permission.A_VERY_LONG_NAME", "yes", "a b c d e f g h"]]
    natural = table(["permission", "applies", "capability"], rows, 200)
    assert natural is not None and len(natural) == 3
    hung = table(["permission", "applies", "capability"], rows, 44, hang=0)
    assert hung is not None
    assert hung[2] == "com.example.permission.A_VERY_LONG_NAME"  # on its own line
    assert all(text_width(line) <= 44 for line in hung[3:])
    blocks = table(["permission", "applies", "capability"], rows, 40)
    assert blocks == block_rows(["permission", "applies", "capability"],
                                [[cell(v) for v in rows[0]]], 40)
    assert blocks[0] == "com.example.permission.A_VERY_LONG_NAME"
    assert blocks[1:] == ["    applies: yes; capability: a b c d e", "      f g h"]


def test_colour_does_not_change_the_layout() -> None:
    reports = [
        report(f"com.example.app{i}", capabilities=[hit("camera", "CAMERA")],
               permissions=[perm("CAMERA", "camera")])
        for i in range(4)
    ]
    result = compare(reports)
    for width in WIDTHS:
        plain = renderer(COMPARE_FORMATS, "table")(result, color=False, width=width)
        coloured = renderer(COMPARE_FORMATS, "table")(result, color=True, width=width)
        assert ANSI.sub("", coloured) == plain


def test_wide_characters_count_two_columns() -> None:
    assert text_width("日本語") == 6
    assert text_width("\x1b[31mred\x1b[0m") == 3
    lines = wrap("日本語 日本語 日本語 日本語", 14)
    assert lines == ["日本語 日本語", "  日本語", "  日本語"]  # 13, then 2 + 13 > 14
    assert all(text_width(line) <= 14 for line in lines)


def test_compare_with_wide_character_labels_fits() -> None:
    reports = [
        report(f"com.example.{name}", capabilities=[hit("camera", "CAMERA", access=("写真",))],
               permissions=[perm("CAMERA", "camera")], version="版本 " * 6)
        for name in ("a", "b", "c")
    ]
    for width in WIDTHS:
        text = renderer(COMPARE_FORMATS, "table")(compare(reports), color=False, width=width)
        assert too_wide(text, width) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_tamper_evidence_fits_the_width(
    width: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.inputs.binary.test_zip64_crc import _wrong_crc

    edited = tmp_path / "edited.apk"
    edited.write_bytes(_wrong_crc((FIXTURES / "apk" / "signal-0036b8e2.apk").read_bytes(),
                                  "resources.arsc"))
    out = run_at(width, ["scan", str(edited)], monkeypatch, capsys)
    assert "Tamper evidence" in out
    assert too_wide(out, width) == []
