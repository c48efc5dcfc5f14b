"""Which capabilities a permission set and the manifest's components reach, and through what."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from permaudit._infra.records import record, replace
from permaudit.android.foreground_services import ServiceTypeTable
from permaudit.engine.findings import CAPABILITY_CATEGORY, fingerprint, short
from permaudit.model import (
    CLASS_SIGNATURE,
    IMPLIED,
    USES_PERMISSION,
    USES_PERMISSION_SDK_23,
    CapabilityHit,
    Component,
    Finding,
    Manifest,
    PermissionAccess,
)
from permaudit.rules.model import Capability, ComponentFeature, QueriesFeature, RuleSet


@record
class Grant:
    """One entry of a capability that matched: what, how far, with which caveats."""

    via: tuple[str, ...]
    access: str | None
    needs_other: bool
    #: Conditions it holds under (sdk-23, maxSdkVersion, implied); shown only when every
    #: route to the capability has some.
    caveats: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    line: int | None = None


def grants_capability(row: PermissionAccess) -> bool:
    """A permission row counts when Android grants it here to an ordinary app."""
    return row.applies and row.protection_class != CLASS_SIGNATURE


def permission_caveats(rows: Sequence[PermissionAccess], manifest: Manifest) -> tuple[str, ...]:
    """Why the permission of ``rows`` may not hold; none when one row is unconditional."""
    if any(r.element == USES_PERMISSION and r.max_sdk is None for r in rows):
        return ()
    caveats = []
    for row in rows:
        name = short(row.name)
        if row.element == USES_PERMISSION_SDK_23:
            caveats.append(f"{name}: only through uses-permission-sdk-23")
        if row.element == IMPLIED:
            if row.reason and "targetSdk" not in row.reason:
                caveats.append(f"{name}: implied ({row.reason})")
            else:
                caveats.append(f"{name}: implied by targetSdk {manifest.target_sdk}")
        if row.max_sdk is not None:
            caveats.append(f"{name}: only up to API {row.max_sdk} (maxSdkVersion)")
    return tuple(caveats)


def permission_notes(name: str, manifest: Manifest) -> tuple[str, ...]:
    """Facts worth showing whatever else grants the capability."""
    if any(u.name == name and u.never_for_location for u in manifest.uses_permissions):
        return (f"{short(name)}: neverForLocation",)
    return ()


def permission_line(manifest: Manifest, name: str) -> int | None:
    """The manifest line of the first request of ``name``."""
    return next((u.line for u in manifest.uses_permissions if u.name == name), None)


def component_matches(feature: ComponentFeature, component: Component) -> bool:
    """Every filter of ``feature`` holds for ``component``."""
    if component.kind not in feature.kinds:
        return False
    if feature.permission is not None and component.permission != feature.permission:
        return False
    if feature.actions and not any(
        action in feature.actions for f in component.intent_filters for action in f.actions
    ):
        return False
    return not feature.foreground_service_types or any(
        t in feature.foreground_service_types for t in component.foreground_service_types
    )


@record
class ServiceGate:
    """What decides whether a foreground service may start: the table, the app, the device."""

    table: ServiceTypeTable
    requested: frozenset[str]
    target_sdk: int | None
    device_sdk: int

    def refusal(self, feature: ComponentFeature, component: Component) -> str | None:
        """Why Android refuses to start ``component`` as the types ``feature`` asks for."""
        wanted = [t for t in component.foreground_service_types
                  if t in feature.foreground_service_types]
        reasons = [self.table.missing(t, self.requested, target_sdk=self.target_sdk,
                                      device_sdk=self.device_sdk) for t in wanted]
        if not wanted or not all(reasons):
            return None
        because = "; ".join(dict.fromkeys(r for rs in reasons for r in rs))
        simple = component.name.rsplit(".", 1)[-1]
        return (f"{component.kind} {simple} cannot run as a {'/'.join(wanted)} "
                f"foreground service: {because} (required from API "
                f"{self.table.device_min_sdk} for apps targeting {self.table.target_sdk_min}+)")


def feature_grants(
    feature: ComponentFeature | QueriesFeature, manifest: Manifest,
    gate: ServiceGate | None = None,
) -> Iterator[Grant]:
    """What in ``manifest`` matches ``feature``.

    A foreground service that Android would refuse to start (``gate``) grants nothing; it
    yields a note saying why instead.
    """
    if isinstance(feature, QueriesFeature):
        for intent in manifest.queries.intents:
            if feature.action is not None and feature.action not in intent.actions:
                continue
            if feature.category is not None and feature.category not in intent.categories:
                continue
            wanted = "+".join(x for x in (feature.action, feature.category) if x)
            yield Grant(via=(f"queries:{wanted}",), access=feature.access,
                        needs_other=feature.needs_other)
            return
        return
    for component in manifest.components:
        if component_matches(feature, component):
            refusal = gate.refusal(feature, component) if gate is not None else None
            if refusal is not None:
                yield Grant(via=(), access=None, needs_other=True, notes=(refusal,),
                            line=component.line)
                continue
            via = f"{component.kind}:{component.name}"
            notes = () if component.enabled else (
                f"{via}: disabled in the manifest (the app can enable it)",
            )
            yield Grant(via=(via,), access=feature.access, needs_other=feature.needs_other,
                        notes=notes, line=component.line)


def capability_grants(
    capability: Capability, manifest: Manifest, rows: dict[str, list[PermissionAccess]],
    gate: ServiceGate | None = None,
) -> list[Grant]:
    """Every entry of ``capability`` that matched, in the capability's order."""
    grants = []
    for entry in capability.permissions:
        granting = [r for r in rows.get(entry.name, ()) if grants_capability(r)]
        if granting:
            grants.append(Grant(
                via=(entry.name,), access=entry.access, needs_other=entry.needs_other,
                caveats=permission_caveats(granting, manifest),
                notes=permission_notes(entry.name, manifest),
                line=permission_line(manifest, entry.name),
            ))
    for feature in capability.features:
        grants.extend(feature_grants(feature, manifest, gate))
    return grants


def capability_hits(
    manifest: Manifest, ruleset: RuleSet, permissions: Sequence[PermissionAccess],
    gate: ServiceGate | None = None,
) -> tuple[tuple[CapabilityHit, int | None], ...]:
    """Capabilities reached on the device level, each with a line.

    ``gate`` decides which foreground services may start (``None``: all of them).

    Most severe first; within a severity in the ruleset's order, which puts what people
    ask about first (microphone, camera, contacts, location, files).
    """
    rows: dict[str, list[PermissionAccess]] = {}
    for row in permissions:
        rows.setdefault(row.name, []).append(row)
    hits = []
    for capability in ruleset.capabilities:
        grants = capability_grants(capability, manifest, rows, gate)
        if all(g.needs_other for g in grants):
            continue  # nothing matched, or only entries that widen another entry
        conditional = all(g.caveats for g in grants if not g.needs_other)
        notes = [n for g in grants for n in (*(g.caveats if conditional else ()), *g.notes)]
        hit = CapabilityHit(
            id=capability.id,
            title=capability.title,
            severity=capability.severity,
            via=unique(v for g in grants for v in g.via),
            access=unique(g.access for g in grants if g.access),
            notes=unique(notes),
            rationale=" ".join(capability.rationale.split()),
        )
        line = next((g.line for g in grants if g.line is not None and g.via), None)
        hits.append((hit, line))
    return tuple(sorted(hits, key=lambda h: -int(h[0].severity)))  # stable: keeps file order


def unique(values: Iterable[str | None]) -> tuple[str, ...]:
    """Values without ``None`` and repeats, first occurrence kept."""
    return tuple(dict.fromkeys(v for v in values if v is not None))


def with_capabilities(
    permissions: Sequence[PermissionAccess], ruleset: RuleSet
) -> tuple[PermissionAccess, ...]:
    """Each permission row with the ids of the capabilities that list it."""
    by_name: dict[str, list[str]] = {}
    for capability in ruleset.capabilities:
        for entry in capability.permissions:
            by_name.setdefault(entry.name, []).append(capability.id)
    return tuple(
        replace(row, capabilities=tuple(by_name.get(row.name, ())))
        for row in permissions
    )


def capability_finding(hit: CapabilityHit, capability: Capability, package: str,
                       line: int | None) -> Finding:
    """The finding ``capability.<id>`` for a reached capability."""
    access = f" ({', '.join(hit.access)})" if hit.access else ""
    message = f"{hit.title}{access} via {', '.join(short(v) for v in hit.via)}"
    if hit.notes:
        message += "; " + "; ".join(hit.notes)
    return Finding(
        rule=capability.rule_id, severity=hit.severity, title=hit.title, subject=hit.id,
        category=CAPABILITY_CATEGORY, message=message,
        fingerprint=fingerprint(capability.rule_id, package, hit.id),
        references=capability.references, line=line,
    )


