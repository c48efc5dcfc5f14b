"""Loading a ruleset: the default set (precompiled when current) plus user files, by id.

The records are in ``permaudit.rules.model``. The default ruleset (``rules/*.yml``) is
loaded first; files given with ``--rules`` are applied on top of it in order, by id: a user
never copies the default set. The YAML parser, its diagnostics and the merge live in
``permaudit.rules.yaml_reader``, imported only when YAML is actually read: a scan with the
shipped rules reads their precompiled form (``permaudit.datafiles.compiled``) and never
imports ``yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from permaudit.datafiles.compiled import ShippedData, load
from permaudit.datafiles.origin import Origin
from permaudit.errors import RulesError
from permaudit.model import Severity
from permaudit.rules.model import (
    AllCapabilities,
    AppFlags,
    BackupCondition,
    Capability,
    CleartextTraffic,
    CodeReference,
    ComponentFeature,
    DeclaredPermission,
    ExportedComponent,
    IgnoredElement,
    ListedRule,
    NetworkSecurityCondition,
    PermissionClass,
    PermissionGrant,
    QueriesFeature,
    RequestedPermission,
    Rule,
    RuleSet,
    RulesFile,
    ServerCountry,
    ServerOwner,
    SharedUserId,
    SigningCondition,
    Tamper,
    TargetSdkBelow,
    TrackerCondition,
)

#: The classes a compiled default ruleset is made of (``permaudit.datafiles.compiled``).
COMPILED_TYPES: tuple[type, ...] = (
    RuleSet, RulesFile, Capability, PermissionGrant, ComponentFeature, QueriesFeature, Rule,
    AppFlags, CleartextTraffic, TargetSdkBelow, ExportedComponent, DeclaredPermission,
    SharedUserId, PermissionClass, RequestedPermission, IgnoredElement, SigningCondition, Tamper,
    AllCapabilities, Origin, Severity, NetworkSecurityCondition, BackupCondition,
    TrackerCondition, ServerCountry, ServerOwner, CodeReference,
)


# --- loading -------------------------------------------------------------------------------


def default_ruleset_paths(package_dir: Path | None = None) -> tuple[Path, ...]:
    """The default ruleset files: installed (``permaudit/_rules``) or in the source tree.

    ``package_dir`` is the ``permaudit`` package directory (default: this module's).
    """
    package = package_dir if package_dir is not None else Path(__file__).resolve().parents[1]
    for base in (package / "_rules", package.parent / "rules"):
        files = sorted(base.glob("*.yml"))
        if files:
            return tuple(files)
    raise RulesError([f"{package}: error: the default ruleset is missing (no _rules/*.yml)"])


def compiled_default_ruleset(paths: Sequence[Path]) -> RuleSet | None:
    """The default ruleset from its compiled form, when that was compiled from ``paths``."""
    value = load(shipped_default_data(paths))
    return value if isinstance(value, RuleSet) else None


#: The default ruleset's precompiled copy (``make compiled``), inside this package.
COMPILED_DEFAULT = Path(__file__).with_name("default_ruleset.compiled.json")


def shipped_default_data(paths: Sequence[Path] | None = None) -> ShippedData:
    """The default ruleset files and their precompiled copy."""
    sources = tuple(paths) if paths is not None else default_ruleset_paths()
    return ShippedData(
        sources=sources, compiled=COMPILED_DEFAULT, types=COMPILED_TYPES, root=sources[0].parent
    )


def load_ruleset(
    extra: Sequence[Path] = (), *, include_default: bool = True, compiled: bool = True
) -> RuleSet:
    """The default ruleset (unless excluded) with ``extra`` files applied in order, by id.

    With ``compiled`` the default comes from its compiled form while that matches the
    files (only ``extra`` is read as YAML); without it every file is read and validated.
    Raises ``RulesError`` carrying every diagnostic of every file at once.
    """
    default_paths = default_ruleset_paths() if include_default else ()
    base = compiled_default_ruleset(default_paths) if default_paths and compiled else None
    if base is not None and not extra:
        return base
    from permaudit.rules.yaml_reader import load_files

    # A RuleSet keeps no position of a ``disable``, which merging more files may report.
    if base is not None and not base.disabled:
        return load_files(tuple(map(Path, extra)), base=base)
    return load_files((*default_paths, *map(Path, extra)))


def validate_files(paths: Sequence[Path], *, include_default: bool = True) -> RuleSet:
    """Check ``paths`` as they would be used: on top of the default ruleset unless excluded.

    Every file, the default ones included, is read and validated from its YAML (never the
    compiled copy). Returns the ruleset; raises ``RulesError`` with every diagnostic.
    """
    return load_ruleset(paths, include_default=include_default, compiled=False)


def list_rules(ruleset: RuleSet) -> tuple[ListedRule, ...]:
    """Every capability and rule, enabled ones first (in file order), then disabled ones."""

    def listed(item: Capability | Rule, enabled: bool) -> ListedRule:
        if isinstance(item, Capability):
            rule_id, kind, category = item.rule_id, "capability", "capability"
        else:
            rule_id, kind, category = item.id, "rule", item.category
        return ListedRule(
            id=rule_id, kind=kind, severity=item.severity, title=item.title, category=category,
            origin=str(item.origin), enabled=enabled,
            overridden_at=tuple(str(o) for o in item.overridden_at),
        )

    return (
        *(listed(c, True) for c in ruleset.capabilities),
        *(listed(r, True) for r in ruleset.rules),
        *(listed(item, False) for item in ruleset.disabled),
    )
