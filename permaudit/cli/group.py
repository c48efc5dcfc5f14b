"""The click group: ``permaudit`` and its subcommands, each imported on first use."""

from __future__ import annotations

import difflib
import importlib

import click

from permaudit.version import __version__

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (for check: the policy passed)
  1  check only: the policy failed
  2  usage or input error (bad flags, unreadable or invalid file, invalid rules)
  3  internal error (a bug: please report it; rerun with --debug for a traceback)"""


#: Command name -> "module:attribute". Modules are imported only when their command runs
#: (or for --help), so `permaudit scan` does not pay for the CI gate's imports.
COMMANDS: dict[str, str] = {
    "scan": "permaudit.cli.scan:scan",
    "compare": "permaudit.cli.compare:compare",
    "diff": "permaudit.cli.diff:diff",
    "check": "permaudit.cli.check:check",
    "baseline": "permaudit.cli.baseline_cmd:baseline",
    "rules": "permaudit.cli.rules_cmd:rules_group",
    "batch": "permaudit.cli.batch:batch",
}


class NoSuchCommand(click.UsageError):
    """An unknown subcommand with a close match: one line, exit 2, no "Try --help" line."""


class SuggestingGroup(click.Group):
    """A click group that answers a mistyped subcommand with "did you mean ...?"."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            if close:
                raise NoSuchCommand(
                    f"no such command '{name}' (did you mean '{close[0]}'?)", ctx=ctx
                )
        return super().resolve_command(ctx, args)


class LazyGroup(SuggestingGroup):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "-V", "--version", prog_name="permaudit")
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Audit what Android apps can reach on a phone, from their manifests."""
    ctx.obj = {"debug": debug}
