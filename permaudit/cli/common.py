"""Pieces every command shares: common options, loading inputs, writing output atomically."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from permaudit import __version__
from permaudit.errors import PermauditError
from permaudit.model import App, Report, RulesetInfo, ScanResult

if TYPE_CHECKING:
    from permaudit.ruleset import RuleSet

F = TypeVar("F", bound=Callable[..., Any])


def format_option(choices: Iterable[str]) -> Callable[[F], F]:
    """``-f/--format NAME`` among ``choices`` (in the order given), default ``table``."""
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default="table",
        show_default=True,
        help="Report format.",
    )


def device_sdk_option(func: F) -> F:
    """``--device-sdk N``: the API level of the phone the report describes."""
    return click.option(
        "--device-sdk",
        type=click.IntRange(1, None),
        default=None,
        metavar="N",
        help="API level of the device to evaluate (default: the newest level known).",
    )(func)


def rules_option(func: F) -> F:
    """``--rules FILE`` (repeatable): extra rule files applied on top of the default set."""
    return click.option(
        "--rules",
        "rules_files",
        multiple=True,
        type=click.Path(path_type=Path, dir_okay=False),
        metavar="FILE",
        help="Extra ruleset file to add or override rules by id (repeatable).",
    )(func)


def output_option(func: F) -> F:
    """``--output PATH``: write the report to a file (atomically) instead of stdout."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        metavar="PATH",
        help="Write the report to PATH instead of standard output.",
    )(func)


def hash_option(func: F) -> F:
    """``--hash``: also compute each input file's SHA-256 (it reads every byte)."""
    return click.option(
        "--hash",
        "digest",
        is_flag=True,
        help="Also report each input file's SHA-256 (reads the whole file).",
    )(func)


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


#: Where ``--recursive`` leaves its value for ``load_apps`` (the click context's meta).
RECURSIVE_META = "permaudit.recursive"


def recursive_option(func: F) -> F:
    """``--recursive``: directory arguments are scanned with their subdirectories.

    The value goes to the click context (``ctx.meta``) rather than to the command's
    parameters, so a command only needs this one decorator line; ``load_apps`` reads it.
    """

    def remember(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        ctx.meta[RECURSIVE_META] = value
        return value

    return click.option(
        "--recursive",
        is_flag=True,
        expose_value=False,
        callback=remember,
        help="Scan directory arguments with their subdirectories.",
    )(func)


def load_apps(
    paths: Sequence[str], *, recursive: bool | None = None, digest: bool = False
) -> list[App]:
    """Load every input before any report is written; the first bad one stops the run.

    A directory stands for every supported file in it (sorted; ``recursive`` descends,
    default: the command's ``--recursive``); split APKs given together with their base
    APK become one app; ``digest`` adds each file's SHA-256. See
    ``permaudit.sources.load_inputs``.
    """
    from permaudit.sources import load_inputs

    if recursive is None:
        ctx = click.get_current_context(silent=True)
        recursive = bool(ctx is not None and ctx.meta.get(RECURSIVE_META))
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
