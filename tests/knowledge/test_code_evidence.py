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
