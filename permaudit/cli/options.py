"""The options the click commands share, declared once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import click

from permaudit.android.catalog import NEWEST_API_LEVEL
from permaudit.ci import DEFAULT_POLICY_NAME
from permaudit.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def format_option(choices: Iterable[str], *, from_output: bool = False) -> Callable[[F], F]:
    """``-f/--format NAME`` among ``choices`` (in the order given), default ``table``.

    With ``from_output`` the default is ``None``: the command resolves it with
    ``picked_format`` from the ``--output`` file name.
    """
    if from_output:
        return click.option(
            "-f",
            "--format",
            "fmt",
            type=click.Choice(list(choices)),
            default=None,
            help="Report format [default: from the --output file name (.html, .md, .json, "
            "...), else table].",
        )
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default="table",
        show_default=True,
        help="Report format.",
    )


def picked_format(
    fmt: str | None, output: Path | None, registry: dict[str, str]
) -> tuple[str, str | None]:
    """``fmt``, or (when ``--format`` was not given) the one ``--output``'s ending names.

    Also returns the line to say on standard error once the report is written (``None``
    when ``--format`` was given or the ending names no format: then it is ``table``), so
    ``-o report.html`` never silently writes a terminal table into an .html file.
    """
    if fmt is not None:
        return fmt, None
    from permaudit.formatters import format_for_output

    picked = format_for_output(registry, output.name) if output is not None else None
    if picked is None:
        return "table", None
    return picked, (
        f"permaudit: wrote {picked} to {output} (the format its name ends in; --format "
        "chooses another)"
    )


def say_picked(note: str | None) -> None:
    """Write ``picked_format``'s line to standard error, if there is one."""
    if note is not None:
        from permaudit.app import diagnostic

        diagnostic(note)


def device_sdk_option(func: F) -> F:
    """``--device-sdk N``: the API level of the phone the report describes."""

    def known_level(_ctx: click.Context, _param: click.Parameter, value: int | None) -> int | None:
        if value is not None and value > NEWEST_API_LEVEL:
            raise UsageError(
                f"--device-sdk {value}: the permission catalog knows API levels up to "
                f"{NEWEST_API_LEVEL}"
            )
        return value

    return click.option(
        "--device-sdk",
        type=click.IntRange(1, None),
        default=None,
        metavar="N",
        callback=known_level,
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


def code_option(func: F) -> F:
    """``--no-code``: skip reading the DEX files (manifest and signatures only)."""
    return click.option(
        "--no-code",
        "no_code",
        is_flag=True,
        help="Do not read the app's code (DEX files): faster, manifest-level report only.",
    )(func)


def recursive_option(func: F) -> F:
    """``--recursive``: directory arguments are scanned with their subdirectories."""
    return click.option(
        "--recursive",
        is_flag=True,
        help="Scan directory arguments with their subdirectories.",
    )(func)


def policy_option(func: F) -> F:
    """``--policy FILE``: the policy (default: ``.permaudit.yml`` in the working directory)."""
    return click.option(
        "--policy",
        "policy_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        metavar="FILE",
        help=f"Policy file (default: {DEFAULT_POLICY_NAME} in the working directory, if any).",
    )(func)


def keep_going_option(func: F) -> F:
    """``--keep-going``: an unreadable input becomes an error entry; exit 2 at the end."""
    return click.option(
        "--keep-going",
        is_flag=True,
        help="Report inputs that cannot be read as errors and go on with the others "
        "(exit code 2 when any failed; the report is still written).",
    )(func)


def app_sdk_options(func: F) -> F:
    """``--target-sdk N`` and ``--min-sdk N``: levels of source manifests that declare none."""
    for name, what in (("--min-sdk", "minSdkVersion"), ("--target-sdk", "targetSdkVersion")):
        func = click.option(
            name,
            type=click.IntRange(1, 10_000),
            default=None,
            metavar="N",
            help=f"{what} of a source AndroidManifest.xml that has no <uses-sdk> (Gradle "
            "injects it); default: a literal in the module's build.gradle, else unknown. "
            "Built apps keep their own.",
        )(func)
    return func


def locale_option(func: F) -> F:
    """``--locale LANG[-rREGION]``: the label (and other resource values) for that locale."""

    def checked(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        if value is None:
            return None
        from permaudit.inputs.resources import normalise_locale

        return normalise_locale(value)

    return click.option(
        "--locale",
        default=None,
        metavar="LANG[-rREGION]",
        callback=checked,
        help="Resolve the app label and other resource values for this locale (ru, ru-rRU), "
        "falling back as Android does: language and region, language, default.",
    )(func)
