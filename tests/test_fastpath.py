"""The click-free ``scan`` parser agrees with click whenever it answers (permaudit.cli.fastpath)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, REPO
from permaudit.cli.common import RECURSIVE_META
from permaudit.cli.fastpath import parse_scan
from permaudit.cli.run import ScanRequest
from permaudit.cli.scan import scan

MAX_APK = FIXTURES / "apk" / "max-25.8.1.apk"
A_DIRECTORY = str(REPO / "fixtures")

#: What command lines are made of: input paths, each option followed by a value (good,
#: bad, or one that looks like an option), every other spelling, and things only click
#: understands.
PATHS = ["a.apk", "b.apk", "dir/", A_DIRECTORY, ""]
VALUES = [
    "json", "table", "yaml", "30", "0", "-1", "+5", " 5", "x", "\u0663", "r.yml", "out.json",
    A_DIRECTORY, "", "--hash", "-",
]
OPTIONS = ["-f", "--format", "--device-sdk", "--rules", "-o", "--output"]
SINGLE = [
    "--format=json", "--format=", "-fjson", "-f=json", "--device-sdk=36", "--device-sdk=0",
    "--rules=r.yml", "--rules=", "--output=out.json", "--recursive", "--hash", "--hash=1",
    "--recursive=yes", "--", "-", "-x", "--nope", "-h", "--help", "--debug", "--form",
]
OPTION_WITH_VALUE = st.tuples(st.sampled_from(OPTIONS), st.sampled_from(VALUES)).map(list)
#: Any unit; an option with an arbitrary value is the likeliest (where parsers differ).
ANY_UNIT = st.one_of(
    OPTION_WITH_VALUE,
    OPTION_WITH_VALUE,
    OPTION_WITH_VALUE,
    st.sampled_from(PATHS).map(lambda p: [p]),
    st.sampled_from(SINGLE).map(lambda t: [t]),
    st.sampled_from(OPTIONS).map(lambda o: [o]),  # an option without its value
)
#: Options the fast path takes, so most generated lines are all-but-one or two valid.
GOOD_UNIT = st.sampled_from(
    [
        ["-f", "json"], ["--format", "table"], ["--format=json"], ["--device-sdk", "30"],
        ["--device-sdk=36"], ["--rules", "r.yml"], ["--rules=x.yml"], ["-o", "out.json"],
        ["--output=r.txt"], ["--recursive"], ["--hash"],
    ]
)


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """Input paths and valid options in any order, with up to two arbitrary units among them."""
    paths = draw(st.lists(st.sampled_from(["a.apk", "b.apk"]), min_size=1, max_size=2))
    units = [[path] for path in paths]
    units += draw(st.lists(GOOD_UNIT, max_size=4))
    for odd in draw(st.lists(ANY_UNIT, min_size=1, max_size=2)):
        units.insert(draw(st.integers(0, len(units))), odd)
    return [token for unit in units for token in unit]


def click_request(args: list[str]) -> ScanRequest:
    """What the click ``scan`` command would run for ``args`` (``scan`` excluded)."""
    with scan.make_context("scan", list(args)) as ctx:
        params = ctx.params
        return ScanRequest(
            inputs=params["inputs"],
            fmt=params["fmt"],
            device_sdk=params["device_sdk"],
            rules_files=params["rules_files"],
            output=params["output"],
            recursive=bool(ctx.meta.get(RECURSIVE_META)),
            digest=params["digest"],
        )


@settings(max_examples=1000, deadline=None)
@given(command_lines())
def test_whenever_the_fast_parser_answers_click_agrees(tokens: list[str]) -> None:
    request = parse_scan(["scan", *tokens])
    if request is None:
        return
    try:
        expected = click_request(tokens)
    except click.exceptions.ClickException as exc:  # pragma: no cover - a failure
        pytest.fail(f"fast path accepted {tokens!r}, click refused: {exc.format_message()}")
    assert request == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["scan", "app.apk"], ScanRequest(inputs=("app.apk",))),
        (
            ["scan", "--format", "json", "--device-sdk", "30", "a.apk", "-o", "r.json", "b.apk"],
            ScanRequest(
                inputs=("a.apk", "b.apk"), fmt="json", device_sdk=30, output=Path("r.json")
            ),
        ),
        (
            ["scan", "-f", "table", "--format=json", "--rules", "x.yml", "--rules=y.yml",
             "--recursive", "--hash", "d"],
            ScanRequest(
                inputs=("d",), fmt="json", rules_files=(Path("x.yml"), Path("y.yml")),
                recursive=True, digest=True,
            ),
        ),
    ],
)
def test_everyday_scan_lines_take_the_fast_path(args: list[str], expected: ScanRequest) -> None:
    assert parse_scan(args) == expected
    assert click_request(args[1:]) == expected


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["scan"],
        ["scan", "--help"],
        ["scan", "-h", "a.apk"],
        ["--debug", "scan", "a.apk"],
        ["compare", "a.apk", "b.apk"],
        ["scan", "--format", "yaml", "a.apk"],
        ["scan", "--device-sdk", "0", "a.apk"],
        ["scan", "--device-sdk"],
        ["scan", "--rules", A_DIRECTORY, "a.apk"],
        ["scan", "--", "a.apk"],
        ["scan", "-fjson", "a.apk"],
        ["scan", "--hash=yes", "a.apk"],
    ],
)
def test_everything_else_is_left_to_click(args: list[str]) -> None:
    assert parse_scan(args) is None


def test_a_scan_does_not_import_click() -> None:
    code = (
        "import sys\n"
        "from permaudit.cli import main\n"
        f"status = main(['scan', '--format', 'json', {str(MAX_APK)!r}])\n"
        "sys.stderr.write(f'{status} {\"click\" in sys.modules}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=REPO
    )
    assert done.stderr == "0 False"
    assert '"package": "ru.oneme.app"' in done.stdout
