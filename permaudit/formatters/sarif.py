"""SARIF 2.1.0 for ``permaudit check``, ready for GitHub code scanning upload.

One run; ``tool.driver.rules`` holds every rule of the ruleset (plus the policy and change
rules the verdicts use) with its help text. Each judged item is a result: level from the
severity (critical/high -> error, medium -> warning, low/info -> note), the finding
fingerprint as ``partialFingerprints``, the input path as given as the artifact location
(with the line where the input is a text manifest). Accepted and rule-disabled items carry
an external ``suppression`` with the justification; with a baseline or an old build,
``baselineState`` says whether a result is new. Deterministic: no timestamps.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from permaudit.ci.gate import (
    ACCEPTED,
    BASELINED,
    DISABLED,
    UNCHANGED,
    CheckResult,
    Item,
    Verdict,
)
from permaudit.ci.rule_docs import RuleDoc
from permaudit.model import Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "permaudit/v1"

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
#: GitHub's ``security-severity`` scale: >= 9 critical, >= 7 high, >= 4 medium, else low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def artifact_uri(path: str) -> str:
    """The input path as given, as a URI reference (spaces and the like percent-encoded).

    A non-UTF-8 file name (undecodable bytes held as surrogates) is percent-encoded from its
    original bytes (0xff -> ``%FF``): lossless, and the URI stays ASCII.
    """
    return quote(path.replace("\\", "/"), safe="/:@!$&'()*+,;=-._~", errors="surrogateescape")


def rule_json(doc: RuleDoc) -> dict[str, Any]:
    """One ``reportingDescriptor``."""
    help_text = doc.help
    if doc.references:
        help_text += "\n\nReferences:\n" + "\n".join(f"- {r}" for r in doc.references)
    data: dict[str, Any] = {
        "id": doc.id,
        "name": doc.id,
        "shortDescription": {"text": doc.title},
        "fullDescription": {"text": doc.help},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": LEVEL[doc.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[doc.severity],
            "severity": doc.severity.label,
            "tags": ["security", "android", "permissions"],
        },
    }
    if doc.references:
        data["helpUri"] = doc.references[0]
    return data


def result_json(item: Item, verdict: Verdict, rule_index: dict[str, int]) -> dict[str, Any]:
    """One ``result``."""
    report = verdict.report
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(report.app.input.path)},
        },
        "logicalLocations": [
            {
                "name": item.subject,
                "fullyQualifiedName": f"{report.app.manifest.package}/{item.subject}",
            }
        ],
    }
    if item.line is not None:
        location["physicalLocation"]["region"] = {"startLine": item.line}
    text = item.message
    if item.status != "fail":
        text += f" [{item.reason}]"
    data: dict[str, Any] = {
        "ruleId": item.rule,
        "level": LEVEL[item.severity],
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: item.fingerprint},
        "properties": {
            "package": report.app.manifest.package,
            "subject": item.subject,
            "severity": item.severity.label,
            "status": item.status,
            "reason": item.reason,
            "security-severity": SECURITY_SEVERITY[item.severity],
        },
    }
    if item.rule in rule_index:
        data["ruleIndex"] = rule_index[item.rule]
    if verdict.compared_to is not None:
        data["baselineState"] = "unchanged" if item.status in (BASELINED, UNCHANGED) else "new"
    if item.status == ACCEPTED:
        data["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": item.justification or ""}
        ]
    elif item.status == DISABLED:
        data["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": "rule disabled by policy"}
        ]
    return data


def sarif_document(result: CheckResult) -> dict[str, Any]:
    """The SARIF log as plain data."""
    rule_index = {doc.id: index for index, doc in enumerate(result.rules)}
    results = [
        result_json(item, verdict, rule_index)
        for verdict in result.verdicts
        for item in verdict.items
    ]
    artifacts = []
    seen: set[str] = set()
    for verdict in result.verdicts:
        info = verdict.report.app.input
        if info.path in seen:
            continue
        seen.add(info.path)
        manifest = verdict.report.app.manifest
        artifact: dict[str, object] = {
            "location": {"uri": artifact_uri(info.path)},
            "length": info.size,
            # The app as people know it: label (package) and version.
            "description": {
                "text": " ".join(filter(None, (manifest.title, manifest.version_name)))
            },
            "properties": {"package": manifest.package, "label": manifest.label},
        }
        if info.sha256 is not None:
            artifact["hashes"] = {"sha-256": info.sha256}
        artifact["roles"] = ["analysisTarget"]
        artifacts.append(artifact)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "permaudit",
                        "version": result.scan.tool_version,
                        "rules": [rule_json(doc) for doc in result.rules],
                    }
                },
                "artifacts": artifacts,
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": {
                    "passed": result.passed,
                    "fail_on": result.fail_on.label,
                    "device_sdk": result.scan.device_sdk,
                    "ruleset": {
                        "id": result.scan.ruleset.id,
                        "sha256": result.scan.ruleset.sha256,
                    },
                },
            }
        ],
    }


def render(result: CheckResult, *, color: bool = False) -> str:
    """Render ``result`` as SARIF 2.1.0 (``color`` is ignored)."""
    del color
    return json.dumps(sarif_document(result), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
