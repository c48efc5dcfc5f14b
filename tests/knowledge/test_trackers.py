"""Tracker matching: prefix semantics, supplement entries, bounded work on hostile inputs."""

from __future__ import annotations

import json
import time

from permaudit.knowledge import trackers
from permaudit.knowledge.trackers import Tracker, count_signature, match_trackers, safe_host_pattern
from permaudit.model.code import CodeScan


def _by_name(code: CodeScan) -> dict[str, object]:
    hits, _ = match_trackers(code)
    return {hit.name: hit for hit in hits}


def test_shipped_exodus_copy_is_the_whole_snapshot_with_its_notice() -> None:
    document = json.loads(trackers.EXODUS_FILE.read_text(encoding="utf-8"))
    assert len(document["trackers"]) == 432
    assert "ODbL" in document["licence"]
    notice = (trackers.DATA / "EXODUS-NOTICE.md").read_text(encoding="utf-8")
    assert "exodus-privacy.eu.org" in notice and "ODbL" in notice


def test_prefix_matching_counts_defined_classes_and_not_lookalikes() -> None:
    code = CodeScan(defined_classes=(
        "com.my.tracker.MyTracker", "com.my.tracker.a.B", "xcom.my.tracker.Fake",
        "com.my.trackerx.Other",
    ))
    hit = _by_name(code)["myTracker"]
    assert hit.class_count == 2  # type: ignore[attr-defined]
    assert hit.strength == "defined"  # type: ignore[attr-defined]
    assert hit.categories == ("Analytics",)  # type: ignore[attr-defined]


def test_referenced_only_is_weaker_evidence() -> None:
    code = CodeScan(referenced_classes=("com.my.tracker.MyTracker",))
    hit = _by_name(code)["myTracker"]
    assert hit.strength == "referenced"  # type: ignore[attr-defined]


def test_supplement_adds_vk_analytics_host_tracer_and_appmetrica_package() -> None:
    code = CodeScan(defined_classes=(
        "com.my.tracker.MyTracker", "io.appmetrica.analytics.AppMetrica",
        "ru.ok.tracer.TracerInitializer", "ru.ok.android.externcalls.analytics.CallAnalyticsSender",
        "com.facebook.xanalytics.XAnalyticsHolder",
    ))
    hits, _ = match_trackers(code, ("tracker-api.vk-analytics.ru", "sdk-api.apptracer.ru"))
    named = {hit.name: hit for hit in hits}
    assert named["myTracker"].hosts == ("tracker-api.vk-analytics.ru",)
    assert named["myTracker"].source == "exodus+permaudit-supplement"
    assert named["AppMetrica"].packages == ("io.appmetrica.analytics.",)
    assert named["OK Tracer"].hosts == ("sdk-api.apptracer.ru",)
    assert named["OK Tracer"].source == "permaudit-supplement"
    assert {"OK Calls SDK analytics", "Meta XAnalytics"} <= set(named)


def test_every_supplement_entry_has_a_source_url() -> None:
    import yaml

    entries = yaml.safe_load(trackers.SUPPLEMENT_FILE.read_text(encoding="utf-8"))["trackers"]
    assert entries
    for entry in entries:
        assert entry["sources"] and all(s.startswith("https://") for s in entry["sources"])


def test_leading_dot_signature_is_a_segment_anywhere() -> None:
    names = sorted(["com.sizmek.Foo", "a.b.sizmek.C", "com.sizmekx.D"])
    assert count_signature(names, ".sizmek.") == 2


def test_no_signature_is_run_as_a_regex_and_hostile_ones_are_skipped() -> None:
    hostile = Tracker(
        id="x", name="Hostile", categories=(), code_signatures=("(a+)+$", "a" * 10, "com.x."),
        network_signatures=("(a+)+$", "a" * 500), source="test",
    )
    code = CodeScan(defined_classes=("a" * 5000 + "!", "com.x.Y"))
    start = time.perf_counter()
    hits, notes = match_trackers(code, ("a" * 5000 + "!",), [hostile])
    assert time.perf_counter() - start < 0.5
    assert [hit.packages for hit in hits] == [("aaaaaaaaaa", "com.x.")]  # plain prefixes
    assert any("(a+)+$" in note for note in notes)
    assert safe_host_pattern("(a+)+$") is None and safe_host_pattern("a" * 500) is None
    assert safe_host_pattern(r"\.facebook\.com") is not None


def test_sixty_thousand_classes_match_in_well_under_a_second() -> None:
    names = tuple(sorted(f"p{i % 97}.q{i}.C{i}" for i in range(60_000)))
    start = time.perf_counter()
    match_trackers(CodeScan(defined_classes=names))
    assert time.perf_counter() - start < 1.0
