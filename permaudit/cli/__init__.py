"""Command-line entry point: the click group, error-to-exit-code mapping, and ``main``.

Every command lives in its own module in this package and stays thin: parse
arguments, call the pure layers (sources -> engine -> formatters), write the
result. This is the only package that imports click.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from permaudit import __version__
from permaudit.errors import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, PermauditError, RulesError

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
}


class LazyGroup(click.Group):
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run permaudit with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="permaudit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("permaudit: error: aborted", err=True)
        return EXIT_USAGE
    except click.exceptions.ClickException as exc:
        # click's own usage/file errors exit 1 by default; 1 is reserved for the CI gate.
        click.echo(f"permaudit: error: {exc.format_message()}", err=True)
        if isinstance(exc, click.exceptions.UsageError) and exc.ctx is not None:
            click.echo(f"Try '{exc.ctx.command_path} --help' for help.", err=True)
        return EXIT_USAGE
    except RulesError as exc:
        # Already "file:line:col: error: message", one per problem, like a compiler's.
        for line in exc.diagnostics:
            click.echo(line, err=True)
        return exc.exit_code
    except PermauditError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            click.echo(f"permaudit: error: {line}", err=True)
        return exc.exit_code
    except BrokenPipeError:
        # `permaudit ... | head`: the reader went away; not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # the one place that turns a bug into exit 3
        if debug:
            import traceback  # only on this path: it costs ~3 ms at start-up

            traceback.print_exc()
        click.echo(
            f"permaudit: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; please report it, with --debug output)",
            err=True,
        )
        return EXIT_INTERNAL
    return int(result) if isinstance(result, int) else EXIT_OK
