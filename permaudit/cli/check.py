"""``permaudit check``: the CI gate. Judge apps against a policy and a baseline; exit 0 or 1."""

from __future__ import annotations

from pathlib import Path

import click

from permaudit.app import CheckRequest, run_check
from permaudit.cli.options import (
    app_sdk_options,
    code_option,
    device_sdk_option,
    format_option,
    keep_going_option,
    locale_option,
    output_option,
    policy_option,
    recursive_option,
    rules_option,
)
from permaudit.formatters import CHECK_FORMATS
from permaudit.model import Severity

SEVERITY_CHOICES = [s.label for s in Severity]

CHECK_HELP = """\b
Exit codes:
  0  pass: no finding at or above --fail-on that the policy, the baseline or
     the old build does not cover (also with --exit-zero)
  1  the policy failed (and nothing else)
  2  usage or input error: bad flags, unreadable or invalid APK, invalid policy
     or baseline, unwritable --output
  3  internal error (a bug: please report it; rerun with --debug)"""


@click.command(context_settings={"help_option_names": ["-h", "--help"]}, epilog=CHECK_HELP)
@click.argument("inputs", nargs=-1, required=True, metavar="APP...")
@policy_option
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITY_CHOICES),
    default=None,
    help="Fail on findings at or above this severity (default: the policy's fail_on, else high).",
)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="FILE",
    help="Only findings new or broadened since this baseline fail.",
)
@click.option(
    "--against",
    "against",
    multiple=True,
    metavar="OLD_APP",
    help="Only changes since this older build of the same app fail (repeatable, by package).",
)
@format_option(CHECK_FORMATS)
@recursive_option
@device_sdk_option
@app_sdk_options
@rules_option
@output_option
@keep_going_option
@locale_option
@code_option
@click.option(
    "--exit-zero", is_flag=True, help="Exit 0 even when the policy fails (report unchanged)."
)
def check(
    inputs: tuple[str, ...],
    policy_path: Path | None,
    fail_on: str | None,
    baseline_path: Path | None,
    against: tuple[str, ...],
    fmt: str,
    recursive: bool,
    device_sdk: int | None,
    target_sdk: int | None,
    min_sdk: int | None,
    rules_files: tuple[Path, ...],
    output: Path | None,
    keep_going: bool,
    locale: str | None,
    no_code: bool,
    exit_zero: bool,
) -> int:
    """Fail a build when an app reaches more than the policy allows.

    Each APP is scanned as by 'permaudit scan' and every finding at or above
    --fail-on fails, unless the policy accepts it (allow, with a justification),
    it is in the --baseline, or it is unchanged since the --against build.
    The policy's deny list and max_score fail whatever the severity. The report
    goes to standard output (or --output); a one-line summary to standard error.
    Exit codes: 0 pass, 1 policy failure, 2 unusable input. With --keep-going an
    unreadable input is an error entry and the others are judged: a policy failure
    still exits 1, otherwise 2 when any input failed.
    """
    if baseline_path is not None and against:
        raise click.UsageError("use --baseline or --against, not both")
    return run_check(
        CheckRequest(
            inputs=inputs, policy_path=policy_path,
            fail_on=Severity.parse(fail_on) if fail_on else None,
            baseline_path=baseline_path, against=against, fmt=fmt, device_sdk=device_sdk,
            target_sdk=target_sdk, min_sdk=min_sdk,
            rules_files=rules_files, output=output, recursive=recursive, exit_zero=exit_zero,
            keep_going=keep_going, locale=locale, code=not no_code,
        )
    )
