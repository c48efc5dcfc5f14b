"""``permaudit compare``: several apps side by side, grouped by what they can reach."""

from __future__ import annotations

from pathlib import Path

import click

from permaudit.app import CompareRequest, run_compare
from permaudit.cli.options import (
    app_sdk_options,
    code_option,
    device_sdk_option,
    format_option,
    hash_option,
    keep_going_option,
    locale_option,
    output_option,
    picked_format,
    recursive_option,
    rules_option,
    say_picked,
)
from permaudit.formatters import COMPARE_FORMATS


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inputs", nargs=-1, required=True, metavar="APP APP [APP...]")
@format_option(COMPARE_FORMATS, from_output=True)
@recursive_option
@device_sdk_option
@app_sdk_options
@rules_option
@output_option
@keep_going_option
@hash_option
@code_option
@locale_option
def compare(
    inputs: tuple[str, ...],
    fmt: str | None,
    recursive: bool,
    device_sdk: int | None,
    target_sdk: int | None,
    min_sdk: int | None,
    rules_files: tuple[Path, ...],
    output: Path | None,
    keep_going: bool,
    digest: bool,
    no_code: bool,
    locale: str | None,
) -> int:
    """Compare what two or more apps can reach, capability by capability.

    Columns are the apps in the order given; two versions of one package are
    labelled by version. Every input is read before anything is written: one
    unreadable file stops the run with exit code 2 (with --keep-going it is listed on
    stderr, the others are compared, and the exit code is 2).
    """
    fmt, note = picked_format(fmt, output, COMPARE_FORMATS)
    code = run_compare(
        CompareRequest(
            inputs=inputs, fmt=fmt, device_sdk=device_sdk, rules_files=rules_files,
            target_sdk=target_sdk, min_sdk=min_sdk,
            output=output, recursive=recursive, keep_going=keep_going, digest=digest,
            code=not no_code, locale=locale,
        )
    )
    say_picked(note)
    return code
