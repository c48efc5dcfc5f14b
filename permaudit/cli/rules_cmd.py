"""``permaudit rules validate|list``: check rule files and show what a ruleset contains."""

from __future__ import annotations

from pathlib import Path

import click

from permaudit.app import RulesListRequest, RulesValidateRequest, run_rules_list, run_rules_validate
from permaudit.cli.group import SuggestingGroup
from permaudit.cli.options import format_option, output_option, rules_option
from permaudit.formatters import RULES_FORMATS


@click.group("rules", cls=SuggestingGroup, context_settings={"help_option_names": ["-h", "--help"]})
def rules_group() -> None:
    """Validate rule files and list the rules in force."""


@rules_group.command("validate")
@click.option(
    "--default", "check_default", is_flag=True, help="Validate the shipped default ruleset."
)
@click.argument(
    "files", nargs=-1, type=click.Path(path_type=Path, dir_okay=False), metavar="[FILE...]"
)
def validate(check_default: bool, files: tuple[Path, ...]) -> int:
    """Validate rule FILEs as they would be used: on top of the default ruleset.

    Every problem is reported at once as FILE:LINE:COL: error: MESSAGE (exit 2).
    """
    if not files and not check_default:
        raise click.UsageError("give --default, one or more rule FILEs, or both")
    return run_rules_validate(RulesValidateRequest(files=files))


@rules_group.command("list")
@rules_option
@format_option(RULES_FORMATS)
@output_option
def list_command(rules_files: tuple[Path, ...], fmt: str, output: Path | None) -> int:
    """List every capability and rule, with severity and where it is defined."""
    return run_rules_list(RulesListRequest(rules_files=rules_files, fmt=fmt, output=output))
