"""``permaudit compare``: several apps side by side, grouped by what they can reach."""

from __future__ import annotations

from pathlib import Path

import click

from permaudit.cli.common import (
    device_sdk_option,
    format_option,
    hash_option,
    load_apps,
    output_option,
    recursive_option,
    rules_option,
)
from permaudit.cli.run import analyse, load_rules, use_color, write_output
from permaudit.compare import compare as compare_reports
from permaudit.errors import PermauditError
from permaudit.formatters import COMPARE_FORMATS, renderer


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inputs", nargs=-1, required=True, metavar="APP APP [APP...]")
@format_option(COMPARE_FORMATS)
@recursive_option
@device_sdk_option
@rules_option
@output_option
@hash_option
def compare(
    inputs: tuple[str, ...],
    fmt: str,
    device_sdk: int | None,
    rules_files: tuple[Path, ...],
    output: Path | None,
    digest: bool,
) -> int:
    """Compare what two or more apps can reach, capability by capability.

    Columns are the apps in the order given; two versions of one package are
    labelled by version. Every input is read before anything is written: one
    unreadable file stops the run with exit code 2.
    """
    apps = load_apps(inputs, digest=digest)
    if len(apps) < 2:
        raise PermauditError(
            f"compare needs at least two apps, got one ({', '.join(inputs)}); "
            "use 'permaudit scan' for a single app"
        )
    scanned = analyse(apps, load_rules(rules_files), device_sdk)
    result = compare_reports(
        scanned.reports, ruleset=scanned.ruleset, tool_version=scanned.tool_version
    )
    write_output(renderer(COMPARE_FORMATS, fmt)(result, color=use_color(output)), output)
    return 0
