"""views.code: what the manifest asks next to what the code references; trackers, servers."""

from __future__ import annotations

from conftest import FIXTURES
from permaudit._infra.records import replace
from permaudit.model import Report
from permaudit.model.code import ApiEvidence, CodeEvidence, HostHit, TrackerHit
from permaudit.views.code import (
    ASKS_AND_USES,
    ASKS_NO_CODE,
    USES_NO_PERMISSION,
    USES_WITHOUT_ASKING,
    capability_use,
    code_column,
    servers_by_owner,
    short_api,
)
from permaudit.views.compare import compare
from tests.views.test_compare import hit, perm, report


def _with_code(base: Report, evidence: CodeEvidence | None) -> Report:
    return replace(base, code_evidence=evidence)


def _app(*caps: str) -> Report:
    return report(
        "org.example",
        permissions=[perm(f"P_{c.upper()}", c) for c in caps],
        capabilities=[hit(c, f"P_{c.upper()}") for c in caps],
    )


EVIDENCE = CodeEvidence(
    apis=(
        ApiEvidence(capability="clipboard", references=("android.content.ClipboardManager."
                                                        "getPrimaryClip",), needs_permission=False),
        ApiEvidence(capability="microphone", references=("android.media.AudioRecord.<init>",)),
        ApiEvidence(capability="sms", references=("content://sms",)),
    ),
    checked_capabilities=("camera", "clipboard", "microphone", "sms"),
)


def test_each_verdict_and_contradictions_first() -> None:
    rows = capability_use(_with_code(_app("microphone", "camera", "boot"), EVIDENCE))
    assert [(r.capability, r.verdict) for r in rows] == [
        ("sms", USES_WITHOUT_ASKING),
        ("microphone", ASKS_AND_USES),
        ("clipboard", USES_NO_PERMISSION),
        ("camera", ASKS_NO_CODE),
    ]
    # "boot" is reached but no API table entry covers it: no verdict, not "no code seen"
    assert rows[1].references == ("android.media.AudioRecord.<init>",)
    assert rows[1].asks and not rows[0].asks


def test_no_code_read_gives_no_verdicts() -> None:
    assert capability_use(_with_code(_app("microphone"), None)) == ()
    assert code_column(_with_code(_app("microphone"), None)).read is False


def test_servers_grouped_by_owner_most_named_first_unknown_last() -> None:
    evidence = CodeEvidence(hosts=(
        HostHit(domain="a.example", hosts=("a.example",), strings=9),
        HostHit(domain="g.com", hosts=("g.com",), strings=1, owner="Google", country="US"),
        HostHit(domain="vk.com", hosts=("api.vk.com", "vk.com"), strings=2, owner="VK",
                country="RU"),
        HostHit(domain="ok.ru", hosts=("ok.ru",), strings=1, owner="VK", country="RU"),
    ))
    groups = servers_by_owner(evidence)
    assert [g.label for g in groups] == ["VK (Russia)", "Google (United States)", "unknown owner"]
    assert [d.domain for d in groups[0].domains] == ["vk.com", "ok.ru"]
    column = code_column(_with_code(_app(), replace(evidence, checked_capabilities=(
        "camera",))))
    assert column.owners_text == ("VK (Russia)", "Google (United States)",
                                  "1 domain of unknown owner")


def test_tracker_entries_name_the_maker_and_mark_referenced_only() -> None:
    evidence = CodeEvidence(trackers=(
        TrackerHit(tracker_id="175", name="myTracker", categories=("Analytics",),
                   packages=("com.my.tracker.",), class_count=3, strength="defined",
                   source="exodus", owner="VK", country="RU"),
        TrackerHit(tracker_id="1", name="X", categories=(), packages=("x.y.",), class_count=1,
                   strength="referenced", source="exodus"),
    ))
    texts = [t.text for t in code_column(_with_code(_app(), evidence)).trackers]
    assert texts == ["myTracker (VK, RU)", "X (referenced only)"]


def test_short_api_names() -> None:
    assert short_api("android.media.AudioRecord.startRecording") == "AudioRecord.startRecording"
    assert short_api("android.provider.ContactsContract") == "ContactsContract"
    assert short_api("content://sms") == "content://sms"


def test_compare_of_the_messenger_fixtures_has_trackers_and_owner_rows() -> None:
    from permaudit.api import scan_many

    names = ["max-25.8.1", "whatsapp-2.24.24.78", "telegram-11.13.0"]
    result = scan_many([FIXTURES / "apk" / f"{n}.apk" for n in names])
    comparison = compare(result.reports)
    max_, whatsapp, telegram = comparison.code
    assert [t.text for t in max_.trackers] == [
        "myTracker (VK, RU)", "OK Calls SDK analytics (VK, RU)", "OK Tracer (VK, RU)",
    ]
    assert "VK (Russia)" in max_.owners_text
    assert "VK (Russia)" not in whatsapp.owners_text
    assert "Meta Platforms (United States)" in whatsapp.owners_text
    assert telegram.read and telegram.trackers == () and telegram.servers == ()
    microphone = next(r for r in comparison.capability_rows if r.id == "microphone")
    assert [c.code for c in microphone.cells] == [ASKS_AND_USES, ASKS_AND_USES, ASKS_NO_CODE]
