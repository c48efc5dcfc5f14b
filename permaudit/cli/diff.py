"""``permaudit diff``: what a new build of an app adds, removes or loosens, worst first."""

from __future__ import annotations

from pathlib import Path

import click

from permaudit.cli.common import (
    device_sdk_option,
    format_option,
    load_apps,
    output_option,
    recursive_option,
    rules_option,
)
from permaudit.cli.run import analyse, load_rules, use_color, write_output
from permaudit.diff import diff as diff_reports
from permaudit.formatters import DIFF_FORMATS, renderer
from permaudit.model import App


def one_app(path: str, role: str) -> App:
    """The single app ``path`` stands for; a directory of several apps is a usage error."""
    apps = load_apps([path])
    if len(apps) != 1:
        raise click.UsageError(
            f"{role} must be one app (an APK, a bundle or a set of splits); "
            f"{path} holds {len(apps)} apps"
        )
    return apps[0]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@format_option(DIFF_FORMATS)
@recursive_option
@device_sdk_option
@rules_option
@output_option
def diff(
    old: str,
    new: str,
    fmt: str,
    device_sdk: int | None,
    rules_files: tuple[Path, ...],
    output: Path | None,
) -> int:
    """Show what changed from build OLD to build NEW of one app.

    Permissions and capabilities gained or lost, maxSdkVersion and element changes,
    implied permissions, exported components, application flags and SDK levels;
    each change with a severity from the ruleset, worst first.
    """
    apps = [one_app(old, "OLD"), one_app(new, "NEW")]
    scanned = analyse(apps, load_rules(rules_files), device_sdk)
    result = diff_reports(
        *scanned.reports, ruleset=scanned.ruleset, tool_version=scanned.tool_version
    )
    if not result.same_package:
        click.echo(
            f"permaudit: warning: {old} is {result.old.package} but {new} is "
            f"{result.new.package}; diffing two different apps",
            err=True,
        )
    write_output(renderer(DIFF_FORMATS, fmt)(result, color=use_color(output)), output)
    return 0
