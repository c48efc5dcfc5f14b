"""The per-file unit of a batch: one input path -> its JSON object or an error entry.

Runs in worker processes (local pool or Dask workers), so it takes only picklable
arguments and keeps the ruleset and the platform per process: loaded once, not per app.
Each file is one app: loose splits are not joined with their base (give ``.apks`` sets
for that); a split file gets the same "scanned on its own" note as a lone split in
``scan``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from permaudit._infra.records import record, replace
from permaudit.errors import PermauditError
from permaudit.model import SdkLevels

if TYPE_CHECKING:
    from permaudit.android.platform import Platform
    from permaudit.rules.model import RuleSet


@record
class Settings:
    """What every file of a batch is scanned with."""

    device_sdk: int | None = None
    rules_files: tuple[str, ...] = ()
    digest: bool = False
    #: Read the DEX files (``--no-code`` turns it off).
    code: bool = True
    #: Levels for source manifests without ``<uses-sdk>``.
    target_sdk: int | None = None
    min_sdk: int | None = None
    locale: str | None = None


_RULESETS: dict[tuple[str, ...], RuleSet] = {}
_PLATFORMS: dict[int, Platform] = {}


def _ruleset(rules_files: tuple[str, ...]) -> RuleSet:
    if rules_files not in _RULESETS:
        from pathlib import Path

        from permaudit.rules.ruleset import load_ruleset

        _RULESETS[rules_files] = load_ruleset([Path(p) for p in rules_files])
    return _RULESETS[rules_files]


def _platform(device_sdk: int | None) -> Platform:
    from permaudit.android.catalog import NEWEST_API_LEVEL
    from permaudit.android.platform import platform_for

    level = NEWEST_API_LEVEL if device_sdk is None else device_sdk
    if level not in _PLATFORMS:
        _PLATFORMS[level] = platform_for(level)
    return _PLATFORMS[level]


def scan_file(path: str, settings: Settings) -> dict[str, Any]:
    """The per-app object of the JSON contract for ``path``, or its error entry."""
    from permaudit.engine import evaluate
    from permaudit.formatters.json.report import failure_json, report_json
    from permaudit.inputs.loader import failure_of, load, lone_split_note

    try:
        given = None
        if settings.target_sdk is not None or settings.min_sdk is not None:
            given = SdkLevels(min_sdk=settings.min_sdk, target_sdk=settings.target_sdk)
        app = load(
            path, digest=settings.digest, code=settings.code, sdk=given, locale=settings.locale
        )
        if app.manifest.split is not None and app.input.kind == "apk":
            app = replace(app, notes=(*app.notes, lone_split_note(app)))
        report = evaluate(app, _ruleset(settings.rules_files), _platform(settings.device_sdk))
    except PermauditError as exc:
        return failure_json(failure_of(exc, path))
    return report_json(report)


def scan_files(paths: Sequence[str], settings: Settings) -> list[dict[str, Any]]:
    """``scan_file`` for a chunk of paths (one task of the pool or of Dask)."""
    return [scan_file(p, settings) for p in paths]


def ruleset_provenance(settings: Settings) -> tuple[str, str, int]:
    """Ruleset id, its SHA-256 and the device level the batch is evaluated on."""
    ruleset = _ruleset(settings.rules_files)
    return ruleset.id, ruleset.sha256, _platform(settings.device_sdk).api_level


def file_identity(path: str) -> tuple[int, int] | None:
    """Size and mtime (ns) of ``path`` for ``--resume``; ``None`` when it cannot be stat'ed."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns
