"""Baselines: the versioned JSON file of accepted finding fingerprints (create, update, load).

A baseline records, per finding, its fingerprint (rule id + package + subject: never the
message or severity, so rewording or re-grading a rule does not invalidate it) plus, for
review, the rule id, package and subject it was made from. It also records how far each
permission request and capability reached (element, maxSdkVersion; access labels), so a
later build that *broadens* an already-baselined finding (a widened maxSdkVersion, an
sdk-23 request widened to all levels, a capability reached in a new way) still fails.

Schema history and migration path: ``schema_version`` is an integer. A file with a
version above ``SCHEMA_VERSION`` was written by a newer permaudit and is refused (exit 2,
"upgrade permaudit"). An older version is upgraded in memory by the functions in
``MIGRATIONS`` (version n -> n + 1, applied in order) and written back in the current
schema by ``permaudit baseline update``. Version 1 is the first, so there is nothing to
migrate yet; a change to the layout adds ``MIGRATIONS[1]`` and bumps ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from permaudit._infra.records import record
from permaudit.datafiles.config_file import read_config_text
from permaudit.errors import PermauditError
from permaudit.model import Report

SCHEMA_VERSION = 1
#: ``MIGRATIONS[n]`` turns a version-``n`` document into a version-``n + 1`` one.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class BaselineError(PermauditError):
    """A baseline file is missing, corrupt, or from a newer permaudit (exit 2)."""


@record(order=True)
class BaselineFinding:
    """One accepted finding: its identity, and what it was computed from (for review)."""

    package: str
    rule: str
    subject: str
    fingerprint: str


@record(order=True)
class PermissionScope:
    """How one permission request reached when the baseline was made."""

    package: str
    name: str
    element: str
    max_sdk: int | None = None


@record(order=True)
class CapabilityScope:
    """How one capability was reached when the baseline was made."""

    package: str
    id: str
    via: tuple[str, ...] = ()
    access: tuple[str, ...] = ()


@record
class Baseline:
    """Accepted findings and the reach of each permission and capability, per package."""

    findings: tuple[BaselineFinding, ...] = ()
    permissions: tuple[PermissionScope, ...] = ()
    capabilities: tuple[CapabilityScope, ...] = ()

    @property
    def fingerprints(self) -> frozenset[str]:
        """Every accepted fingerprint."""
        return frozenset(f.fingerprint for f in self.findings)

    @property
    def packages(self) -> frozenset[str]:
        """Packages the baseline knows about."""
        return frozenset(
            {f.package for f in self.findings}
            | {p.package for p in self.permissions}
            | {c.package for c in self.capabilities}
        )

    def permission_scopes(self, package: str, name: str) -> tuple[PermissionScope, ...]:
        """Every recorded request of permission ``name`` by ``package``."""
        return tuple(p for p in self.permissions if p.package == package and p.name == name)

    def capability_scope(self, package: str, capability: str) -> CapabilityScope | None:
        """The recorded reach of ``capability`` in ``package``, if it was reached."""
        for scope in self.capabilities:
            if scope.package == package and scope.id == capability:
                return scope
        return None


# --- building -----------------------------------------------------------------------------


def from_reports(reports: Iterable[Report]) -> Baseline:
    """A baseline accepting every finding of ``reports`` as they stand."""
    findings: set[BaselineFinding] = set()
    permissions: set[PermissionScope] = set()
    capabilities: set[CapabilityScope] = set()
    for report in reports:
        package = report.app.manifest.package
        findings.update(
            BaselineFinding(
                package=package, rule=f.rule, subject=f.subject, fingerprint=f.fingerprint
            )
            for f in report.findings
        )
        permissions.update(
            PermissionScope(package=package, name=p.name, element=p.element, max_sdk=p.max_sdk)
            for p in report.permissions
        )
        capabilities.update(
            CapabilityScope(
                package=package, id=c.id, via=tuple(sorted(c.via)), access=tuple(sorted(c.access))
            )
            for c in report.capabilities
        )
    return Baseline(
        findings=tuple(sorted(findings)),
        permissions=tuple(sorted(permissions, key=_permission_key)),
        capabilities=tuple(sorted(capabilities)),
    )


def update(old: Baseline, reports: Sequence[Report]) -> Baseline:
    """``old`` with every package of ``reports`` replaced by what the reports find now.

    Packages not scanned this time keep their entries, so one baseline file can serve
    several apps updated one at a time.
    """
    fresh = from_reports(reports)
    scanned = frozenset(r.app.manifest.package for r in reports)
    return Baseline(
        findings=tuple(
            sorted({*(f for f in old.findings if f.package not in scanned), *fresh.findings})
        ),
        permissions=tuple(
            sorted(
                {*(p for p in old.permissions if p.package not in scanned), *fresh.permissions},
                key=_permission_key,
            )
        ),
        capabilities=tuple(
            sorted(
                {*(c for c in old.capabilities if c.package not in scanned), *fresh.capabilities}
            )
        ),
    )


def _permission_key(scope: PermissionScope) -> tuple[str, str, str, int]:
    return (
        scope.package,
        scope.name,
        scope.element,
        -1 if scope.max_sdk is None else scope.max_sdk,
    )


# --- writing ------------------------------------------------------------------------------


def to_json(baseline: Baseline) -> str:
    """The baseline document: deterministic (sorted, no timestamps), newline-terminated."""
    document = {
        "schema_version": SCHEMA_VERSION,
        "tool": "permaudit",
        "findings": [
            {
                "package": f.package,
                "rule": f.rule,
                "subject": f.subject,
                "fingerprint": f.fingerprint,
            }
            for f in baseline.findings
        ],
        "permissions": [
            {"package": p.package, "name": p.name, "element": p.element, "max_sdk": p.max_sdk}
            for p in baseline.permissions
        ],
        "capabilities": [
            {"package": c.package, "id": c.id, "via": list(c.via), "access": list(c.access)}
            for c in baseline.capabilities
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --- reading ------------------------------------------------------------------------------


def load_baseline(path: Path, display: str | None = None) -> Baseline:
    """Read the baseline at ``path``; a missing, corrupt or too-new file is a ``BaselineError``."""
    name = display or str(path)
    try:
        text = read_config_text(path)
    except PermauditError as exc:
        raise BaselineError(f"cannot read baseline: {exc.detail}", path=name) from None
    except FileNotFoundError:
        raise BaselineError(
            "baseline file not found (create one with 'permaudit baseline create APP -o FILE')",
            path=name,
        ) from None
    except OSError as exc:
        raise BaselineError(f"cannot read baseline: {exc.strerror}", path=name) from None
    except UnicodeDecodeError:
        raise BaselineError("corrupt baseline: not UTF-8 text", path=name) from None
    return parse_baseline(text, name)


#: A baseline is 4 levels deep; json.loads recurses once per level.
MAX_JSON_DEPTH = 32
#: Longest integer a baseline may hold (API levels and schema versions need 3).
MAX_INT_DIGITS = 40


class _HugeNumber(ValueError):
    """An integer literal longer than ``MAX_INT_DIGITS``."""


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise _HugeNumber(len(literal.lstrip("-")))
    return int(literal)


#: A JSON string (unrolled, so no backtracking state per character) or a structural byte.
_STRUCTURE = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|[\[\]{}\n]')


def _too_deep(text: str) -> tuple[int, int] | None:
    """``(line, column)`` where ``text`` first nests deeper than ``MAX_JSON_DEPTH``; one pass."""
    depth = 0
    line, start = 1, 0
    for match in _STRUCTURE.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return line, match.start() - start + 1
        elif char in "]}":
            depth -= 1
        elif char == "\n":
            line, start = line + 1, match.end()
    return None


def parse_baseline(text: str, name: str) -> Baseline:
    """Parse baseline ``text`` (read from ``name``), migrating an older schema in memory."""
    deep = _too_deep(text)
    if deep is not None:
        raise BaselineError(
            f"corrupt baseline: nested deeper than {MAX_JSON_DEPTH} levels (line {deep[0]} "
            f"column {deep[1]})", path=name,
        )
    try:
        document = json.loads(text, parse_int=_bounded_int)
    except _HugeNumber as exc:
        raise BaselineError(
            f"corrupt baseline: number of {exc.args[0]} digits (at most {MAX_INT_DIGITS})",
            path=name,
        ) from None
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"corrupt baseline: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})",
            path=name,
        ) from None
    if not isinstance(document, dict) or "schema_version" not in document:
        raise BaselineError(
            "corrupt baseline: not a permaudit baseline (no schema_version)", path=name
        )
    version = document["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BaselineError(
            f"corrupt baseline: schema_version must be a positive integer, not {version!r}",
            path=name,
        )
    if version > SCHEMA_VERSION:
        raise BaselineError(
            f"baseline schema version {version} was written by a newer permaudit; this one "
            f"reads versions up to {SCHEMA_VERSION}: upgrade permaudit",
            path=name,
        )
    while version < SCHEMA_VERSION:
        document = MIGRATIONS[version](document)
        version += 1
    return _Decoder(name).baseline(document)


class _Decoder:
    """Checks the shape of a current-schema document, naming the first bad field."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, message: str) -> BaselineError:
        return BaselineError(f"corrupt baseline: {where}: {message}", path=self.name)

    def entries(
        self, document: Mapping[str, Any], key: str, *, required: bool = False
    ) -> list[dict[str, Any]]:
        if required and key not in document:
            raise self.fail(key, "missing")
        value = document.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{index}]", "must be an object")
        return value

    def text(self, item: Mapping[str, Any], where: str, key: str) -> str:
        value = item.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(f"{where}.{key}", "must be a non-empty string")
        return value

    def texts(self, item: Mapping[str, Any], where: str, key: str) -> tuple[str, ...]:
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{where}.{key}", "must be a list of strings")
        return tuple(sorted(value))

    def level(self, item: Mapping[str, Any], where: str, key: str) -> int | None:
        value = item.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise self.fail(f"{where}.{key}", "must be a positive integer or null")
        return value

    def baseline(self, document: Mapping[str, Any]) -> Baseline:
        findings = []
        for index, item in enumerate(self.entries(document, "findings", required=True)):
            where = f"findings[{index}]"
            findings.append(
                BaselineFinding(
                    package=self.text(item, where, "package"),
                    rule=self.text(item, where, "rule"),
                    subject=self.text(item, where, "subject"),
                    fingerprint=self.text(item, where, "fingerprint"),
                )
            )
        permissions = []
        for index, item in enumerate(self.entries(document, "permissions")):
            where = f"permissions[{index}]"
            permissions.append(
                PermissionScope(
                    package=self.text(item, where, "package"),
                    name=self.text(item, where, "name"),
                    element=self.text(item, where, "element"),
                    max_sdk=self.level(item, where, "max_sdk"),
                )
            )
        capabilities = []
        for index, item in enumerate(self.entries(document, "capabilities")):
            where = f"capabilities[{index}]"
            capabilities.append(
                CapabilityScope(
                    package=self.text(item, where, "package"),
                    id=self.text(item, where, "id"),
                    via=self.texts(item, where, "via"),
                    access=self.texts(item, where, "access"),
                )
            )
        return Baseline(
            findings=tuple(sorted(set(findings))),
            permissions=tuple(sorted(set(permissions), key=_permission_key)),
            capabilities=tuple(sorted(set(capabilities))),
        )
