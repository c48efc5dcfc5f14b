"""Use cases without a parser: one request record per command, ``run_*(request) -> exit code``.

Every command line goes through here: the CLI (``permaudit.cli``) only turns argv into a
request, and tests call these functions directly. A use case loads its inputs, runs the
pure layers (engine, views, ci gate), renders through the formatter registry and writes
the report (``permaudit.output``); diagnostics go to standard error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from permaudit._infra.records import record, replace
from permaudit.errors import (
    EXIT_INPUT_FAILED,
    EXIT_OK,
    EXIT_POLICY_FAILURE,
    PermauditError,
    RulesError,
    UsageError,
)
from permaudit.model import App, InputFailure, RulesetInfo, ScanResult, Severity
from permaudit.model.sdk import SdkLevels, sdk_levels
from permaudit.output import render, write_output
from permaudit.rules.model import RuleSet
from permaudit.version import __version__

if TYPE_CHECKING:
    from permaudit.ci.gate import CheckResult
    from permaudit.ci.policy import Policy
    from permaudit.ci.rule_docs import RuleDoc

# --- requests ------------------------------------------------------------------------------


@record
class ScanRequest:
    """``permaudit scan``: one report of every input."""

    inputs: tuple[str, ...]
    fmt: str = "table"
    device_sdk: int | None = None
    target_sdk: int | None = None  # for source manifests without <uses-sdk>
    min_sdk: int | None = None
    rules_files: tuple[Path, ...] = ()
    output: Path | None = None
    recursive: bool = False
    digest: bool = False
    #: An unreadable input becomes an error entry and the run goes on (exit 2 at the end).
    keep_going: bool = False
    #: Read the DEX files (``App.code``); ``--no-code`` turns it off.
    code: bool = True
    locale: str | None = None  # --locale: the label and resource values for it (ru, ru-rRU)


@record
class CompareRequest:
    """``permaudit compare``: two or more apps side by side."""

    inputs: tuple[str, ...]
    fmt: str = "table"
    device_sdk: int | None = None
    target_sdk: int | None = None  # for source manifests without <uses-sdk>
    min_sdk: int | None = None
    rules_files: tuple[Path, ...] = ()
    output: Path | None = None
    recursive: bool = False
    digest: bool = False
    keep_going: bool = False
    code: bool = True
    locale: str | None = None


@record
class DiffRequest:
    """``permaudit diff``: what changed from one build of an app to the next."""

    old: str
    new: str
    fmt: str = "table"
    device_sdk: int | None = None
    rules_files: tuple[Path, ...] = ()
    output: Path | None = None
    recursive: bool = False
    locale: str | None = None
    #: Read and compare the DEX files; ``--no-code`` turns it off (and the diff says so).
    code: bool = True


@record
class CheckRequest:
    """``permaudit check``: the CI gate."""

    inputs: tuple[str, ...]
    policy_path: Path | None = None
    fail_on: Severity | None = None
    baseline_path: Path | None = None
    against: tuple[str, ...] = ()
    fmt: str = "table"
    device_sdk: int | None = None
    target_sdk: int | None = None  # for source manifests without <uses-sdk>
    min_sdk: int | None = None
    rules_files: tuple[Path, ...] = ()
    output: Path | None = None
    recursive: bool = False
    exit_zero: bool = False
    keep_going: bool = False
    locale: str | None = None
    #: ``--no-code``: policy entries and rule files over code evidence are then an error.
    code: bool = True


@record
class BaselineRequest:
    """``permaudit baseline create|update``: write the file ``check --baseline`` reads."""

    inputs: tuple[str, ...]
    path: Path
    #: ``update`` keeps the other packages of an existing file; ``create`` starts anew.
    update: bool = False
    force: bool = False
    policy_path: Path | None = None
    device_sdk: int | None = None
    target_sdk: int | None = None  # for source manifests without <uses-sdk>
    min_sdk: int | None = None
    rules_files: tuple[Path, ...] = ()
    recursive: bool = False


@record
class RulesValidateRequest:
    """``permaudit rules validate``: check rule files as they would be used."""

    files: tuple[Path, ...] = ()


@record
class RulesListRequest:
    """``permaudit rules list``: every capability and rule in force."""

    rules_files: tuple[Path, ...] = ()
    fmt: str = "table"
    output: Path | None = None


# --- shared steps --------------------------------------------------------------------------


def load_apps(
    paths: Sequence[str], *, recursive: bool = False, digest: bool = False, code: bool = True,
    sdk: SdkLevels | None = None,
    locale: str | None = None,
) -> list[App]:
    """Load every input before any report is written; the first bad one stops the run.

    A directory stands for every supported file in it (sorted; ``recursive`` descends);
    split APKs given together with their base APK become one app; ``digest`` adds each
    file's SHA-256; ``code`` reads the DEX files; ``sdk`` gives the levels of source
    manifests that declare none; ``locale`` picks the resource values (``ru``, ``ru-rRU``).
    See ``permaudit.inputs.load_inputs``.
    """
    from permaudit.inputs.loader import load_inputs

    return load_inputs(paths, recursive=recursive, digest=digest, code=code, sdk=sdk,
                       locale=locale)


def load_apps_or_failures(
    paths: Sequence[str], *, recursive: bool = False, digest: bool = False,
    keep_going: bool = False, code: bool = True, sdk: SdkLevels | None = None,
    locale: str | None = None,
) -> tuple[list[App], tuple[InputFailure, ...]]:
    """``load_apps``; with ``keep_going`` an unreadable input is a failure entry instead."""
    if not keep_going:
        return load_apps(paths, recursive=recursive, digest=digest, code=code, sdk=sdk,
                         locale=locale), ()
    from permaudit.inputs.loader import load_inputs_keep_going

    apps, failures = load_inputs_keep_going(
        paths, recursive=recursive, digest=digest, code=code, sdk=sdk, locale=locale
    )
    return apps, tuple(failures)


def report_failures(failures: Sequence[InputFailure]) -> int:
    """One ``permaudit: error:`` line per failed input on stderr; the exit code they mean."""
    for failure in failures:
        diagnostic(f"permaudit: error: {failure.path}: {failure.message} ({failure.error})")
    return EXIT_INPUT_FAILED if failures else EXIT_OK


def load_rules(rules_files: Sequence[Path]) -> RuleSet:
    """The default ruleset with ``rules_files`` applied on top, in order."""
    from permaudit.rules.ruleset import load_ruleset

    return load_ruleset(rules_files)


def analyse(apps: Sequence[App], ruleset: RuleSet, device_sdk: int | None) -> ScanResult:
    """Evaluate ``apps`` against ``ruleset`` on one device level (default: the newest)."""
    from permaudit.android.catalog import NEWEST_API_LEVEL
    from permaudit.android.platform import platform_for
    from permaudit.engine import evaluate

    platform = platform_for(NEWEST_API_LEVEL if device_sdk is None else device_sdk)
    reports = tuple(evaluate(app, ruleset, platform) for app in apps)
    return ScanResult(
        tool_version=__version__,
        ruleset=RulesetInfo(id=ruleset.id, sha256=ruleset.sha256),
        device_sdk=platform.api_level,
        reports=reports,
    )


def diagnostic(line: str) -> None:
    """Write one line to standard error (warnings, summaries), control characters escaped."""
    from permaudit.formatters.escape import terminal

    sys.stderr.write(terminal(line) + "\n")
    sys.stderr.flush()


# --- scan, compare, diff -------------------------------------------------------------------


def run_scan(request: ScanRequest) -> int:
    """Load, analyse and write one report of every input; exit code 0."""
    from permaudit.formatters import SCAN_FORMATS

    if request.fmt == "jsonl":  # streamed file by file, memory flat (permaudit.batch)
        from permaudit.batch.run import BatchRequest, run_batch

        return run_batch(BatchRequest(
            inputs=request.inputs, output=request.output, recursive=request.recursive,
            digest=request.digest, jobs=1, progress=False, device_sdk=request.device_sdk,
            rules_files=tuple(str(p) for p in request.rules_files),
            keep_going=request.keep_going, summary=False, code=request.code,
            target_sdk=request.target_sdk, min_sdk=request.min_sdk, locale=request.locale,
        ))
    apps, failures = load_apps_or_failures(
        request.inputs, recursive=request.recursive, digest=request.digest,
        keep_going=request.keep_going, code=request.code,
        sdk=sdk_levels(request.min_sdk, request.target_sdk), locale=request.locale,
    )
    result = analyse(apps, load_rules(request.rules_files), request.device_sdk)
    result = replace(result, failures=failures)
    text = render(SCAN_FORMATS, request.fmt, result, request.output)
    write_output(text, request.output, inputs=(*request.inputs, *request.rules_files))
    return report_failures(failures)


def run_compare(request: CompareRequest) -> int:
    """Compare two or more apps; a single app is a usage error."""
    from permaudit.formatters import COMPARE_FORMATS
    from permaudit.views.compare import compare

    apps, failures = load_apps_or_failures(
        request.inputs, recursive=request.recursive, digest=request.digest,
        keep_going=request.keep_going, code=request.code,
        sdk=sdk_levels(request.min_sdk, request.target_sdk), locale=request.locale,
    )
    if len(apps) < 2:
        raise UsageError(
            f"compare needs at least two apps, got one ({', '.join(request.inputs)}); "
            "use 'permaudit scan' for a single app"
        )
    scanned = analyse(apps, load_rules(request.rules_files), request.device_sdk)
    result = compare(scanned.reports, ruleset=scanned.ruleset, tool_version=scanned.tool_version)
    text = render(COMPARE_FORMATS, request.fmt, result, request.output)
    write_output(text, request.output, inputs=(*request.inputs, *request.rules_files))
    return report_failures(failures)


def _one_app(
    path: str, role: str, *, recursive: bool, locale: str | None = None, code: bool = True
) -> App:
    """The single app ``path`` stands for; a directory of several apps is a usage error."""
    apps = load_apps([path], recursive=recursive, locale=locale, code=code)
    if len(apps) != 1:
        raise UsageError(
            f"{role} must be one app (an APK, a bundle or a set of splits); "
            f"{path} holds {len(apps)} apps"
        )
    return apps[0]


def run_diff(request: DiffRequest) -> int:
    """Diff two builds of one app; a warning when they are different packages."""
    from permaudit.formatters import DIFF_FORMATS
    from permaudit.views.diff import diff

    apps = [
        _one_app(request.old, "OLD", recursive=request.recursive, locale=request.locale,
                 code=request.code),
        _one_app(request.new, "NEW", recursive=request.recursive, locale=request.locale,
                 code=request.code),
    ]
    scanned = analyse(apps, load_rules(request.rules_files), request.device_sdk)
    result = diff(*scanned.reports, ruleset=scanned.ruleset, tool_version=scanned.tool_version,
                  code=request.code)
    if not result.same_package:
        diagnostic(
            f"permaudit: warning: {request.old} is {result.old.package} but {request.new} is "
            f"{result.new.package}; diffing two different apps"
        )
    text = render(DIFF_FORMATS, request.fmt, result, request.output)
    write_output(
        text, request.output, inputs=(request.old, request.new, *request.rules_files)
    )
    return EXIT_OK


# --- check and baselines -------------------------------------------------------------------


def resolve_policy(policy_path: Path | None) -> Policy:
    """The policy at ``policy_path``, else ``./.permaudit.yml``, else the empty policy."""
    from permaudit.ci.policy import Policy, find_policy, load_policy

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
    *,
    recursive: bool = False,
    keep_going: bool = False,
    sdk: SdkLevels | None = None,
    locale: str | None = None,
    code: bool = True,
) -> tuple[ScanResult, int, tuple[RuleDoc, ...]]:
    """Scan the inputs (then the ``against`` builds) with the policy's rules and device level.

    Returns the scan, how many of its reports are the inputs' (the rest are the old
    builds: a directory or a split set can stand for several files or one app, so the
    count of arguments says nothing), and the rule documentation.
    """
    from permaudit.ci import policy_code, rule_docs
    from permaudit.ci.policy import unknown_references

    level = device_sdk if device_sdk is not None else policy.device_sdk
    given = sdk or SdkLevels()  # the options win over the policy (levels are >= 1)
    levels = sdk_levels(given.min_sdk or policy.min_sdk, given.target_sdk or policy.target_sdk)
    ruleset = load_rules((*policy.rules_files, *rules_files))
    errors = unknown_references(
        policy, rule_docs.known_rule_ids(ruleset), rule_docs.known_capability_ids(ruleset)
    )
    if errors:
        raise RulesError(errors)
    if not code and (note := policy_code.refuse_without_code(policy, ruleset)) is not None:
        diagnostic(note)
    # SARIF and JUnit reports name each input by its SHA-256 (provenance for CI records).
    # With keep_going the failures ride in ScanResult.failures; --against builds must load.
    apps, failures = load_apps_or_failures(
        inputs, recursive=recursive, digest=True, keep_going=keep_going, sdk=levels, locale=locale,
        code=code,
    )
    olds = (load_apps(against, recursive=recursive, sdk=levels, locale=locale, code=code)
            if against else [])
    scan = replace(analyse([*apps, *olds], ruleset, level), failures=failures)
    return scan, len(apps), rule_docs.ruleset_docs(ruleset)


def judge(request: CheckRequest) -> CheckResult:
    """The gate's verdict on every input (``check`` without rendering or writing)."""
    from permaudit.ci import gate
    from permaudit.ci.baseline import Baseline, load_baseline

    if request.baseline_path is not None and request.against:
        raise UsageError("use --baseline or --against, not both")
    policy = resolve_policy(request.policy_path)
    baseline: Baseline | None = None
    if request.baseline_path is not None:
        baseline = load_baseline(request.baseline_path, display=str(request.baseline_path))
    threshold = request.fail_on or policy.fail_on or gate.DEFAULT_FAIL_ON
    scan, count, docs = analyse_with_policy(
        request.inputs, policy, request.rules_files, request.device_sdk, request.against,
        recursive=request.recursive, keep_going=request.keep_going,
        sdk=sdk_levels(request.min_sdk, request.target_sdk), locale=request.locale,
        code=request.code,
    )
    reports, olds = scan.reports[:count], scan.reports[count:]
    if request.against:
        verdicts = tuple(
            gate.decide_against(old, new, policy, fail_on=threshold)
            for old, new in gate.pair_against(reports, olds)
        )
    else:
        verdicts = tuple(
            gate.decide(report, policy, baseline, fail_on=threshold) for report in reports
        )
    return gate.CheckResult(
        scan=ScanResult(
            tool_version=scan.tool_version, ruleset=scan.ruleset, device_sdk=scan.device_sdk,
            reports=reports, failures=scan.failures,
        ),
        verdicts=verdicts,
        fail_on=threshold,
        rules=gate.rule_docs(docs, verdicts),
        policy_source=policy.source,
        baseline_source=str(request.baseline_path) if request.baseline_path else None,
        against=request.against,
    )


def run_check(request: CheckRequest) -> int:
    """Judge apps against a policy and a baseline or older builds; exit 0 (pass) or 1."""
    from permaudit.formatters import CHECK_FORMATS
    from permaudit.formatters.summary import check_summary

    result = judge(request)
    text = render(CHECK_FORMATS, request.fmt, result, request.output)
    read: tuple[str | Path, ...] = (*request.inputs, *request.against, *request.rules_files)
    write_output(
        text, request.output, inputs=(*read, request.policy_path, request.baseline_path)
    )
    diagnostic(check_summary(result, exit_zero=request.exit_zero))
    # A policy failure wins over an input failure (1 before 2); --exit-zero covers the policy.
    code = report_failures(result.scan.failures)
    return code if result.passed or request.exit_zero else EXIT_POLICY_FAILURE


def run_baseline(request: BaselineRequest) -> int:
    """Write a new baseline, or update the entries of the inputs' packages in an existing one."""
    from permaudit.ci import baseline as baselines
    from permaudit.formatters.summary import baseline_summary

    old = None
    if request.update:
        old = baselines.load_baseline(request.path, display=str(request.path))
    elif request.path.exists() and not request.force:
        raise PermauditError(
            "already exists; use 'permaudit baseline update' (or --force)", path=str(request.path)
        )
    policy = resolve_policy(request.policy_path)
    scan, _, _ = analyse_with_policy(
        request.inputs, policy, request.rules_files, request.device_sdk,
        recursive=request.recursive, sdk=sdk_levels(request.min_sdk, request.target_sdk),
    )
    value = baselines.from_reports(scan.reports) if old is None else baselines.update(
        old, scan.reports
    )
    read = (*request.inputs, *request.rules_files, request.policy_path)
    write_output(baselines.to_json(value), request.path, inputs=read)
    diagnostic(baseline_summary("updated" if request.update else "wrote", request.path, value))
    return EXIT_OK


# --- rules ---------------------------------------------------------------------------------


def run_rules_validate(request: RulesValidateRequest) -> int:
    """Validate rule files on top of the default ruleset (no files: the default alone)."""
    from permaudit.formatters.summary import validated_summary
    from permaudit.rules.ruleset import validate_files

    ruleset = validate_files(request.files)  # always the YAML itself, never its compiled copy
    write_output(validated_summary(request.files, ruleset), None)
    return EXIT_OK


def run_rules_list(request: RulesListRequest) -> int:
    """List every capability and rule in force."""
    from permaudit.formatters import RULES_FORMATS
    from permaudit.rules.ruleset import list_rules, load_ruleset

    listing = list_rules(load_ruleset(request.rules_files))
    text = render(RULES_FORMATS, request.fmt, listing, request.output, color=False)
    write_output(text, request.output, inputs=request.rules_files)
    return EXIT_OK
