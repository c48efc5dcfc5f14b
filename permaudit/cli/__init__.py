"""Command-line entry point: ``main(argv) -> exit code``; click only in this package.

Each command module turns its arguments into a request record of ``permaudit.app`` and
calls the use case; this module turns every error into a message and an exit code.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Sequence
from types import FrameType

from permaudit.errors import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, PermauditError, RulesError

#: The shell's convention for a process ended by SIGINT (128 + 2).
EXIT_INTERRUPTED = 130


class Interrupted(BaseException):
    """Ctrl-C, raised by our SIGINT handler; not a KeyboardInterrupt, so click cannot catch it
    (click turns KeyboardInterrupt into ``Abort`` after printing a blank line)."""


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    raise Interrupted


def main(argv: Sequence[str] | None = None) -> int:
    """Run permaudit with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        previous = signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread: KeyboardInterrupt cannot reach us there anyway
        return guarded(lambda: _run_click(args), debug="--debug" in args)
    try:
        return guarded(lambda: _run_click(args), debug="--debug" in args)
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_click(args: list[str]) -> int:
    """Any command line, parsed by click; click's own errors exit 2 (1 is the CI gate's)."""
    import click

    from permaudit.cli.group import NoSuchCommand, cli

    try:
        result = cli.main(args=args, prog_name="permaudit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            raise Interrupted from None
        error_line("permaudit: error: aborted")
        return EXIT_USAGE
    except click.exceptions.ClickException as exc:
        error_line(f"permaudit: error: {exc.format_message()}")
        if (
            isinstance(exc, click.exceptions.UsageError)
            and not isinstance(exc, NoSuchCommand)
            and exc.ctx is not None
        ):
            error_line(f"Try '{exc.ctx.command_path} --help' for help.")
        return EXIT_USAGE
    return int(result) if isinstance(result, int) else EXIT_OK


def error_line(message: str) -> None:
    """Write one diagnostic line to stderr, control characters (from file names) escaped."""
    from permaudit.formatters.escape import terminal

    sys.stderr.write(terminal(message) + "\n")


def guarded(action: Callable[[], int], *, debug: bool) -> int:
    """Run ``action`` and return its exit code; every error becomes a message and a code.

    Input and rules problems exit 2 with one line each (rules diagnostics are already
    ``file:line:col: error: ...``); anything else is a bug: exit 3, with the traceback
    only when ``debug``.
    """
    try:
        return action()
    except (Interrupted, KeyboardInterrupt):
        error_line("permaudit: interrupted")
        return EXIT_INTERRUPTED
    except RulesError as exc:
        for line in exc.diagnostics:
            error_line(line)
        return exc.exit_code
    except PermauditError as exc:
        for line in str(exc).splitlines() or [type(exc).__name__]:
            error_line(f"permaudit: error: {line}")
        return exc.exit_code
    except BrokenPipeError:
        # `permaudit ... | head`: the reader went away; not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # the one place that turns a bug into exit 3
        if debug:
            import traceback  # only on this path: it costs ~3 ms at start-up

            traceback.print_exc()
        error_line(
            f"permaudit: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; please report it, with --debug output)"
        )
        return EXIT_INTERNAL
