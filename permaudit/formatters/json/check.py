"""The JSON document of ``permaudit check``: the scan contract plus the gate's verdict.

It is the ``permaudit scan --format json`` document (same ``schema_version``, same app
entries) with two added keys, so a consumer of the scan contract reads it unchanged:
``check`` at the top (passed, fail_on, policy, baseline, against, summary) and ``check``
in each app (passed, what it was compared with, and every judged item with its status
and reason). Deterministic: keys sorted, items in report order, no timestamps.
"""

from __future__ import annotations

import json
from typing import Any

from permaudit.ci.gate import CheckResult, Item, Verdict
from permaudit.formatters.json.report import scan_document
from permaudit.formatters.summary import summary_line


def item_json(item: Item) -> dict[str, Any]:
    """One judged item: a finding, a change since the old build, a denial or the score."""
    return {
        "kind": item.kind,
        "rule": item.rule,
        "subject": item.subject,
        "severity": item.severity.label,
        "rule_severity": item.rule_severity.label if item.rule_severity is not None else None,
        "title": item.title,
        "message": item.message,
        "status": item.status,
        "reason": item.reason,
        "justification": item.justification,
        "fingerprint": item.fingerprint,
    }


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """One app's verdict."""
    return {
        "passed": verdict.passed,
        "compared_to": verdict.compared_to,
        "items": [item_json(i) for i in verdict.items],
    }


def check_document(result: CheckResult) -> dict[str, Any]:
    """The whole document as plain data."""
    document = scan_document(result.scan)
    for app, verdict in zip(document["apps"], result.verdicts, strict=True):
        app["check"] = verdict_json(verdict)
    document["check"] = {
        "passed": result.passed,
        "fail_on": result.fail_on.label,
        "policy": result.policy_source,
        "baseline": result.baseline_source,
        "against": list(result.against),
        "summary": summary_line(result).removeprefix("permaudit: "),
    }
    return document


def render(result: CheckResult, *, color: bool = False) -> str:
    """Render ``result`` as JSON (``color`` is ignored)."""
    del color
    return json.dumps(check_document(result), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
