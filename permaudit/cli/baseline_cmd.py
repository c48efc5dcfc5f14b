"""``permaudit baseline create|update``: write the baseline file ``check --baseline`` reads."""

from __future__ import annotations

from pathlib import Path

import click

from permaudit import baseline as baselines
from permaudit.cli.check import analyse_with_policy, policy_option, resolve_policy
from permaudit.cli.common import device_sdk_option, rules_option
from permaudit.cli.run import write_output
from permaudit.errors import PermauditError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def baseline() -> None:
    """Record today's findings so 'permaudit check --baseline' fails only on new ones.

    A baseline is a versioned JSON file of finding fingerprints (rule id + package +
    subject, never wording or severity) plus how far each permission and capability
    reached, so a later build that widens one still fails. Commit it next to your code.
    """


def _summary(action: str, path: Path, value: baselines.Baseline) -> str:
    packages = len(value.packages)
    return (
        f"permaudit: {action} {path}: {len(value.findings)} findings of {packages} "
        f"app{'s' if packages != 1 else ''}"
    )


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
@device_sdk_option
@rules_option
def create(
    inputs: tuple[str, ...],
    output: Path,
    force: bool,
    policy_path: Path | None,
    device_sdk: int | None,
    rules_files: tuple[Path, ...],
) -> int:
    """Write a new baseline accepting every finding of APP... as it stands.

    Uses the same policy (device level, rule files) as 'permaudit check'.
    """
    if output.exists() and not force:
        raise PermauditError(
            "already exists; use 'permaudit baseline update' (or --force)", path=str(output)
        )
    policy = resolve_policy(policy_path)
    scan, _, _ = analyse_with_policy(inputs, policy, rules_files, device_sdk)
    value = baselines.from_reports(scan.reports)
    write_output(baselines.to_json(value), output)
    click.echo(_summary("wrote", output, value), err=True)
    return 0


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
@device_sdk_option
@rules_option
def update(
    inputs: tuple[str, ...],
    baseline_path: Path,
    policy_path: Path | None,
    device_sdk: int | None,
    rules_files: tuple[Path, ...],
) -> int:
    """Replace the entries of APP...'s packages in FILE with their findings now.

    Other packages in FILE are kept. An older baseline schema is rewritten in the
    current one.
    """
    old = baselines.load_baseline(baseline_path, display=str(baseline_path))
    policy = resolve_policy(policy_path)
    scan, _, _ = analyse_with_policy(inputs, policy, rules_files, device_sdk)
    value = baselines.update(old, scan.reports)
    write_output(baselines.to_json(value), baseline_path)
    click.echo(_summary("updated", baseline_path, value), err=True)
    return 0
