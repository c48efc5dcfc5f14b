"""A finding's identity (its fingerprint), its order in a report, and short permission names."""

from __future__ import annotations

import hashlib

from permaudit.model import (
    Finding,
)

CAPABILITY_CATEGORY = "capability"
PERMISSION_PREFIX = "android.permission."




def fingerprint(rule: str, package: str, subject: str) -> str:
    """A finding's stable identity: the first 32 hex digits of sha256(rule NUL package NUL subject).

    Never the message, severity or line, so a baseline survives rewording, severity
    overrides and manifest re-ordering.
    """
    data = "\0".join((rule, package, subject)).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:32]


def finding_order(finding: Finding) -> int:
    """Most severe first. Sorts using it are stable: within a severity, findings keep the
    order ``evaluate`` builds them in (capabilities in the ruleset's order, then the other
    rules in file order), so the report reads microphone, camera, contacts... first."""
    return -int(finding.severity)


def short(name: str) -> str:
    """``CAMERA`` for ``android.permission.CAMERA``; other names stay whole."""
    return name.removeprefix(PERMISSION_PREFIX)


