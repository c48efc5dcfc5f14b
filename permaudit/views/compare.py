"""Compare several apps' reports side by side: capability matrix, permission matrix, exclusives.

Pure: ``compare(reports) -> Comparison`` reads only the reports (made by the engine on one
device level with one ruleset) and never does I/O. Columns are the apps in input order;
rows are ordered by a fixed capability order and by name, never by input order, so
permuting the inputs only permutes the columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from permaudit._infra.records import record
from permaudit.errors import PermauditError
from permaudit.model import (
    CLASS_RUNTIME,
    CLASS_SPECIAL,
    COMPONENT_KINDS,
    IMPLIED,
    USES_PERMISSION,
    USES_PERMISSION_SDK_23,
    App,
    CapabilityHit,
    PermissionAccess,
    Report,
    RulesetInfo,
    Severity,
)
from permaudit.version import __version__

#: Capabilities shown first, in this order (what people ask about first), then the rest of
#: the default ruleset's ids in its documented order; ids unknown here follow, sorted.
CAPABILITY_ORDER: tuple[str, ...] = (
    "microphone",
    "camera",
    "contacts",
    "location",
    "background_location",
    "files",
    "sms",
    "call_log",
    "phone",
    "calendar",
    "body_sensors",
    "health",
    "body_tracking",
    "activity_recognition",
    "nearby_devices",
    "nfc",
    "notifications",
    "accounts",
    "installed_apps",
    "overlay",
    "screen_capture",
    "full_screen_alerts",
    "accessibility",
    "notification_access",
    "device_admin",
    "vpn",
    "boot",
    "install_packages",
    "exact_alarms",
    "usage_stats",
    "write_settings",
    "battery_unrestricted",
    "biometric",
)

#: Level text of a capability an app does not reach.
NOT_REACHED = "-"
#: Level text of a capability reached without any access label from the ruleset.
REACHED = "yes"
#: Group id of permissions that map to no capability.
OTHER_GROUP = "other"
OTHER_TITLE = "Other permissions"


def capability_sort_key(capability_id: str) -> tuple[int, str]:
    """Sort key placing known capabilities in ``CAPABILITY_ORDER`` and the rest after, by id."""
    try:
        return (CAPABILITY_ORDER.index(capability_id), "")
    except ValueError:
        return (len(CAPABILITY_ORDER), capability_id)


@record
class AppColumn:
    """One column: which app, labelled uniquely (by version when a package repeats)."""

    label: str
    package: str
    version_name: str | None
    version_code: int | None
    path: str
    #: Who signed it, in a few words (see :func:`signer_summary`).
    signer: str = "-"

    @property
    def version(self) -> str:
        """``versionName (versionCode)``, or whichever is known, or ``?``."""
        if self.version_name and self.version_code is not None:
            return f"{self.version_name} ({self.version_code})"
        if self.version_name:
            return self.version_name
        return str(self.version_code) if self.version_code is not None else "?"


#: What Android asks the user before an app may use a grant.
ASK_PROMPT = "prompt"
ASK_SETTINGS = "settings"
ASK_NOTHING = "nothing"
ASK_TEXT: dict[str, str] = {
    ASK_PROMPT: "a prompt at run time (Allow / Don't allow)",
    ASK_SETTINGS: "a switch the user turns on in Settings",
    ASK_NOTHING: "nothing: granted at install",
}
#: A foreground service asks nothing more, but Android shows a notification while it runs.
ASK_FGS_TEXT = "nothing more: Android shows a notification while it runs"

#: Permissions that extend a runtime permission of their group to the background: the
#: platform's ``android:backgroundPermission`` targets (AOSP core/res/AndroidManifest.xml,
#: ACCESS_FINE/COARSE_LOCATION -> ACCESS_BACKGROUND_LOCATION, BODY_SENSORS ->
#: BODY_SENSORS_BACKGROUND) and Health Connect's READ_HEALTH_DATA_IN_BACKGROUND.
BACKGROUND_PERMISSIONS = frozenset(
    (
        "android.permission.ACCESS_BACKGROUND_LOCATION",
        "android.permission.BODY_SENSORS_BACKGROUND",
        "android.permission.health.READ_HEALTH_DATA_IN_BACKGROUND",
    )
)


#: Permissions guarding a component that the system binds only after the user switched
#: it on for the app in Settings (special app access) or gave the app a role: AOSP
#: Settings > Special app access (accessibility, notification access, device admin), the
#: VPN consent dialog (VpnService.prepare), and RoleManager's roles (default SMS app:
#: BROADCAST_SMS; call screening and call redirection). Other guarded components (an NFC
#: card-emulation service, a job service) are bound by the system when it needs them.
USER_ENABLED_BINDINGS = frozenset(
    (
        "android.permission.BIND_ACCESSIBILITY_SERVICE",
        "android.permission.BIND_NOTIFICATION_LISTENER_SERVICE",
        "android.permission.BIND_DEVICE_ADMIN",
        "android.permission.BIND_VPN_SERVICE",
        "android.permission.BROADCAST_SMS",
        "android.permission.BIND_SCREENING_SERVICE",
        "android.permission.BIND_CALL_REDIRECTION_SERVICE",
    )
)
#: Foreground service types whose use Android confirms with the user every time, and the
#: capability they give: MediaProjection shows a consent dialog each time capture starts
#: (MediaProjectionManager.createScreenCaptureIntent).
PROMPTED_FGS_TYPES: dict[str, str] = {"mediaProjection": "screen_capture"}
ASK_PROJECTION_TEXT = "a system dialog each time capture starts (screen-capture consent)"


@record
class Ask:
    """What Android asks the user before one grant (a permission or a component) works."""

    #: The permission name or ``kind:component``, as in ``CapabilityHit.via``.
    subject: str
    #: ``prompt``, ``settings`` or ``nothing`` (see ``ASK_TEXT``).
    kind: str
    #: The words for it (``ASK_TEXT`` or a more precise sentence).
    text: str


@record
class ReachLevel:
    """One step of how far an app reaches a capability, with its mark and plain words."""

    key: str
    rank: int
    #: A character that tells the level apart without colour.
    mark: str
    label: str
    meaning: str


#: The reach levels, lowest first. ``special`` ranks highest: the user hands over access
#: Android otherwise keeps from every app; ``background`` beats ``asks`` because a granted
#: prompt then also covers the time the app is not on screen.
REACH_LEVELS: tuple[ReachLevel, ...] = (
    ReachLevel(key="none", rank=0, mark="-", label="not reached",
               meaning="The app does not request it: it cannot reach this."),
    ReachLevel(key="install", rank=1, mark="○", label="granted at install",
               meaning="Android grants it when the app is installed, without asking."),
    ReachLevel(key="asks", rank=2, mark="◐", label="asks",
               meaning="The app must ask: Android shows a prompt, and it works only if "
               "you allow it."),
    ReachLevel(key="background", rank=3, mark="●", label="asks + background",
               meaning="It asks, and once allowed it can go on using it while you use "
               "other apps (a background permission or a foreground service)."),
    ReachLevel(key="special", rank=4, mark="◆", label="special access",
               meaning="Special access: it works only after you switch it on for this app "
               "in Settings (or make it a default app)."),
)
REACH_BY_KEY: dict[str, ReachLevel] = {level.key: level for level in REACH_LEVELS}


def reach_level(key: str) -> ReachLevel:
    """The ``ReachLevel`` of ``key`` (``none`` for a key this version does not know)."""
    return REACH_BY_KEY.get(key, REACH_LEVELS[0])


def grant_asks(report: Report, via: str, capability: str = "") -> Ask:
    """What Android asks before the grant ``via`` of one of ``report``'s capabilities works.

    A permission is asked as its protection class on the report's device level says
    (taken from the platform catalog by the engine): ``runtime`` is a prompt, ``special``
    (app-op) a switch in Settings, everything else nothing. A component is either a
    foreground service (nothing more; a notification shows) or a component guarded by a
    permission only the system holds: the system binds it once the user turns it on in
    Settings (accessibility, notification access, VPN, device admin, default SMS app...),
    or one that reacts to a broadcast (nothing). A foreground service of a type Android
    confirms each time (``PROMPTED_FGS_TYPES``) is a prompt for ``capability``.
    """
    kind, sep, name = via.partition(":")
    if sep and kind in COMPONENT_KINDS:
        component = next(
            (c for c in report.app.manifest.components if c.kind == kind and c.name == name),
            None,
        )
        if component is not None and component.foreground_service_types:
            if any(
                PROMPTED_FGS_TYPES.get(t) == capability
                for t in component.foreground_service_types
            ):
                return Ask(subject=via, kind=ASK_PROMPT, text=ASK_PROJECTION_TEXT)
            return Ask(subject=via, kind=ASK_NOTHING, text=ASK_FGS_TEXT)
        if component is not None and component.permission in USER_ENABLED_BINDINGS:
            return Ask(subject=via, kind=ASK_SETTINGS, text=ASK_TEXT[ASK_SETTINGS])
        return Ask(subject=via, kind=ASK_NOTHING, text=ASK_TEXT[ASK_NOTHING])
    classes = {p.protection_class for p in report.permissions if p.name == via and p.applies}
    if CLASS_RUNTIME in classes:
        ask = ASK_PROMPT
    elif CLASS_SPECIAL in classes:
        ask = ASK_SETTINGS
    else:
        ask = ASK_NOTHING
    return Ask(subject=via, kind=ask, text=ASK_TEXT[ask])


def reach_of(report: Report, hit: CapabilityHit, asks: Sequence[Ask]) -> str:
    """How far ``hit`` reaches, a ``ReachLevel`` key, from what each grant asks.

    ``special`` when any grant needs a switch in Settings; else ``background`` when a
    prompt is needed and a background permission or a foreground service of the capability
    widens it; else ``asks`` for a prompt; else ``install``.
    """
    del report
    kinds = {ask.kind for ask in asks}
    if ASK_SETTINGS in kinds:
        return "special"
    if ASK_PROMPT in kinds:
        background = any(
            v in BACKGROUND_PERMISSIONS or ask.text in (ASK_FGS_TEXT, ASK_PROJECTION_TEXT)
            for v, ask in zip(hit.via, asks, strict=True)
        )
        return "background" if background else "asks"
    return "install"


@record
class CapabilityCell:
    """How far one app reaches one capability; ``level`` is ``-`` when it does not."""

    level: str
    access: tuple[str, ...] = ()
    severity: Severity | None = None
    via: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: How far it reaches, a ``ReachLevel.key`` (``none`` when it does not).
    reach: str = "none"
    #: What Android asks the user for each ``via`` entry, in ``via`` order.
    asks: tuple[Ask, ...] = ()

    @property
    def reached(self) -> bool:
        """Whether the app reaches the capability at all."""
        return self.severity is not None


@record
class CapabilityRow:
    """One capability reached by at least one app, with one cell per app."""

    id: str
    title: str
    #: The highest severity among the cells (the ruleset's severity of the capability).
    severity: Severity
    cells: tuple[CapabilityCell, ...]
    #: What reaching it means, in plain words (the ruleset's rationale); empty if unknown.
    rationale: str = ""
    #: What Android asks the user, over every app's ``via`` entries, each subject once.
    asks: tuple[Ask, ...] = ()


@record
class PermissionEntry:
    """One element through which an app requests (or is implied) a permission."""

    element: str
    max_sdk: int | None = None
    reason: str | None = None
    applies: bool = True


@record
class PermissionCell:
    """Whether and how one app requests one permission; ``entries`` is empty when it does not."""

    entries: tuple[PermissionEntry, ...] = ()

    @property
    def requested(self) -> bool:
        """Whether the app has the permission at all (requested or implied)."""
        return bool(self.entries)

    @property
    def applies(self) -> bool:
        """Whether any of its elements is granted on the report's device level."""
        return any(entry.applies for entry in self.entries)

    @property
    def text(self) -> str:
        """Short text: ``yes``, ``sdk-23``, ``max API 28``, ``implied``, joined by ``; ``.

        ``(inactive)`` marks an element Android does not grant on the device level.
        """
        if not self.entries:
            return NOT_REACHED
        return "; ".join(_entry_text(entry) for entry in self.entries)


def _entry_text(entry: PermissionEntry) -> str:
    parts = []
    if entry.element == USES_PERMISSION_SDK_23:
        parts.append("sdk-23")
    elif entry.element == IMPLIED:
        parts.append("implied")
    if entry.max_sdk is not None:
        parts.append(f"max API {entry.max_sdk}")
    if not parts:
        parts.append("yes")
    if not entry.applies:
        parts.append("(inactive)")
    return " ".join(parts)


@record
class PermissionRow:
    """One permission requested by at least one app, grouped under one capability."""

    name: str
    #: Capability id the row is grouped under (the first in capability order), or ``other``.
    group: str
    group_title: str
    #: Every capability the permission maps to in any of the reports, in capability order.
    capabilities: tuple[str, ...]
    #: Protection class on the device level; distinct classes joined by ``/`` if apps disagree.
    protection_class: str
    protection: tuple[str, ...]
    cells: tuple[PermissionCell, ...]


@record
class PermissionCounts:
    """How many permission elements an app has, by kind, and how many apply on the device."""

    uses_permission: int
    uses_permission_sdk_23: int
    implied: int
    applies: int

    @property
    def requested(self) -> int:
        """Elements in the manifest: ``uses-permission`` plus ``uses-permission-sdk-23``."""
        return self.uses_permission + self.uses_permission_sdk_23

    @property
    def total(self) -> int:
        """Requested plus implied."""
        return self.requested + self.implied


@record
class Exclusives:
    """What only one app has among the compared ones: capabilities, then requested permissions."""

    capabilities: tuple[str, ...]
    permissions: tuple[str, ...]


@record
class Comparison:
    """Several apps side by side on one device level; every tuple is in column order."""

    tool_version: str
    ruleset: RulesetInfo | None
    device_sdk: int
    reports: tuple[Report, ...]
    apps: tuple[AppColumn, ...]
    capability_rows: tuple[CapabilityRow, ...]
    permission_rows: tuple[PermissionRow, ...]
    exclusives: tuple[Exclusives, ...]
    counts: tuple[PermissionCounts, ...]
    #: Per app, the top summary in sentences, generated from its report.
    summaries: tuple[tuple[str, ...], ...] = ()


def compare(
    reports: Sequence[Report],
    *,
    ruleset: RulesetInfo | None = None,
    tool_version: str = __version__,
) -> Comparison:
    """Put ``reports`` side by side; they must describe one device level.

    Raises ``PermauditError`` for fewer than two reports or mixed device levels.
    """
    reports = tuple(reports)
    if len(reports) < 2:
        raise PermauditError(f"compare needs at least two apps, got {len(reports)}")
    return overview(reports, ruleset=ruleset, tool_version=tool_version)


def overview(
    reports: Sequence[Report],
    *,
    ruleset: RulesetInfo | None = None,
    tool_version: str = __version__,
) -> Comparison:
    """The comparison of one app or more (``scan``'s page is that of one app).

    Raises ``PermauditError`` for no report or mixed device levels.
    """
    reports = tuple(reports)
    if not reports:
        raise PermauditError("nothing to show: no app was read")
    levels = sorted({r.device_sdk for r in reports})
    if len(levels) > 1:
        raise PermauditError(f"cannot compare reports made for different device levels {levels}")
    titles = _capability_titles(reports)
    apps = app_columns(reports)
    return Comparison(
        tool_version=tool_version,
        ruleset=ruleset,
        device_sdk=levels[0],
        reports=reports,
        apps=apps,
        summaries=tuple(
            summary_sentences(report, app) for report, app in zip(reports, apps, strict=True)
        ),
        capability_rows=_capability_rows(reports, titles),
        permission_rows=_permission_rows(reports, titles),
        exclusives=_exclusives(reports),
        counts=tuple(permission_counts(r) for r in reports),
    )


def signer_summary(app: App) -> str:
    """``v2+v3 1dbb8be012293e98`` (schemes, first 16 hex digits of each signer's SHA-256),
    ``unsigned``, or ``-`` for inputs without signatures; flags debug keys and ambiguity."""
    signing = app.signing
    if signing is None:
        return "-"
    if not signing.signers:
        return "unsigned"
    digests = dict.fromkeys(
        s.certificates[0].sha256[:16] for s in signing.signers if s.certificates
    )
    text = "+".join(signing.schemes) + " " + ", ".join(digests)
    if any(c.debug for s in signing.signers for c in s.certificates[:1]):
        text += " (debug key)"
    if signing.problems:
        text += " (AMBIGUOUS)"
    return text


def app_columns(reports: Sequence[Report]) -> tuple[AppColumn, ...]:
    """Columns labelled by package; by package and version where a package repeats."""
    packages = [r.app.manifest.package for r in reports]
    labels = []
    for report in reports:
        manifest = report.app.manifest
        label = manifest.package
        if packages.count(label) > 1:
            label = f"{label} {manifest.version_name or manifest.version_code or '?'}"
        labels.append(label)
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        if labels.count(label) > 1:
            seen[label] = seen.get(label, 0) + 1
            label = f"{label} #{seen[label]}"
        unique.append(label)
    return tuple(
        AppColumn(
            label=label,
            package=r.app.manifest.package,
            version_name=r.app.manifest.version_name,
            version_code=r.app.manifest.version_code,
            path=r.app.input.path,
            signer=signer_summary(r.app),
        )
        for label, r in zip(unique, reports, strict=True)
    )


def _capability_titles(reports: Iterable[Report]) -> dict[str, str]:
    titles: dict[str, set[str]] = {}
    for report in reports:
        for hit in report.capabilities:
            titles.setdefault(hit.id, set()).add(hit.title)
    # One ruleset gives one title per id; min() keeps the choice independent of input order.
    return {cap: min(names) for cap, names in titles.items()}


def capability_title(capability_id: str, titles: dict[str, str]) -> str:
    """The ruleset's title when a report names it, else the id made readable."""
    return titles.get(capability_id) or capability_id.replace("_", " ").capitalize()


def level_text(hit: CapabilityHit) -> str:
    """The ruleset's access labels joined by `` + ``, or ``yes`` when it gives none."""
    return " + ".join(hit.access) if hit.access else REACHED


def _capability_rows(
    reports: Sequence[Report], titles: dict[str, str]
) -> tuple[CapabilityRow, ...]:
    by_app = [{hit.id: hit for hit in r.capabilities} for r in reports]
    rows = []
    for cap in sorted(titles, key=capability_sort_key):
        cells = tuple(
            capability_cell(report, hits.get(cap))
            for report, hits in zip(reports, by_app, strict=True)
        )
        severity = max(c.severity for c in cells if c.severity is not None)
        rationales = sorted({h[cap].rationale for h in by_app if cap in h and h[cap].rationale})
        asks = {ask.subject: ask for cell in cells for ask in cell.asks}
        rows.append(
            CapabilityRow(
                id=cap, title=titles[cap], severity=severity, cells=cells,
                rationale=rationales[0] if rationales else "",
                asks=tuple(asks[k] for k in sorted(asks, key=lambda v: (":" in v, v))),
            )
        )
    return tuple(rows)


def capability_cell(report: Report, hit: CapabilityHit | None) -> CapabilityCell:
    """One app's cell of a capability row (``hit`` is ``None`` when it does not reach it)."""
    if hit is None:
        return CapabilityCell(level=NOT_REACHED)
    asks = tuple(grant_asks(report, via, hit.id) for via in hit.via)
    return CapabilityCell(
        level=level_text(hit),
        access=hit.access,
        severity=hit.severity,
        via=hit.via,
        notes=hit.notes,
        reach=reach_of(report, hit, asks),
        asks=asks,
    )


def _permission_rows(
    reports: Sequence[Report], titles: dict[str, str]
) -> tuple[PermissionRow, ...]:
    by_app: list[dict[str, list[PermissionAccess]]] = []
    for report in reports:
        rows: dict[str, list[PermissionAccess]] = {}
        for access in report.permissions:
            rows.setdefault(access.name, []).append(access)
        by_app.append(rows)
    names = sorted({name for rows in by_app for name in rows})
    result = []
    for name in names:
        accesses = [a for rows in by_app for a in rows.get(name, ())]
        capabilities = tuple(
            sorted({c for a in accesses for c in a.capabilities}, key=capability_sort_key)
        )
        group = capabilities[0] if capabilities else OTHER_GROUP
        protections = sorted({a.protection for a in accesses})
        result.append(
            PermissionRow(
                name=name,
                group=group,
                group_title=OTHER_TITLE
                if group == OTHER_GROUP
                else capability_title(group, titles),
                capabilities=capabilities,
                protection_class="/".join(sorted({a.protection_class for a in accesses})),
                protection=protections[-1],
                cells=tuple(_permission_cell(rows.get(name, ())) for rows in by_app),
            )
        )
    order = {cap: capability_sort_key(cap) for cap in {row.group for row in result}}
    order[OTHER_GROUP] = (len(CAPABILITY_ORDER) + 1, "")
    return tuple(sorted(result, key=lambda row: (order[row.group], row.name)))


_ELEMENT_ORDER = {USES_PERMISSION: 0, USES_PERMISSION_SDK_23: 1, IMPLIED: 2}


def _permission_cell(accesses: Iterable[PermissionAccess]) -> PermissionCell:
    entries = {
        PermissionEntry(element=a.element, max_sdk=a.max_sdk, reason=a.reason, applies=a.applies)
        for a in accesses
    }
    return PermissionCell(
        entries=tuple(
            sorted(
                entries,
                key=lambda e: (
                    _ELEMENT_ORDER.get(e.element, 3),
                    e.element,
                    -1 if e.max_sdk is None else e.max_sdk,
                    e.reason or "",
                    e.applies,
                ),
            )
        )
    )


def requested_permissions(report: Report) -> frozenset[str]:
    """Names the manifest itself asks for (``uses-permission`` or ``-sdk-23``), not implied."""
    return frozenset(p.name for p in report.permissions if p.element != IMPLIED)


def _exclusives(reports: Sequence[Report]) -> tuple[Exclusives, ...]:
    capabilities = [frozenset(hit.id for hit in r.capabilities) for r in reports]
    permissions = [requested_permissions(r) for r in reports]
    result = []
    for index in range(len(reports)):
        other_caps = frozenset().union(*(c for i, c in enumerate(capabilities) if i != index))
        other_perms = frozenset().union(*(p for i, p in enumerate(permissions) if i != index))
        result.append(
            Exclusives(
                capabilities=tuple(
                    sorted(capabilities[index] - other_caps, key=capability_sort_key)
                ),
                permissions=tuple(sorted(permissions[index] - other_perms)),
            )
        )
    return tuple(result)


def permission_counts(report: Report) -> PermissionCounts:
    """Count the report's permission elements by kind, and those that apply on its device."""
    elements = [p.element for p in report.permissions]
    return PermissionCounts(
        uses_permission=elements.count(USES_PERMISSION),
        uses_permission_sdk_23=elements.count(USES_PERMISSION_SDK_23),
        implied=elements.count(IMPLIED),
        applies=sum(1 for p in report.permissions if p.applies),
    )


def _and(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _counted(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


#: How many server owners a summary names before "and N more".
SUMMARY_OWNERS = 6


def summary_sentences(report: Report, app: AppColumn) -> tuple[str, ...]:
    """What ``report`` says about the app, in a few sentences a journalist can quote.

    Generated only from the report: its capabilities by reach level, its code evidence
    (tracker SDKs, owners of the servers its strings name), its other findings, its
    signature and its score. Names from the app are left as they are (formatters escape).
    """
    by_level: dict[str, list[str]] = {level.key: [] for level in REACH_LEVELS}
    background: list[str] = []
    ids = {hit.title: hit.id for hit in report.capabilities}
    for hit in sorted(report.capabilities, key=lambda h: capability_sort_key(h.id)):
        cell = capability_cell(report, hit)
        by_level[cell.reach].append(hit.title)
        # A capability that is itself a background permission is not "also" background.
        if cell.reach == "background" and not set(hit.via) <= BACKGROUND_PERMISSIONS:
            background.append(hit.title)
    asked = [*by_level["background"], *by_level["asks"]]
    asked.sort(key=lambda t: capability_sort_key(ids[t]))
    sentences = []
    if asked:
        sentences.append(f"{app.label} asks you for {_and(asked)}.")
    if background:
        sentences.append(f"Once allowed, it can use {_and(background)} also in the background.")
    if by_level["special"]:
        sentences.append(
            "It needs special access that you switch on in Settings for "
            f"{_and(by_level['special'])}."
        )
    if by_level["install"]:
        lead = "Android grants it"
        if not asked and not by_level["special"]:
            lead = f"Android grants {app.label}"
        sentences.append(f"{lead} without asking: {_and(by_level['install'])}.")
    if not report.capabilities:
        sentences.append(f"{app.label} reaches none of the capabilities the ruleset knows.")
    sentences.extend(_code_sentences(report))
    others = [f for f in report.findings if not f.rule.startswith("capability.")]
    if others:
        counts = [
            f"{sum(1 for f in others if f.severity == s)} {s.label}"
            for s in sorted(Severity, reverse=True)
            if any(f.severity == s for f in others)
        ]
        sentences.append(
            f"{_counted(len(others), 'other finding', 'other findings')} "
            f"(hardening, exported components, signing): {', '.join(counts)}."
        )
    sentences.append(_signer_sentence(report.app))
    sentences.append(f"Risk score {report.risk.score}/100 ({report.risk.level}).")
    return tuple(sentences)


def _code_sentences(report: Report) -> list[str]:
    evidence = report.code_evidence
    if evidence is None:
        return ["Its code was not searched for tracker SDKs or servers."]
    sentences = []
    if evidence.trackers:
        names = [t.name for t in evidence.trackers]
        sentences.append(
            f"Its code contains {_counted(len(names), 'known tracker SDK', 'known tracker SDKs')}:"
            f" {_and(names)}."
        )
    else:
        sentences.append("Its code contains no known tracker SDK.")
    owners: dict[str, str] = {}
    for host in evidence.hosts:
        if host.owner:
            country = f" ({host.country})" if host.country else ""
            owners.setdefault(host.owner, host.owner + country)
    if owners:
        named = [owners[k] for k in sorted(owners)]
        shown = named[:SUMMARY_OWNERS]
        if len(named) > len(shown):
            shown.append(f"{len(named) - len(shown)} more")
        sentences.append(f"Its code names servers of {_and(shown)}.")
    elif evidence.hosts:
        sentences.append(
            f"Its code names {_counted(len(evidence.hosts), 'domain', 'domains')}, none of a "
            "known owner."
        )
    return sentences


def _signer_sentence(app: App) -> str:
    signing = app.signing
    if signing is None:
        return "The input carries no signature (not an installable file)."
    if not signing.signers:
        return "It is unsigned: Android refuses to install it."
    subjects = dict.fromkeys(
        s.certificates[0].subject for s in signing.signers if s.certificates
    )
    text = f"Signed by {_and(list(subjects))}" if subjects else "Signed"
    if any(c.debug for s in signing.signers for c in s.certificates[:1]):
        text += " (a debug key)"
    if signing.problems:
        text += "; the signature is ambiguous"
    return text + "."
