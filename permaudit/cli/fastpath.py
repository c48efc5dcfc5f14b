"""Recognise the everyday ``permaudit scan`` command line without importing click.

Importing click costs ~25 ms with the standard modules it pulls in (inspect, datetime,
uuid, gettext, ...): a quarter of a whole scan, and the goal is a scan in a fifth of
androguard's time. So ``main`` first asks ``parse_scan``: a command line made only of
``scan``, its documented options in their plain spellings and input paths is parsed here
into the same ``ScanRequest`` the click command builds. Anything else -- ``--help``,
an unknown or malformed option, a value click would reject, ``--`` -- returns ``None``
and goes to click, which gives its usual messages. ``tests/test_fastpath.py`` checks on
generated command lines that whenever this parser answers, click agrees exactly.
"""

from __future__ import annotations

import os
from pathlib import Path

from permaudit.cli.run import ScanRequest
from permaudit.formatters import SCAN_FORMATS

#: Options that take a value, in every spelling click accepts for them here.
_VALUE_OPTIONS = {
    "-f": "--format",
    "--format": "--format",
    "--device-sdk": "--device-sdk",
    "--rules": "--rules",
    "-o": "--output",
    "--output": "--output",
}
_FLAGS = ("--recursive", "--hash")


def parse_scan(args: list[str]) -> ScanRequest | None:
    """The request of a plain ``scan`` command line; ``None`` for anything click must see."""
    if not args or args[0] != "scan":
        return None
    values: dict[str, str] = {}  # option -> its last value, as in click
    rules: list[Path] = []
    flags: set[str] = set()
    inputs: list[str] = []
    tokens = iter(args[1:])
    for token in tokens:
        if not token.startswith("-"):
            inputs.append(token)
            continue
        name, equals, value = token.partition("=")
        if name in _FLAGS and not equals:
            flags.add(name)
            continue
        option = _VALUE_OPTIONS.get(name)
        if option is None or (equals and not name.startswith("--")):
            return None  # unknown, -h/--help, "--", "-", "-fjson": click's to judge
        if not equals:
            value = next(tokens, "")
        if not _acceptable(option, value):
            return None
        if option == "--rules":
            rules.append(Path(value))
        else:
            values[option] = value
    if not inputs:
        return None
    output = values.get("--output")
    device_sdk = values.get("--device-sdk")
    return ScanRequest(
        inputs=tuple(inputs),
        fmt=values.get("--format", "table"),
        device_sdk=None if device_sdk is None else int(device_sdk),
        rules_files=tuple(rules),
        output=None if output is None else Path(output),
        recursive="--recursive" in flags,
        digest="--hash" in flags,
    )


def _acceptable(option: str, value: str) -> bool:
    """Whether click takes ``value`` for ``option`` unchanged (a value that looks like an
    option is left to click, whatever it would do with it)."""
    if not value or value.startswith("-"):
        return False
    if option == "--format":
        return value in SCAN_FORMATS
    if option == "--device-sdk":
        return value.isascii() and value.isdigit() and int(value) >= 1
    # --rules and --output: click.Path(dir_okay=False) refuses an existing directory.
    return not os.path.isdir(value)
