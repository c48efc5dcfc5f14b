"""``permaudit rules validate|list``: check rule files and show what a ruleset contains."""

from __future__ import annotations

from pathlib import Path

import click

from permaudit.cli.common import format_option, output_option, rules_option
from permaudit.cli.run import write_output


@click.group("rules", context_settings={"help_option_names": ["-h", "--help"]})
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
    from permaudit.ruleset import validate_files

    if not files and not check_default:
        raise click.UsageError("give --default, one or more rule FILEs, or both")
    ruleset = validate_files(files)  # always the YAML itself, never its compiled copy
    checked = ", ".join(str(f) for f in files) if files else "the default ruleset"
    click.echo(
        f"ok: {checked}: ruleset {ruleset.id} with {len(ruleset.capabilities)} capabilities "
        f"and {len(ruleset.rules)} rules (sha256 {ruleset.sha256[:12]})"
    )
    return 0


@rules_group.command("list")
@rules_option
@format_option(("table", "json"))
@output_option
def list_command(rules_files: tuple[Path, ...], fmt: str, output: Path | None) -> int:
    """List every capability and rule, with severity and where it is defined."""
    from permaudit.formatters.rules_list import render_json, render_table
    from permaudit.ruleset import list_rules, load_ruleset

    listing = list_rules(load_ruleset(rules_files))
    write_output((render_json if fmt == "json" else render_table)(listing), output)
    return 0
