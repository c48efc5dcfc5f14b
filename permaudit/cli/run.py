"""What commands do once their arguments are parsed, without click: load, analyse, write, and
turn errors into exit codes.

Kept free of click so the common ``scan`` command line can run without importing it (see
``permaudit.cli.fastpath``); the click commands call the same functions.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from permaudit import __version__
from permaudit.errors import EXIT_INTERNAL, EXIT_OK, PermauditError, RulesError
from permaudit.model import App, Report, RulesetInfo, ScanResult
from permaudit._infra.records import record

if TYPE_CHECKING:
    from permaudit.ruleset import RuleSet


def error_line(message: str) -> None:
    """Write one diagnostic line to stderr."""
    sys.stderr.write(message + "\n")


def guarded(action: Callable[[], int], *, debug: bool) -> int:
    """Run ``action`` and return its exit code; every error becomes a message and a code.

    Input and rules problems exit 2 with one line each (rules diagnostics are already
    ``file:line:col: error: ...``); anything else is a bug: exit 3, with the traceback
    only when ``debug``.
    """
    try:
        return action()
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


def use_color(output: Path | None) -> bool:
    """Colour only on a terminal, and only when ``NO_COLOR`` is unset."""
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def write_output(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` atomically, or to stdout; a failure is a PermauditError."""
    if not text.endswith("\n"):
        text += "\n"
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    import tempfile  # only when writing a file: it costs ~4 ms at start-up

    directory = output.parent if str(output.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    except OSError as exc:
        raise PermauditError(f"cannot write: {exc.strerror}", path=str(output)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp creates 0600; give the report the mode any new file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, output)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PermauditError(f"cannot write: {exc.strerror}", path=str(output)) from None


def load_apps(paths: Sequence[str], *, recursive: bool, digest: bool = False) -> list[App]:
    """Load every input before any report is written; the first bad one stops the run.

    A directory stands for every supported file in it (sorted; ``recursive`` descends);
    split APKs given together with their base APK become one app; ``digest`` adds each
    file's SHA-256. See ``permaudit.sources.load_inputs``.
    """
    from permaudit.sources import load_inputs

    return load_inputs(paths, recursive=recursive, digest=digest)


def load_rules(rules_files: Sequence[Path]) -> RuleSet:
    """The default ruleset with ``rules_files`` applied on top, in order."""
    from permaudit.ruleset import load_ruleset

    return load_ruleset(rules_files)


def analyse(apps: Sequence[App], ruleset: RuleSet, device_sdk: int | None) -> ScanResult:
    """Evaluate ``apps`` against ``ruleset`` on one device level (default: the newest)."""
    from permaudit.android.catalog import NEWEST_API_LEVEL, Catalog
    from permaudit.engine import evaluate

    level = NEWEST_API_LEVEL if device_sdk is None else device_sdk
    if level > NEWEST_API_LEVEL:
        raise PermauditError(
            f"--device-sdk {level}: the permission catalog knows API levels up to "
            f"{NEWEST_API_LEVEL}"
        )
    catalog = Catalog.for_api_level(level)
    reports: tuple[Report, ...] = tuple(evaluate(app, ruleset, level, catalog) for app in apps)
    return ScanResult(
        tool_version=__version__,
        ruleset=RulesetInfo(id=ruleset.id, sha256=ruleset.sha256),
        device_sdk=level,
        reports=reports,
    )


@record
class ScanRequest:
    """A parsed ``permaudit scan`` command line."""

    inputs: tuple[str, ...]
    fmt: str = "table"
    device_sdk: int | None = None
    rules_files: tuple[Path, ...] = ()
    output: Path | None = None
    recursive: bool = False
    digest: bool = False


def run_scan(request: ScanRequest) -> int:
    """``permaudit scan``: load, analyse and write one report of every input; exit code 0."""
    from permaudit.formatters import render_scan

    apps = load_apps(request.inputs, recursive=request.recursive, digest=request.digest)
    result = analyse(apps, load_rules(request.rules_files), request.device_sdk)
    text = render_scan(request.fmt, result, color=use_color(request.output))
    write_output(text, request.output)
    return EXIT_OK
