"""``permaudit baseline create|update``: write the baseline file ``check --baseline`` reads."""

from __future__ import annotations

from pathlib import Path

import click

from permaudit.app import BaselineRequest, run_baseline
from permaudit.cli.group import SuggestingGroup
from permaudit.cli.options import (
    app_sdk_options,
    device_sdk_option,
    policy_option,
    recursive_option,
    rules_option,
)


@click.group(cls=SuggestingGroup, context_settings={"help_option_names": ["-h", "--help"]})
def baseline() -> None:
    """Record today's findings so 'permaudit check --baseline' fails only on new ones.

    A baseline is a versioned JSON file of finding fingerprints (rule id + package +
    subject, never wording or severity) plus how far each permission and capability
    reached, so a later build that widens one still fails. Commit it next to your code.
    """


@baseline.command("create", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inputs", nargs=-1, required=True, metavar="APP...")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    metavar="FILE",
    help="Baseline file to write.",
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@policy_option
@recursive_option
@device_sdk_option
@app_sdk_options
@rules_option
def create(
    inputs: tuple[str, ...],
    output: Path,
    force: bool,
    policy_path: Path | None,
    recursive: bool,
    device_sdk: int | None,
    target_sdk: int | None,
    min_sdk: int | None,
    rules_files: tuple[Path, ...],
) -> int:
    """Write a new baseline accepting every finding of APP... as it stands.

    Uses the same policy (device level, rule files) as 'permaudit check'.
    """
    return run_baseline(
        BaselineRequest(
            inputs=inputs, path=output, force=force, policy_path=policy_path,
            device_sdk=device_sdk, rules_files=rules_files, recursive=recursive,
            target_sdk=target_sdk, min_sdk=min_sdk,
        )
    )


@baseline.command("update", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inputs", nargs=-1, required=True, metavar="APP...")
@click.option(
    "-b",
    "--baseline",
    "baseline_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    metavar="FILE",
    help="Existing baseline file to update in place.",
)
@policy_option
@recursive_option
@device_sdk_option
@app_sdk_options
@rules_option
def update(
    inputs: tuple[str, ...],
    baseline_path: Path,
    policy_path: Path | None,
    recursive: bool,
    device_sdk: int | None,
    target_sdk: int | None,
    min_sdk: int | None,
    rules_files: tuple[Path, ...],
) -> int:
    """Replace the entries of APP...'s packages in FILE with their findings now.

    Other packages in FILE are kept. An older baseline schema is rewritten in the
    current one.
    """
    return run_baseline(
        BaselineRequest(
            inputs=inputs, path=baseline_path, update=True, policy_path=policy_path,
            device_sdk=device_sdk, rules_files=rules_files, recursive=recursive,
            target_sdk=target_sdk, min_sdk=min_sdk,
        )
    )
