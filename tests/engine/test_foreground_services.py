"""Foreground services reach a capability only when Android would let them start.

AOSP ``core/java/android/app/ForegroundServiceTypePolicy.java``: for apps targeting API 34+
(``FGS_TYPE_PERMISSION_CHANGE_ID``, ``@EnabledAfter(TIRAMISU)``) on Android 14+,
``startForeground()`` with a type throws ``SecurityException`` unless the app holds every
``allOfPermissions`` entry (the type's ``FOREGROUND_SERVICE_*``) and one
``anyOfPermissions`` entry (e.g. ``ACCESS_COARSE_LOCATION``/``ACCESS_FINE_LOCATION`` for
``location``). Max 25.8.1 declares WorkManager's ``SystemForegroundService`` with type
``location`` but does not request ``FOREGROUND_SERVICE_LOCATION``.
"""

from __future__ import annotations

import pytest

from permaudit.android.foreground_services import TYPES_FILE, read_table, service_type_table
from permaudit.model import Report
from permaudit.rules.model import RuleSet
from permaudit.rules.ruleset import load_ruleset
from tests.engine.test_engine import component, hit, perm, run


@pytest.fixture(scope="module")
def ruleset() -> RuleSet:
    return load_ruleset()


LOCATION_SERVICE = component(
    "service", "Tracker", exported=False, foreground_service_types=("location",)
)


def location_access(report: Report) -> tuple[str, ...]:
    return hit(report, "location").access


def test_without_the_type_permission_the_service_reaches_nothing(ruleset: RuleSet) -> None:
    report = run(ruleset, uses_permissions=(perm("ACCESS_FINE_LOCATION"),),
                 components=(LOCATION_SERVICE,))
    location = hit(report, "location")
    assert "foreground service" not in location.access
    assert not any(v.startswith("service:") for v in location.via)
    (note,) = location.notes
    assert "Tracker cannot run as a location foreground service" in note
    assert "FOREGROUND_SERVICE_LOCATION not requested" in note


def test_with_the_type_permission_it_does(ruleset: RuleSet) -> None:
    report = run(ruleset, uses_permissions=(perm("ACCESS_FINE_LOCATION"),
                                            perm("FOREGROUND_SERVICE_LOCATION")),
                 components=(LOCATION_SERVICE,))
    assert "foreground service" in location_access(report)
    assert hit(report, "location").notes == ()


@pytest.mark.parametrize(("target_sdk", "device_sdk"), [(33, 35), (35, 33)])
def test_not_enforced_before_api_34_or_for_older_targets(
    ruleset: RuleSet, target_sdk: int, device_sdk: int
) -> None:
    report = run(ruleset, device_sdk=device_sdk, target_sdk=target_sdk,
                 uses_permissions=(perm("ACCESS_FINE_LOCATION"),),
                 components=(LOCATION_SERVICE,))
    assert "foreground service" in location_access(report)


def test_a_prerequisite_permission_is_needed_too(ruleset: RuleSet) -> None:
    # microphone: FOREGROUND_SERVICE_MICROPHONE and one of RECORD_AUDIO, CAPTURE_*;
    # here the app has the type permission and CAMERA only: the camera service starts, the
    # microphone type of the same service does not, and microphone needs RECORD_AUDIO anyway.
    both = component("service", "Call", exported=False,
                     foreground_service_types=("camera", "microphone"))
    report = run(ruleset, uses_permissions=(perm("CAMERA"), perm("FOREGROUND_SERVICE_CAMERA"),
                                            perm("FOREGROUND_SERVICE_MICROPHONE")),
                 components=(both,))
    assert hit(report, "camera").access == ("photo and video", "in the background")
    assert "microphone" not in {h.id for h in report.capabilities}


def test_the_table_names_every_type_permission_of_the_platform() -> None:
    table = read_table(TYPES_FILE)
    assert service_type_table() == table  # the compiled copy says the same
    for policy in table.types:
        assert len(policy.all_of) == 1
        assert policy.all_of[0].startswith("android.permission.FOREGROUND_SERVICE_")
    assert table.missing("location", {"android.permission.FOREGROUND_SERVICE_LOCATION"},
                         target_sdk=35, device_sdk=35) == (
        "none of ACCESS_COARSE_LOCATION, ACCESS_FINE_LOCATION requested",
    )
    # mediaProjection's prerequisite is the user's consent at run time: not refused.
    assert table.missing("mediaProjection",
                         {"android.permission.FOREGROUND_SERVICE_MEDIA_PROJECTION"},
                         target_sdk=35, device_sdk=35) == ()
    assert table.missing("unknownType", set(), target_sdk=35, device_sdk=35) == ()
