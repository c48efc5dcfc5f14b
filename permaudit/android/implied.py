"""Implied permissions: what Android adds to an app for its target SDK (split/compat rules)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from permaudit._infra.records import record
from permaudit.datafiles.compiled import ShippedData, load_shipped
from permaudit.errors import PermauditError
from permaudit.model import Manifest, UsesPermission

RULES_FILE = Path(__file__).with_name("data") / "implied_permissions.yml"
_RULE_KEYS = frozenset(
    {"id", "kind", "from", "implies", "target_sdk_below", "device_min_sdk", "aapt", "source"}
)
KIND_COMPAT = "compat"
KIND_SPLIT = "split"
_PREFIX = "android.permission."


@record
class ImpliedRule:
    """One row of ``data/implied_permissions.yml``."""

    id: str
    #: ``compat`` (old target SDK, no request needed) or ``split`` (from a requested permission).
    kind: str
    #: The requested permission that triggers a split; ``None`` for compat rules.
    source_permission: str | None
    implies: str
    #: Condition on the app: ``targetSdk < target_sdk_below``; ``None``: every target SDK.
    target_sdk_below: int | None
    #: First device API level whose platform applies the rule.
    device_min_sdk: int
    #: Whether ``aapt dump badging`` prints it as ``uses-implied-permission``.
    aapt: bool
    citation: str

    def holds_for(self, target_sdk: int | None) -> bool:
        """Whether an app targeting ``target_sdk`` meets the rule's condition.

        An unknown target SDK (``None``) meets only the rules that hold for every target.
        """
        if self.target_sdk_below is None:
            return True
        return target_sdk is not None and target_sdk < self.target_sdk_below


#: The classes the compiled table is made of (``permaudit.datafiles.compiled``).
COMPILED_TYPES: tuple[type, ...] = (ImpliedRule,)


@record
class ImpliedPermission:
    """A permission the platform adds although the manifest does not request it."""

    name: str
    #: Human-readable cause, e.g. ``targetSdk 22 < 29: split from ACCESS_FINE_LOCATION``.
    reason: str
    #: The permission it was split from; ``None`` for compat rules (target SDK alone).
    source: str | None
    #: Inherited from the source: Android drops the source above its maxSdkVersion
    #: before applying splits, so the split goes with it.
    max_sdk: int | None = None
    #: Element of the manifest entry the chain starts from (``uses-permission`` or
    #: ``uses-permission-sdk-23``); ``None`` when implied by the target SDK alone.
    element: str | None = None
    #: First device level on which Android applies the whole chain of rules.
    device_min_sdk: int = 1
    #: Id of the rule in ``implied_permissions.yml``.
    rule: str = ""


@record
class _Origin:
    name: str
    element: str | None
    max_sdk: int | None
    device_min_sdk: int
    implied: bool


def load_rules(path: Path = RULES_FILE, *, compiled: bool = True) -> tuple[ImpliedRule, ...]:
    """Read and validate the implied-permission table; ``PermauditError`` when invalid.

    With ``compiled``, the table compiled from the same bytes is used when there is one.
    """
    data = shipped_data(path)
    return load_shipped(data, lambda: read_rules(path), tuple, compiled=compiled)


def shipped_data(path: Path = RULES_FILE) -> ShippedData:
    """The implied-permission table and its precompiled copy beside it."""
    return ShippedData(
        sources=(path,), compiled=path.with_suffix(".compiled.json"), types=COMPILED_TYPES
    )


def read_rules(path: Path) -> tuple[ImpliedRule, ...]:
    """The table read and validated from its YAML (the compiled copy is not looked at)."""
    from permaudit.datafiles.yaml_nodes import (
        load_data_file,  # only here: PyYAML costs a scan ~11 ms
    )

    document = load_data_file(path, "implied-permission rules")
    rules = tuple(_rule(item, path) for item in document.get("rules") or ())
    ids = [rule.id for rule in rules]
    duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
    if duplicates:
        raise PermauditError(f"duplicate rule ids {duplicates}", path=str(path))
    return rules


def _rule(item: object, path: Path) -> ImpliedRule:
    if not isinstance(item, dict) or set(item) != _RULE_KEYS:
        raise PermauditError(
            f"rule must have exactly the keys {sorted(_RULE_KEYS)}: {item!r}", path=str(path)
        )
    kind = item["kind"]
    source = item["from"]
    below = item["target_sdk_below"]
    valid = (
        kind in (KIND_COMPAT, KIND_SPLIT)
        and (source is None) == (kind == KIND_COMPAT)
        and (below is None or (isinstance(below, int) and not isinstance(below, bool)))
        and isinstance(item["device_min_sdk"], int)
        and isinstance(item["aapt"], bool)
        and isinstance(item["implies"], str)
    )
    if not valid:
        raise PermauditError(f"invalid rule {item.get('id')!r}: {item!r}", path=str(path))
    return ImpliedRule(
        id=str(item["id"]),
        kind=kind,
        source_permission=source,
        implies=item["implies"],
        target_sdk_below=below,
        device_min_sdk=item["device_min_sdk"],
        aapt=item["aapt"],
        citation=str(item["source"]),
    )


def implied_permissions(
    manifest: Manifest, rules: tuple[ImpliedRule, ...] | None = None
) -> tuple[ImpliedPermission, ...]:
    """Permissions Android adds to ``manifest`` for its target SDK, device-independent.

    Only names the manifest does not request in any element. A name implied along
    several paths (e.g. from ``BLUETOOTH`` and from ``BLUETOOTH_ADMIN``) appears once
    per path, because each path applies on different devices.
    """
    return implied_from(
        manifest.uses_permissions,
        manifest.target_sdk,
        load_rules() if rules is None else rules,
    )


def implied_from(
    requested: Iterable[UsesPermission],
    target_sdk: int | None,
    rules: tuple[ImpliedRule, ...],
    *,
    exclude: Collection[str] | None = None,
) -> tuple[ImpliedPermission, ...]:
    """Apply ``rules`` to ``requested`` until nothing new is implied (rules chain).

    ``exclude`` holds the names counted as already requested (default: every requested
    name); a caller evaluating one device passes only the requests that apply there.
    """
    entries = tuple(requested)
    present = frozenset(u.name for u in entries) if exclude is None else frozenset(exclude)
    origins: list[_Origin] = [
        _Origin(
            name=u.name, element=u.element, max_sdk=u.max_sdk, device_min_sdk=1, implied=False
        )
        for u in entries
    ]
    found: dict[tuple[str, str | None, str | None, int | None, int], ImpliedPermission] = {}

    def add(candidate: ImpliedPermission) -> None:
        key = (
            candidate.name,
            candidate.source,
            candidate.element,
            candidate.max_sdk,
            candidate.device_min_sdk,
        )
        if key not in found:
            found[key] = candidate
            origins.append(
                _Origin(
                    name=candidate.name,
                    element=candidate.element,
                    max_sdk=candidate.max_sdk,
                    device_min_sdk=candidate.device_min_sdk,
                    implied=True,
                )
            )

    for rule in rules:
        if rule.kind == KIND_COMPAT and rule.holds_for(target_sdk) and rule.implies not in present:
            add(
                ImpliedPermission(
                    name=rule.implies,
                    reason=(
                        f"targetSdk {target_sdk} < {rule.target_sdk_below}: granted "
                        f"implicitly to apps built for API levels before "
                        f"{rule.target_sdk_below}"
                    ),
                    source=None,
                    device_min_sdk=rule.device_min_sdk,
                    rule=rule.id,
                )
            )
    splits = [r for r in rules if r.kind == KIND_SPLIT and r.holds_for(target_sdk)]
    done = 0
    while done < len(origins):
        origin = origins[done]
        done += 1
        for rule in splits:
            if rule.source_permission != origin.name or rule.implies in present:
                continue
            add(
                ImpliedPermission(
                    name=rule.implies,
                    reason=_split_reason(rule, target_sdk, origin),
                    source=origin.name,
                    max_sdk=origin.max_sdk,
                    element=origin.element,
                    device_min_sdk=max(origin.device_min_sdk, rule.device_min_sdk),
                    rule=rule.id,
                )
            )
    return tuple(sorted(found.values(), key=_order))


def _split_reason(rule: ImpliedRule, target_sdk: int | None, origin: _Origin) -> str:
    source = _short(origin.name) + (" (itself implied)" if origin.implied else "")
    if rule.target_sdk_below is None:
        return f"split from {source} (every target SDK)"
    return f"targetSdk {target_sdk} < {rule.target_sdk_below}: split from {source}"


def _short(name: str) -> str:
    return name[len(_PREFIX) :] if name.startswith(_PREFIX) else name


def _order(item: ImpliedPermission) -> tuple[str, str, str, int, int, str]:
    return (
        item.name,
        item.source or "",
        item.element or "",
        item.max_sdk if item.max_sdk is not None else 1 << 30,
        item.device_min_sdk,
        item.rule,
    )
