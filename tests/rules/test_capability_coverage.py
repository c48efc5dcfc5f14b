"""Nothing a privacy reader cares about lands in "other permissions".

Every permission the newest platform marks ``dangerous`` (a runtime prompt) and every
ordinary ``appop`` permission (a settings switch) belongs to a capability of the default
ruleset, except the few listed here with the reason.
"""

from __future__ import annotations

from permaudit.android.catalog import NEWEST_API_LEVEL
from permaudit.android.platform import platform_for
from permaudit.rules.ruleset import load_ruleset

#: Sensitive by protection level but not a capability, and why.
NOT_CAPABILITIES = {
    # Only honoured on userdebug builds (protection "internal|appop").
    "android.permission.CAPTURE_CONSENTLESS_BUGREPORT_ON_USERDEBUG_BUILD": "internal",
    # The foreground-service type for anything else: no data access of its own.
    "android.permission.FOREGROUND_SERVICE_SPECIAL_USE": "service type only",
}


def test_every_sensitive_platform_permission_has_a_capability() -> None:
    catalog = platform_for(NEWEST_API_LEVEL).catalog
    covered = {e.name for c in load_ruleset().capabilities for e in c.permissions}
    sensitive = set()
    for name in catalog.names():
        info = catalog.get(name)
        assert info is not None
        protection = set(info.protection)
        if "dangerous" in protection or ("appop" in protection and "signature" not in protection):
            sensitive.add(name)
    assert sensitive, "the catalog lists no sensitive permission: the test would be vacuous"
    assert sorted(sensitive - covered - set(NOT_CAPABILITIES)) == []


def test_issue_14_permissions_are_capabilities() -> None:
    by_permission = {
        e.name: c.id for c in load_ruleset().capabilities for e in c.permissions
    }
    assert by_permission["android.permission.FOREGROUND_SERVICE_MEDIA_PROJECTION"] == (
        "screen_capture"
    )
    assert by_permission["android.permission.USE_FULL_SCREEN_INTENT"] == "full_screen_alerts"
    assert by_permission["android.permission.READ_MEDIA_VISUAL_USER_SELECTED"] == "files"
    assert by_permission["android.permission.ACCESS_LOCAL_NETWORK"] == "nearby_devices"
    assert by_permission["android.permission.health.READ_HEART_RATE"] == "health"
