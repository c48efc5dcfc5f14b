"""The versioned JSON contract's shared parts: the per-app object every JSON format embeds
(scan, compare, diff, check, jsonl) and the document header (documented in README.md).

Byte-identical for the same inputs: keys sorted, lists in a defined order, no timestamps.
Bump ``SCHEMA_VERSION`` on any change that removes or retypes a field; adding a field
does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from permaudit.formatters.json.code import code_json
from permaudit.formatters.json.netsec import backup_json, network_security_json
from permaudit.model import (
    IMPLIED,
    App,
    AppIcon,
    CapabilityHit,
    Finding,
    InputFailure,
    Manifest,
    PermissionAccess,
    Report,
    RulesetInfo,
    ScanResult,
    SdkOrigin,
)

if TYPE_CHECKING:  # the compare column type only: a scan does not load the compare view
    from permaudit.views.compare import AppColumn

#: History: 2 (2026-12-03): ``risk.contributions[].points`` is each finding's share of the
#: score to two decimals (alike findings alike; it was the whole points a finding added
#: after the ones listed before it); ``risk.groups`` added.
SCHEMA_VERSION = 2


def permission_json(row: PermissionAccess) -> dict[str, Any]:
    """One permission row of an app."""
    data: dict[str, Any] = {
        "name": row.name,
        "element": row.element,
        "max_sdk": row.max_sdk,
        "applies": row.applies,
        "protection": list(row.protection),
        "class": row.protection_class,
        "capabilities": list(row.capabilities),
    }
    if row.element == IMPLIED:
        data["reason"] = row.reason
    if row.note:
        data["note"] = row.note
    return data


def capability_json(hit: CapabilityHit) -> dict[str, Any]:
    """One capability the app reaches."""
    return {
        "id": hit.id,
        "title": hit.title,
        "severity": hit.severity.label,
        "via": list(hit.via),
        "access": list(hit.access),
        "notes": list(hit.notes),
        "rationale": hit.rationale,
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    """One finding; ``fingerprint`` is stable across rewording and severity changes."""
    return {
        "rule": finding.rule,
        "severity": finding.severity.label,
        "title": finding.title,
        "subject": finding.subject,
        "category": finding.category,
        "message": finding.message,
        "fingerprint": finding.fingerprint,
        "references": list(finding.references),
        "line": finding.line,
    }


def manifest_extras_json(manifest: Manifest) -> dict[str, Any]:
    """Manifest facts beyond permissions: flags, declared permissions, features, components."""
    app = manifest.application
    return {
        "max_sdk": manifest.max_sdk,
        "compile_sdk": manifest.compile_sdk,
        "shared_user_id": manifest.shared_user_id,
        "application": {
            "debuggable": app.debuggable,
            "allow_backup": app.allow_backup,
            "full_backup_content": app.full_backup_content,
            "data_extraction_rules": app.data_extraction_rules,
            "uses_cleartext_traffic": app.uses_cleartext_traffic,
            "network_security_config": app.network_security_config,
            "request_legacy_external_storage": app.request_legacy_external_storage,
            "test_only": app.test_only,
        },
        "declared_permissions": [
            {"name": p.name, "protection": list(p.protection), "group": p.group}
            for p in manifest.permissions
        ],
        "features": [
            {"name": f.name, "required": f.required, "gl_es_version": f.gl_es_version}
            for f in manifest.features
        ],
        "exported_components": [
            {
                "kind": c.kind,
                "name": c.name,
                "permission": c.permission,
                "explicit": c.exported_explicit is not None,
                # Disabled in the manifest: unreachable until the app enables it at run
                # time (PackageManager.setComponentEnabledSetting), which it can.
                "enabled": c.enabled,
                "isolated_process": c.isolated_process,
                "external_service": c.external_service,
            }
            for c in manifest.components
            if c.exported
        ],
        "ignored_elements": [
            {"tag": e.tag, "parent": e.parent, "name": e.name, "line": e.line}
            for e in manifest.ignored
        ],
        "unresolved_references": [
            {
                "tag": u.tag,
                "component": u.component,
                "attribute": u.attribute,
                "reference": u.reference,
                "line": u.line,
                "reason": u.reason,
            }
            for u in manifest.unresolved
        ],
    }


def provenance_json(app: App) -> dict[str, Any]:
    """Where the manifest came from: splits, signer identity, tamper evidence, caveats."""
    signing = app.signing
    return {
        "notes": list(app.notes),
        "splits": [
            {
                "name": split.name,
                "path": split.path,
                "kind": split.kind,
                "package": split.package,
                "uses_permissions": [
                    {"name": p.name, "element": p.element, "max_sdk": p.max_sdk}
                    for p in split.uses_permissions
                ],
                "components": split.components,
                "note": split.note,
            }
            for split in app.splits
        ],
        "signing": None
        if signing is None
        else {
            "schemes": list(signing.schemes),
            "signers": [
                {
                    "scheme": signer.scheme,
                    "min_sdk": signer.min_sdk,
                    "max_sdk": signer.max_sdk,
                    "certificates": [
                        {
                            "sha256": cert.sha256,
                            "subject": cert.subject,
                            "issuer": cert.issuer,
                            "not_before": cert.not_before,
                            "not_after": cert.not_after,
                            "debug": cert.debug,
                        }
                        for cert in signer.certificates
                    ],
                }
                for signer in signing.signers
            ],
            "problems": list(signing.problems),
        },
        "tamper": [
            {"id": t.id, "detail": t.detail, "member": t.member} for t in app.tamper
        ],
    }


def sdk_origin_json(origin: SdkOrigin | None) -> dict[str, Any] | None:
    """Where min/target SDK came from; ``None`` when the manifest declares them (built apps)."""
    if origin is None:
        return None
    return {
        "min_sdk": origin.min_sdk,
        "target_sdk": origin.target_sdk,
        "min_where": list(origin.min_where),
        "target_where": list(origin.target_where),
    }


def icon_json(icon: AppIcon | None) -> dict[str, Any] | None:
    """The launcher icon's metadata (the image bytes are for the HTML page only)."""
    if icon is None:
        return None
    image = icon.image
    return {
        "reference": icon.reference,
        "path": image.path if image else None,
        "density": image.density if image else None,
        "media_type": image.media_type if image else None,
        "width": image.width if image else None,
        "height": image.height if image else None,
        "size": image.size if image else None,
        "sha256": image.sha256 if image else None,
        "note": icon.note,
    }


def report_json(report: Report) -> dict[str, Any]:
    """One app's entry in ``apps``."""
    manifest = report.app.manifest
    info = report.app.input
    data: dict[str, Any] = {
        "input": {"path": info.path, "sha256": info.sha256, "kind": info.kind, "size": info.size},
        "package": manifest.package,
        "label": manifest.label,
        "locale": report.app.locale,
        "icon": icon_json(report.app.icon),
        "version_code": manifest.version_code,
        "version_name": manifest.version_name,
        "min_sdk": manifest.min_sdk,
        "target_sdk": manifest.target_sdk,
        # Android refuses to install an app whose minSdk is above the device's level.
        "installable": None if manifest.min_sdk is None else manifest.min_sdk <= report.device_sdk,
        "sdk_origin": sdk_origin_json(report.app.sdk_origin),
        "permissions": [permission_json(p) for p in report.permissions],
        "capabilities": [capability_json(c) for c in report.capabilities],
        "findings": [finding_json(f) for f in report.findings],
        "risk": {
            "score": report.risk.score,
            "level": report.risk.level,
            "contributions": [
                {"rule": c.rule, "subject": c.subject, "points": c.points}
                for c in report.risk.contributions
            ],
            "groups": [
                {"severity": g.severity.label, "pool": g.pool.value, "findings": g.findings,
                 "points": g.points}
                for g in report.risk.groups
            ],
        },
    }
    data.update(manifest_extras_json(manifest))
    data.update(provenance_json(report.app))
    if report.code_evidence is not None:
        libraries = report.app.code.native_libraries if report.app.code is not None else ()
        data["code"] = code_json(report.code_evidence, libraries)
    if report.app.network_security is not None:
        data["network_security"] = network_security_json(report.app.network_security)
        data["backup"] = backup_json(report.app.backup)
    return data


def scan_document(result: ScanResult) -> dict[str, Any]:
    """The whole scan document as plain data (also embedded by other JSON formats)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "permaudit", "version": result.tool_version},
        "ruleset": {"id": result.ruleset.id, "sha256": result.ruleset.sha256},
        "device_sdk": result.device_sdk,
        "apps": [report_json(r) for r in result.reports],
        # Only with --keep-going and a failed input, so the contract is unchanged otherwise.
        **({"errors": [failure_json(f) for f in result.failures]} if result.failures else {}),
    }


def failure_json(failure: InputFailure) -> dict[str, Any]:
    """One input that could not be read: path, error class, one-line message."""
    return {"path": failure.path, "error": failure.error, "message": failure.message}


def provenance(tool_version: str, ruleset: RulesetInfo | None, device_sdk: int) -> dict[str, Any]:
    """The header every compare/diff document shares with the scan contract."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "permaudit", "version": tool_version},
        "ruleset": None if ruleset is None else {"id": ruleset.id, "sha256": ruleset.sha256},
        "device_sdk": device_sdk,
    }


def column_json(app: AppColumn) -> dict[str, Any]:
    """How a column is labelled."""
    return {
        "label": app.label,
        "app_label": app.app_label,
        "package": app.package,
        "version_name": app.version_name,
        "version_code": app.version_code,
        "network_security": list(app.network),
    }
