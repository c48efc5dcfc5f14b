"""Sensitive API references -> capabilities, and the engine carrying the evidence."""

from __future__ import annotations

from permaudit.knowledge.code_evidence import api_evidence, code_evidence, load_api_rules
from permaudit.model.code import CodeScan, MethodRef


def _m(cls: str, name: str) -> MethodRef:
    return MethodRef(class_descriptor="L" + cls.replace(".", "/") + ";", name=name)


def test_apis_map_to_capabilities() -> None:
    code = CodeScan(
        referenced_classes=("android.media.projection.MediaProjectionManager",),
        external_methods=(
            _m("android.media.AudioRecord", "startRecording"),
            _m("android.hardware.camera2.CameraManager", "openCamera"),
            _m("android.location.LocationManager", "getLastKnownLocation"),
            _m("android.location.LocationManager", "getProvider"),  # not sensitive
            _m("android.content.ClipboardManager", "getPrimaryClip"),
            _m("android.telephony.TelephonyManager", "getLine1Number"),
        ),
        strings=("content://com.android.contacts/data", "content://sms/inbox", "hello"),
    )
    found = {e.capability: e.references for e in api_evidence(code)}
    assert found == {
        "camera": ("android.hardware.camera2.CameraManager.openCamera",),
        "clipboard": ("android.content.ClipboardManager.getPrimaryClip",),
        "contacts": ("content://com.android.contacts/data",),
        "location": ("android.location.LocationManager.getLastKnownLocation",),
        "microphone": ("android.media.AudioRecord.startRecording",),
        "phone": ("android.telephony.TelephonyManager.getLine1Number",),
        "screen_capture": ("android.media.projection.MediaProjectionManager",),
        "sms": ("content://sms/inbox",),
    }


def test_no_code_no_evidence() -> None:
    evidence = code_evidence(CodeScan())
    assert evidence.trackers == () and evidence.hosts == () and evidence.apis == ()


def test_every_api_entry_has_an_sdk_source() -> None:
    for rule in load_api_rules():
        assert rule.source.startswith("https://developer.android.com/"), rule.capability
        assert rule.classes or rule.methods or rule.uris


def test_engine_carries_code_evidence_only_when_code_was_read() -> None:
    from permaudit.android.platform import platform_for
    from permaudit.engine import evaluate
    from permaudit.model import App, Application, InputInfo, Manifest
    from permaudit.rules.ruleset import load_ruleset

    manifest = Manifest(package="ru.oneme.app", min_sdk=21, target_sdk=35,
                        application=Application(data_extraction_rules=True))
    info = InputInfo(path="app.apk", sha256="0" * 64, kind="apk", size=1)
    ruleset, platform = load_ruleset(), platform_for(35)
    without = evaluate(App(input=info, manifest=manifest), ruleset, platform)
    assert without.code_evidence is None
    code = CodeScan(defined_classes=("com.my.tracker.MyTracker",),
                    strings=("https://tracker-api.vk-analytics.ru/v3",))
    with_code = evaluate(App(input=info, manifest=manifest, code=code), ruleset, platform)
    assert with_code.code_evidence is not None
    assert [t.name for t in with_code.code_evidence.trackers] == ["myTracker"]
    assert [(h.domain, h.owner, h.country) for h in with_code.code_evidence.hosts] == [
        ("vk-analytics.ru", "VK", "RU")]
    # The code rules (rules/code.yml) add the tracker's finding, named by the tracker.
    added = {(f.rule, f.subject) for f in with_code.findings} - {
        (f.rule, f.subject) for f in without.findings}
    assert added == {("tracker.analytics", "tracker:myTracker")}


def test_scan_json_has_a_code_object_only_with_code() -> None:
    from permaudit.android.platform import platform_for
    from permaudit.engine import evaluate
    from permaudit.formatters.json.report import report_json
    from permaudit.model import App, InputInfo, Manifest
    from permaudit.rules.ruleset import load_ruleset

    manifest = Manifest(package="p.q", min_sdk=21, target_sdk=35)
    info = InputInfo(path="app.apk", sha256="0" * 64, kind="apk", size=1)
    ruleset, platform = load_ruleset(), platform_for(35)
    plain = evaluate(App(input=info, manifest=manifest), ruleset, platform)
    assert "code" not in report_json(plain)
    code = CodeScan(defined_classes=("ru.ok.tracer.TracerInitializer",),
                    strings=("https://sdk-api.apptracer.ru/api",))
    data = report_json(evaluate(App(input=info, manifest=manifest, code=code), ruleset, platform))
    assert data["code"]["trackers"][0]["name"] == "OK Tracer"
    assert data["code"]["trackers"][0]["hosts"] == ["sdk-api.apptracer.ru"]
    assert data["code"]["servers"][0]["country"] == "RU"


def test_compiled_knowledge_tables_equal_their_sources() -> None:
    """A scan reads the precompiled copies (no PyYAML import); they hold what the sources say."""
    from permaudit.knowledge import code_evidence, domains, trackers

    assert trackers.load_trackers() == trackers.read_table().trackers
    assert code_evidence.load_api_rules() == code_evidence.read_table().rules
    rows = domains.read_owner_rows()
    assert domains.shipped_owners().domains == {r.domain: r.owner for r in rows.domains}
    assert domains.shipped_owners().noise_hosts == rows.noise_hosts
