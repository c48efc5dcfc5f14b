"""The documented Python API: the use cases of ``permaudit.app`` returning models, not text.

Re-exported lazily by ``permaudit/__init__.py`` (``import permaudit`` stays cheap). Each
function returns the same frozen model the CLI renders; ``to_dict`` gives the JSON
contract of a scan. Errors are ``permaudit.errors.PermauditError`` subclasses
(``InputError`` for a file that cannot be read). See docs/api.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

from permaudit._infra.records import replace
from permaudit.app import analyse, load_apps_or_failures, load_rules
from permaudit.errors import UsageError
from permaudit.model import Report, ScanResult, Severity, sdk_levels

if TYPE_CHECKING:
    from permaudit.ci.gate import CheckResult
    from permaudit.views.compare import Comparison
    from permaudit.views.diff import Diff

__all__ = ["batch_scan", "check", "compare", "diff", "scan", "scan_many", "to_dict"]

StrPath = str | PathLike[str]


def scan_many(
    paths: Sequence[StrPath],
    *,
    device_sdk: int | None = None,
    rules: Sequence[StrPath] = (),
    recursive: bool = False,
    digest: bool = False,
    keep_going: bool = False,
    code: bool = True,
    target_sdk: int | None = None,
    min_sdk: int | None = None,
    locale: str | None = None,
) -> ScanResult:
    """Every app the inputs stand for (directories expanded, loose splits joined).

    With ``keep_going`` an unreadable input is in ``ScanResult.failures`` instead of raised;
    ``code=False`` skips the DEX files (``--no-code``). ``target_sdk``/``min_sdk``: the
    levels of source manifests that declare none (``--target-sdk``/``--min-sdk``).
    ``locale`` (``ru``, ``ru-rRU``): the label and other resource values for that locale.
    """
    apps, failures = load_apps_or_failures(
        [str(p) for p in paths], recursive=recursive, digest=digest, keep_going=keep_going,
        code=code, sdk=sdk_levels(min_sdk, target_sdk), locale=locale,
    )
    result = analyse(apps, load_rules([Path(r) for r in rules]), device_sdk)
    return replace(result, failures=failures)


def scan(
    path: StrPath,
    *,
    device_sdk: int | None = None,
    rules: Sequence[StrPath] = (),
    digest: bool = False,
    code: bool = True,
    target_sdk: int | None = None,
    min_sdk: int | None = None,
    locale: str | None = None,
) -> Report:
    """The report of the one app at ``path`` (an APK, a split set, a bundle or a manifest)."""
    result = scan_many([path], device_sdk=device_sdk, rules=rules, digest=digest, code=code,
                       target_sdk=target_sdk, min_sdk=min_sdk, locale=locale)
    if len(result.reports) != 1:
        raise UsageError(f"{path} holds {len(result.reports)} apps; use scan_many")
    return result.reports[0]


def compare(
    paths: Sequence[StrPath],
    *,
    device_sdk: int | None = None,
    rules: Sequence[StrPath] = (),
    code: bool = True,
    target_sdk: int | None = None,
    min_sdk: int | None = None,
    locale: str | None = None,
) -> Comparison:
    """Two or more apps side by side, capability by capability."""
    from permaudit.views.compare import compare as side_by_side

    result = scan_many(paths, device_sdk=device_sdk, rules=rules, code=code,
                       target_sdk=target_sdk, min_sdk=min_sdk, locale=locale)
    if len(result.reports) < 2:
        raise UsageError("compare needs at least two apps")
    return side_by_side(result.reports, ruleset=result.ruleset, tool_version=result.tool_version)


def diff(
    old: StrPath,
    new: StrPath,
    *,
    device_sdk: int | None = None,
    rules: Sequence[StrPath] = (),
    code: bool = True,
    locale: str | None = None,
) -> Diff:
    """What changed from the build at ``old`` to the build at ``new``."""
    from permaudit.views.diff import diff as changes

    result = scan_many([old, new], device_sdk=device_sdk, rules=rules, code=code, locale=locale)
    if len(result.reports) != 2:
        raise UsageError("diff needs one app on each side")
    return changes(*result.reports, ruleset=result.ruleset, tool_version=result.tool_version)


def check(
    paths: StrPath | Sequence[StrPath],
    *,
    policy: StrPath | None = None,
    baseline: StrPath | None = None,
    against: Sequence[StrPath] = (),
    fail_on: str | None = None,
    device_sdk: int | None = None,
    rules: Sequence[StrPath] = (),
    recursive: bool = False,
    keep_going: bool = False,
    target_sdk: int | None = None,
    min_sdk: int | None = None,
) -> CheckResult:
    """``permaudit check`` as a value: the gate's verdict per app, ``.passed`` for all.

    ``policy`` is a ``.permaudit.yml`` file (default: ``./.permaudit.yml`` if present);
    ``baseline`` a baseline file, or ``against`` the older builds; ``fail_on`` a severity
    name (``"high"``). Nothing is written; render with ``permaudit.formatters``.
    """
    from permaudit.app import CheckRequest, judge
    inputs = (paths,) if isinstance(paths, (str, PathLike)) else tuple(paths)
    threshold = None
    if fail_on is not None:
        try:
            threshold = Severity.parse(fail_on)
        except ValueError as error:
            raise UsageError(f"fail_on: {error}") from None
    return judge(CheckRequest(
        inputs=tuple(str(p) for p in inputs),
        policy_path=Path(policy) if policy is not None else None,
        baseline_path=Path(baseline) if baseline is not None else None,
        against=tuple(str(p) for p in against),
        fail_on=threshold,
        device_sdk=device_sdk,
        rules_files=tuple(Path(r) for r in rules),
        recursive=recursive,
        keep_going=keep_going,
        target_sdk=target_sdk,
        min_sdk=min_sdk,
    ))


def to_dict(value: Report | ScanResult) -> dict[str, Any]:
    """The JSON contract: a whole scan document, or one report's ``apps[]`` object."""
    from permaudit.formatters.json.report import report_json, scan_document

    return report_json(value) if isinstance(value, Report) else scan_document(value)


def batch_scan(
    paths: Sequence[StrPath],
    output: StrPath,
    *,
    jobs: int | None = None,
    recursive: bool = False,
    resume: bool = False,
    digest: bool = False,
    scheduler: Any = None,
    progress: bool = False,
    code: bool = True,
    target_sdk: int | None = None,
    min_sdk: int | None = None,
    locale: str | None = None,
) -> int:
    """``permaudit batch``: one entry per input streamed to ``output`` (.jsonl/.parquet).

    Named apart from the ``permaudit.batch`` package, which would shadow it.

    ``scheduler``: a Dask scheduler address or an existing ``dask.distributed.Client``.
    Returns the exit code (0 all read, 2 some failed; the output is complete either way).
    """
    from permaudit.batch.run import BatchRequest, run_batch

    return run_batch(BatchRequest(
        inputs=tuple(str(p) for p in paths), output=Path(output), jobs=jobs,
        recursive=recursive, resume=resume, digest=digest, scheduler=scheduler,
        progress=progress, code=code, target_sdk=target_sdk, min_sdk=min_sdk, locale=locale,
    ))
