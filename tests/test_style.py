"""Shared formatter styling: short permission names, colours only when asked."""

from __future__ import annotations

import pytest

from permaudit.formatters.labels import paint, short_permission
from permaudit.model import Severity


@pytest.mark.parametrize(
    ("text", "short"),
    [
        ("android.permission.CAMERA", "CAMERA"),
        ("android.permission-group.LOCATION", "LOCATION"),
        ("('android.permission.CAMERA', 'android.permission.NFC')", "('CAMERA', 'NFC')"),
        ("com.example.android.permission.X", "com.example.android.permission.X"),
        ("com.google.android.c2dm.permission.RECEIVE",) * 2,
    ],
)
def test_short_permission_drops_only_the_platform_prefix(text: str, short: str) -> None:
    assert short_permission(text) == short


def test_paint_colours_only_when_asked() -> None:
    assert paint("high", Severity.HIGH, color=False) == "high"
    assert paint("high", Severity.HIGH, color=True) == "\033[31mhigh\033[0m"
