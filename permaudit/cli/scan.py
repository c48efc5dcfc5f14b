"""``permaudit scan``: audit one or more apps and print a report for each."""

from __future__ import annotations

from pathlib import Path

import click

from permaudit.cli.common import (
    analyse,
    device_sdk_option,
    format_option,
    hash_option,
    load_apps,
    load_rules,
    output_option,
    recursive_option,
    rules_option,
    use_color,
    write_output,
)
from permaudit.formatters import SCAN_FORMATS, render_scan


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inputs", nargs=-1, required=True, metavar="APP...")
@format_option(SCAN_FORMATS)
@recursive_option
@device_sdk_option
@rules_option
@output_option
@hash_option
def scan(
    inputs: tuple[str, ...],
    fmt: str,
    device_sdk: int | None,
    rules_files: tuple[Path, ...],
    output: Path | None,
    digest: bool,
) -> int:
    """Report what each app can reach on a phone, why, and how risky that is.

    APP is an APK, a split set (.apks, .xapk, .apkm, or a base APK with its
    splits), an App Bundle (.aab), a text or binary AndroidManifest.xml, or a
    directory of those; the kind is decided by content. Only the manifest and
    the signatures are read (and the whole file with --hash). Every input is
    checked before any report is written: one unreadable file stops the run
    with exit code 2.
    """
    apps = load_apps(inputs, digest=digest)
    result = analyse(apps, load_rules(rules_files), device_sdk)
    write_output(render_scan(fmt, result, color=use_color(output)), output)
    return 0
