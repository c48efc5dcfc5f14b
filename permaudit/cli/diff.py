"""``permaudit diff``: what a new build of an app adds, removes or loosens, worst first."""

from __future__ import annotations

from pathlib import Path

import click

from permaudit.app import DiffRequest, run_diff
from permaudit.cli.options import (
    code_option,
    device_sdk_option,
    format_option,
    locale_option,
    output_option,
    picked_format,
    recursive_option,
    rules_option,
    say_picked,
)
from permaudit.formatters import DIFF_FORMATS


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@format_option(DIFF_FORMATS, from_output=True)
@recursive_option
@device_sdk_option
@rules_option
@output_option
@locale_option
@code_option
def diff(
    old: str,
    new: str,
    fmt: str | None,
    recursive: bool,
    device_sdk: int | None,
    rules_files: tuple[Path, ...],
    output: Path | None,
    locale: str | None,
    no_code: bool,
) -> int:
    """Show what changed from build OLD to build NEW of one app.

    Permissions and capabilities gained or lost, maxSdkVersion and element changes,
    implied permissions, exported components, application flags and SDK levels;
    trackers, server owners and countries, API use and native libraries in the
    code (unless --no-code); each change with a severity, worst first.
    """
    fmt, note = picked_format(fmt, output, DIFF_FORMATS)
    code = run_diff(
        DiffRequest(
            old=old, new=new, fmt=fmt, device_sdk=device_sdk, rules_files=rules_files,
            output=output, recursive=recursive, locale=locale, code=not no_code,
        )
    )
    say_picked(note)
    return code
