"""Code evidence from a hostile APK stays inert in every scan, compare and diff format.

Native library names come straight from zip entry names and URI references from the DEX
string pool (up to 4 KiB each); a tracker or owner name could come from a tampered data
file. Each carries HTML, Markdown and terminal control characters here.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from permaudit.formatters import COMPARE_FORMATS, DIFF_FORMATS, SCAN_FORMATS, renderer
from permaudit.model import Report, RulesetInfo, ScanResult
from permaudit.model.code import ApiEvidence, NativeLibrary
from permaudit.views.compare import compare
from permaudit.views.diff import diff
from tests.views.test_code_changes import host, tracker, with_code
from tests.views.test_compare import hit, perm, report

EVIL = '<script>alert(1)</script>[x](http://e)|`*_\x1b[31m\u202e'
#: What must never reach a text-like output as is (``<`` is inert on a terminal).
RAW = ("\x1b[31m", "\u202e")


def hostile(version: str, *, evil: bool = True) -> Report:
    base = report("com.example", version=version, permissions=[perm("CAMERA", "camera")],
                  capabilities=[hit("camera", "CAMERA")])
    if not evil:
        return with_code(base)
    return with_code(
        base,
        trackers=(tracker("9", f"Trk{EVIL}", "Advertisement"),),
        hosts=(host("evil.example", f"Owner{EVIL}", "RU"),),
        apis=(ApiEvidence(capability="sms", references=(f"content://sms/{EVIL}" + "y" * 400,)),
              ApiEvidence(capability="camera", references=(f"android.hardware.Camera{EVIL}",))),
        libs=(NativeLibrary(path=f"lib/arm64-v8a/lib{EVIL}.so", abi="arm64-v8a", size=5),),
    )


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def _check(fmt: str, text: str) -> None:
    if fmt in ("json", "jsonl"):
        for line in text.splitlines():
            json.loads(line) if fmt == "jsonl" else None
        if fmt == "json":
            json.loads(text)
        # json.dumps escapes control characters (\u001b); format characters stay data.
        assert "\x1b" not in text
        return
    for raw in RAW:
        assert raw not in text, (fmt, raw)
    if fmt == "html":
        page = _Text()
        page.feed(text)
        assert "script" not in page.tags
        assert "http://e" not in text.replace("](http://e)", "")  # only as escaped text
    if fmt in ("html", "markdown"):
        assert "<script>" not in text
    if fmt == "markdown":
        assert not re.search(r"(?<!\\)\]\(http", text)  # no link forms: brackets escaped
    assert max(len(line) for line in text.splitlines()) < 2000 or fmt != "table"


@pytest.mark.parametrize("fmt", sorted(SCAN_FORMATS))
def test_scan_formats(fmt: str) -> None:
    new = hostile("2.0")
    result = ScanResult(reports=(new,), ruleset=RulesetInfo(id="r", sha256="0" * 64),
                        tool_version="0", device_sdk=35)
    text = renderer(SCAN_FORMATS, fmt)(result, color=False)
    _check(fmt, text)
    if fmt not in ("json", "jsonl"):
        assert "…" in text  # the 400-character URI is cut


@pytest.mark.parametrize("fmt", sorted(COMPARE_FORMATS))
def test_compare_formats(fmt: str) -> None:
    result = compare([hostile("1.0", evil=False), hostile("2.0")])
    _check(fmt, renderer(COMPARE_FORMATS, fmt)(result, color=False))


@pytest.mark.parametrize("fmt", sorted(DIFF_FORMATS))
def test_diff_formats(fmt: str) -> None:
    result = diff(hostile("1.0", evil=False), hostile("2.0"))
    kinds = {c.kind for c in result.changes}
    assert {"tracker_added", "server_owner_added", "native_library_added",
            "unrequested_code_use"} <= kinds
    _check(fmt, renderer(DIFF_FORMATS, fmt)(result, color=False))

