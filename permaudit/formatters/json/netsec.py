"""The ``network_security`` and ``backup`` objects of an app in the scan JSON.

Present only when the input kind is read for them (APKs: ``App.network_security`` is not
``None``), so documents of text manifests are unchanged. Field meanings: README
("network security config and backup rules") and docs/network-security.md.
"""

from __future__ import annotations

from typing import Any

from permaudit.model.netsec import (
    BackupPath,
    BackupRules,
    CertificateSource,
    EffectiveConfig,
    NetworkSecurity,
)


def _anchor(a: CertificateSource) -> dict[str, Any]:
    return {"kind": a.kind, "src": a.src, "override_pins": a.override_pins}


def config_json(config: EffectiveConfig) -> dict[str, Any]:
    """One effective config."""
    return {
        "cleartext_permitted": config.cleartext_permitted,
        "cleartext_from": config.cleartext_from,
        "hsts_enforced": config.hsts_enforced,
        "trust_anchors": [_anchor(a) for a in config.trust_anchors],
        "trusts_user_certificates": config.trusts_user,
        "pins": None if config.pins is None else {
            "sha256": list(config.pins.pins), "expiration": config.pins.expiration,
        },
    }


def network_security_json(ns: NetworkSecurity) -> dict[str, Any]:
    """``App.network_security`` as plain data."""
    return {
        "source": ns.source,
        "path": ns.path,
        "base": config_json(ns.base) if ns.base is not None else None,
        "domains": [
            {
                "domains": [
                    {"name": d.name, "include_subdomains": d.include_subdomains}
                    for d in c.domains
                ],
                "depth": c.depth,
                "line": c.line,
                **config_json(c.config),
            }
            for c in ns.domains
        ],
        "cleartext_domains": sorted(
            {d.name for c in ns.domains if c.config.cleartext_permitted for d in c.domains}
        ),
        "debug_overrides": {
            "present": ns.has_debug_overrides,
            "active": ns.debug_overrides_active,
            "trust_anchors": [_anchor(a) for a in ns.debug_anchors],
        },
        "problems": list(ns.problems),
    }


def _path(p: BackupPath) -> dict[str, Any]:
    return {"domain": p.domain, "path": p.path, "require_flags": list(p.require_flags)}


def backup_json(rules: tuple[BackupRules, ...]) -> list[dict[str, Any]]:
    """``App.backup`` as plain data: one object per rules file."""
    return [
        {
            "kind": r.kind,
            "path": r.path,
            "read": r.read,
            "sections": [
                {
                    "name": s.name,
                    "includes": [_path(p) for p in s.includes],
                    "excludes": [_path(p) for p in s.excludes],
                    "excludes_nothing": not s.includes and not s.excludes,
                    "disable_if_no_encryption": s.disable_if_no_encryption,
                }
                for s in r.sections
            ],
            "problems": list(r.problems),
        }
        for r in rules
    ]
