"""Text styling shared by the formatters: short permission names and severity colours."""

from __future__ import annotations

import re

from permaudit.model import Severity

ANSI = {
    Severity.CRITICAL: "\033[1;31m",
    Severity.HIGH: "\033[31m",
    Severity.MEDIUM: "\033[33m",
    Severity.LOW: "\033[36m",
    Severity.INFO: "\033[2m",
}
BOLD = "\033[1m"
RESET = "\033[0m"
#: Risk levels as the engine names them, mapped to a severity for colouring.
LEVEL_SEVERITY = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
}
#: The platform prefix where a name starts (``com.x.android.permission.Y`` stays whole).
_PLATFORM_PREFIX = re.compile(r"(?<![\w.])android\.permission(?:-group)?\.")


def short_permission(text: str) -> str:
    """Drop ``android.permission.`` from each platform name in ``text``; full names in JSON."""
    return _PLATFORM_PREFIX.sub("", text)


def risk_severity(level: str) -> Severity:
    """The severity a risk level is coloured as (unknown levels: info)."""
    return LEVEL_SEVERITY.get(level.lower(), Severity.INFO)


def paint(text: str, severity: Severity | None, *, color: bool) -> str:
    """``text`` in the severity's ANSI colour when ``color`` is on."""
    if not color or severity is None or not text:
        return text
    return f"{ANSI[severity]}{text}{RESET}"


def bold(text: str, *, color: bool) -> str:
    """``text`` in bold when ``color`` is on."""
    return f"{BOLD}{text}{RESET}" if color else text
