"""``permaudit check``: the CI gate. Judge apps against a policy and a baseline; exit 0 or 1."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from permaudit import gate
from permaudit.baseline import Baseline, load_baseline
from permaudit.cli.common import (
    device_sdk_option,
    format_option,
    load_apps,
    output_option,
    recursive_option,
    rules_option,
)
from permaudit.cli.run import analyse, load_rules, use_color, write_output
from permaudit.errors import EXIT_OK, EXIT_POLICY_FAILURE, PermauditError, RulesError
from permaudit.formatters import CHECK_FORMATS, renderer
from permaudit.model import Report, ScanResult, Severity
from permaudit.policy import (
    DEFAULT_POLICY_NAME,
    Policy,
    find_policy,
    load_policy,
    unknown_references,
)

SEVERITY_CHOICES = [s.label for s in Severity]

CHECK_HELP = """\b
Exit codes:
  0  pass: no finding at or above --fail-on that the policy, the baseline or
     the old build does not cover (also with --exit-zero)
  1  the policy failed (and nothing else)
  2  usage or input error: bad flags, unreadable or invalid APK, invalid policy
     or baseline, unwritable --output
  3  internal error (a bug: please report it; rerun with --debug)"""


def policy_option(func: click.decorators.FC) -> click.decorators.FC:
    """``--policy FILE``: the policy (default: ``.permaudit.yml`` in the working directory)."""
    return click.option(
        "--policy",
        "policy_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        metavar="FILE",
        help=f"Policy file (default: {DEFAULT_POLICY_NAME} in the working directory, if any).",
    )(func)


def resolve_policy(policy_path: Path | None) -> Policy:
    """The policy named by ``--policy``, else ``./.permaudit.yml``, else the empty policy."""
    path = policy_path if policy_path is not None else find_policy(Path("."))
    if path is None:
        return Policy()
    return load_policy(path, display=str(path))


def analyse_with_policy(
    inputs: Sequence[str],
    policy: Policy,
    rules_files: Sequence[Path],
    device_sdk: int | None,
    against: Sequence[str] = (),
) -> tuple[ScanResult, int, tuple[gate.RuleDoc, ...]]:
    """Scan the inputs (then the --against builds) with the policy's rules and device level.

    Returns the scan, how many of its reports are the inputs' (the rest are the old
    builds: a directory or a split set can stand for several files or one app, so the
    count of arguments says nothing), and the rule documentation.
    """
    files = (*policy.rules_files, *rules_files)
    level = device_sdk if device_sdk is not None else policy.device_sdk
    ruleset = load_rules(files)
    errors = unknown_references(
        policy, gate.known_rule_ids(ruleset), gate.known_capability_ids(ruleset)
    )
    if errors:
        raise RulesError(errors)
    # SARIF and JUnit reports name each input by its SHA-256 (provenance for CI records).
    apps = load_apps(inputs, digest=True)
    olds = load_apps(against) if against else []
    return analyse([*apps, *olds], ruleset, level), len(apps), gate.ruleset_docs(ruleset)


def pair_against(reports: Sequence[Report], olds: Sequence[Report]) -> list[tuple[Report, Report]]:
    """Pair each app with the old build of the same package; a mismatch is a usage error."""
    by_package: dict[str, Report] = {}
    for old in olds:
        package = old.app.manifest.package
        if package in by_package:
            raise PermauditError(f"--against: two old builds of {package}")
        by_package[package] = old
    pairs = []
    for report in reports:
        package = report.app.manifest.package
        if package not in by_package:
            given = ", ".join(f"{o.app.input.path} ({o.app.manifest.package})" for o in olds)
            raise PermauditError(
                f"--against: no old build of {package} ({report.app.input.path}); given: {given}"
            )
        pairs.append((by_package.pop(package), report))
    if by_package:
        extra = ", ".join(o.app.input.path for o in by_package.values())
        raise PermauditError(f"--against: no app to compare with {extra}")
    return pairs


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
@rules_option
@output_option
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
    device_sdk: int | None,
    rules_files: tuple[Path, ...],
    output: Path | None,
    exit_zero: bool,
) -> int:
    """Fail a build when an app reaches more than the policy allows.

    Each APP is scanned as by 'permaudit scan' and every finding at or above
    --fail-on fails, unless the policy accepts it (allow, with a justification),
    it is in the --baseline, or it is unchanged since the --against build.
    The policy's deny list and max_score fail whatever the severity. The report
    goes to standard output (or --output); a one-line summary to standard error.
    """
    if baseline_path is not None and against:
        raise click.UsageError("use --baseline or --against, not both")
    policy = resolve_policy(policy_path)
    baseline: Baseline | None = None
    if baseline_path is not None:
        baseline = load_baseline(baseline_path, display=str(baseline_path))
    threshold = Severity.parse(fail_on) if fail_on else policy.fail_on or gate.DEFAULT_FAIL_ON
    scan, count, docs = analyse_with_policy(inputs, policy, rules_files, device_sdk, against)
    reports, olds = scan.reports[:count], scan.reports[count:]
    if against:
        verdicts = tuple(
            gate.decide_against(old, new, policy, fail_on=threshold)
            for old, new in pair_against(reports, olds)
        )
    else:
        verdicts = tuple(
            gate.decide(report, policy, baseline, fail_on=threshold) for report in reports
        )
    result = gate.CheckResult(
        scan=ScanResult(
            tool_version=scan.tool_version,
            ruleset=scan.ruleset,
            device_sdk=scan.device_sdk,
            reports=reports,
        ),
        verdicts=verdicts,
        fail_on=threshold,
        rules=gate.rule_docs(docs, verdicts),
        policy_source=policy.source,
        baseline_source=str(baseline_path) if baseline_path is not None else None,
        against=against,
    )
    text = renderer(CHECK_FORMATS, fmt)(result, color=use_color(output))
    write_output(text, output)
    summary = gate.summary_line(result)
    if exit_zero and not result.passed:
        summary += " (--exit-zero: exit status 0)"
    click.echo(summary, err=True)
    return EXIT_OK if result.passed or exit_zero else EXIT_POLICY_FAILURE
