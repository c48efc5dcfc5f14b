"""The closed vocabulary of ruleset files: keys, ids, and the values each key accepts."""

from __future__ import annotations

import re

from permaudit.model import Severity

CAPABILITY_ID = re.compile(r"^[a-z][a-z0-9_]*$")
RULE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
#: A Java package-qualified name: ``android.permission.CAMERA``, ``com.example.READ``.
QUALIFIED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")
XML_TAG = re.compile(r"^[a-z][a-z0-9-]*$")
SEVERITIES = tuple(s.label for s in Severity)

FOREGROUND_SERVICE_TYPES = (
    "camera", "connectedDevice", "dataSync", "fileManagement", "health", "location",
    "mediaPlayback", "mediaProcessing", "mediaProjection", "microphone", "phoneCall",
    "remoteMessaging", "shortService", "specialUse", "systemExempted",
)
#: ``app_flags`` names: ``model.Application`` fields that are booleans.
APP_FLAGS = (
    "allow_backup", "data_extraction_rules", "debuggable", "full_backup_content", "has_code",
    "network_security_config", "request_legacy_external_storage", "test_only",
    "uses_cleartext_traffic",
)
PROTECTION_LEVELS = ("normal", "dangerous", "signature", "signatureOrSystem", "internal")
MESSAGE_FIELDS = ("package", "subject", "detail", "target_sdk")

TOP_KEYS = ("ruleset", "version", "description", "capabilities", "rules", "override", "disable")
CAPABILITY_KEYS = ("id", "title", "severity", "rationale", "references", "permissions", "features")
PERMISSION_KEYS = ("name", "access", "needs_other")
FEATURE_KINDS = ("component", "queries")
FEATURE_KEYS = (*FEATURE_KINDS, "access", "needs_other")
COMPONENT_FEATURE_KEYS = ("kinds", "permission", "actions", "foreground_service_types")
QUERIES_KEYS = ("action", "category")
RULE_KEYS = (
    "id", "title", "severity", "category", "rationale", "message", "references", "when",
)
WHEN_KEYS = (
    "app_flags", "cleartext_traffic", "target_sdk_below", "exported_component",
    "declared_permission", "shared_user_id", "permission_class", "requested_permission",
    "ignored_element", "all_capabilities", "signing", "tamper", "network_security", "backup",
    "tracker", "server_country", "server_owner", "code_reference",
)
OVERRIDE_KEYS = (
    "id", "severity", "title", "rationale", "message", "references", "when",
    "add_permissions", "add_features",
)
RULE_ONLY = ("message", "when")
CAPABILITY_ONLY = ("add_permissions", "add_features")
#: ``signing`` conditions: what about the APK's signer identity the rule fires on.
SIGNING_CONDITIONS = ("unsigned", "debug_certificate", "ambiguous")
#: ``network_security`` conditions (``permaudit.engine.netsec``).
NETWORK_SECURITY_CONDITIONS = (
    "cleartext", "user_certificates", "pins_expire", "pins_overridable", "debug_overrides",
    "invalid",
)
#: ``backup`` conditions.
BACKUP_CONDITIONS = ("nothing_excluded",)
#: A tamper evidence id (``zip.multiple_eocd``) or a family of them (``zip.*``).
TAMPER_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$")

#: ``tracker: {category: ...}`` values: the Exodus categories, lower case, ``_`` for spaces.
TRACKER_CATEGORIES = (
    "analytics", "advertisement", "crash_reporting", "location", "profiling", "identification",
)
TRACKER_KEYS = ("name", "category", "strength")
#: ``tracker: {strength: ...}``: ``defined`` (the app ships the SDK's classes) or ``any``.
TRACKER_STRENGTHS = ("defined", "any")
CODE_REFERENCE_KEYS = ("capability", "requested")
#: An ISO 3166-1 alpha-2 country code, as the domain owner table writes it.
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")


def tracker_category(label: str) -> str:
    """``Crash reporting`` (an Exodus category) -> ``crash_reporting``."""
    return label.strip().lower().replace(" ", "_")
