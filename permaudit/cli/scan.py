"""``permaudit scan``: audit one or more apps and print a report for each."""

from __future__ import annotations

from pathlib import Path

import click

from permaudit.app import ScanRequest, run_scan
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
from permaudit.formatters import SCAN_FORMATS


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inputs", nargs=-1, required=True, metavar="APP...")
@format_option(SCAN_FORMATS, from_output=True)
@recursive_option
@device_sdk_option
@app_sdk_options
@rules_option
@output_option
@keep_going_option
@hash_option
@code_option
@locale_option
def scan(
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
    """Report what each app can reach on a phone, why, and how risky that is.

    APP is an APK, a split set (.apks, .xapk, .apkm, or a base APK with its
    splits), an App Bundle (.aab), a text or binary AndroidManifest.xml, or a
    directory of those; the kind is decided by content. Only the manifest and
    the signatures are read (and the whole file with --hash). Every input is
    checked before any report is written: one unreadable file stops the run
    with exit code 2; with --keep-going it becomes an error entry in the report
    (JSON "errors") and on stderr, the others are reported, and the exit code is
    2 when any input failed (0 otherwise).
    """
    fmt, note = picked_format(fmt, output, SCAN_FORMATS)
    code = run_scan(
        ScanRequest(
            inputs=inputs, fmt=fmt, device_sdk=device_sdk, rules_files=rules_files,
            output=output, recursive=recursive, keep_going=keep_going, digest=digest,
            code=not no_code, target_sdk=target_sdk, min_sdk=min_sdk, locale=locale,
        )
    )
    say_picked(note)
    return code
