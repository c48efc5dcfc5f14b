"""The order capabilities are shown in: what people ask about first, then the rest by id."""

from __future__ import annotations

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


def capability_sort_key(capability_id: str) -> tuple[int, str]:
    """Sort key placing known capabilities in ``CAPABILITY_ORDER`` and the rest after, by id."""
    try:
        return (CAPABILITY_ORDER.index(capability_id), "")
    except ValueError:
        return (len(CAPABILITY_ORDER), capability_id)
