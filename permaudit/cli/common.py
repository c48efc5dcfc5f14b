"""Pieces the click commands share: common options, and loading inputs with ``--recursive``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from permaudit.cli import run
from permaudit.model import App

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
    if recursive is None:
        recursive = recursive_requested()
    return run.load_apps(paths, recursive=recursive, digest=digest)


def recursive_requested() -> bool:
    """Whether the running command was given ``--recursive`` (see ``recursive_option``)."""
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and ctx.meta.get(RECURSIVE_META))
