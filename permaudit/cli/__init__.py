"""Command-line entry point: ``main`` runs a command line and returns its exit code.

Every command lives in its own module in this package and stays thin: parse
arguments, call the pure layers (sources -> engine -> formatters), write the
result. This is the only package that imports click, and it does so only when a
command line needs it: the everyday ``permaudit scan`` line is recognised by
``fastpath`` and run without it (importing click and what it pulls in costs ~25 ms,
a quarter of a scan).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from permaudit.cli.fastpath import parse_scan
from permaudit.cli.run import error_line, guarded, run_scan
from permaudit.errors import EXIT_OK, EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run permaudit with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    request = parse_scan(args)
    if request is not None:
        return guarded(lambda: run_scan(request), debug=False)
    return guarded(lambda: _run_click(args), debug="--debug" in args)


def _run_click(args: list[str]) -> int:
    """Any command line, parsed by click; click's own errors exit 2 (1 is the CI gate's)."""
    import click

    from permaudit.cli.group import cli

    try:
        result = cli.main(args=args, prog_name="permaudit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        error_line("permaudit: error: aborted")
        return EXIT_USAGE
    except click.exceptions.ClickException as exc:
        error_line(f"permaudit: error: {exc.format_message()}")
        if isinstance(exc, click.exceptions.UsageError) and exc.ctx is not None:
            error_line(f"Try '{exc.ctx.command_path} --help' for help.")
        return EXIT_USAGE
    return int(result) if isinstance(result, int) else EXIT_OK
