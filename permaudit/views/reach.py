"""How far an app reaches a capability, and what Android asks the user before each grant works.

Pure: derived from a ``Report`` alone (each permission's protection class, which the
engine took from the platform catalog, and the manifest's components).
"""

from __future__ import annotations

from collections.abc import Sequence

from permaudit._infra.records import record
from permaudit.model import CLASS_RUNTIME, CLASS_SPECIAL, COMPONENT_KINDS, CapabilityHit, Report

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


def hit_reach(report: Report, hit: CapabilityHit) -> tuple[str, tuple[Ask, ...]]:
    """The reach level key of ``hit`` and what Android asks for each of its ``via`` entries."""
    asks = tuple(grant_asks(report, via, hit.id) for via in hit.via)
    return reach_of(report, hit, asks), asks
