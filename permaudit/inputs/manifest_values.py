"""Attribute values as Android's package parser reads them: ``TypedArray`` rules, flag names.

``TypedArray`` semantics: strings for names are ``getNonResourceString`` (only
``TYPE_STRING``), ints come from ``TYPE_INT_*`` data, booleans are ``data != 0`` for int
types and ``"1"/"true"/"TRUE"`` for strings; a reference without resources reads as absent.
The flag tables name ``protectionLevel`` and ``foregroundServiceType`` bits.
"""

from __future__ import annotations

from permaudit.android.attributes import ATTRIBUTE_IDS
from permaudit.errors import ManifestError
from permaudit.inputs.binary.xmltree import (
    TYPE_NULL,
    TYPE_STRING,
    Attribute,
    Element,
    coerce_to_string,
)

#: protectionLevel base values and flags (core/res/res/values/attrs_manifest.xml,
#: android.content.pm.PermissionInfo).
PROTECTION_BASES = {
    0: "normal",
    1: "dangerous",
    2: "signature",
    3: "signatureOrSystem",
    4: "internal",
}


PROTECTION_FLAGS = (
    (0x10, "privileged"),
    (0x20, "development"),
    (0x40, "appop"),
    (0x80, "pre23"),
    (0x100, "installer"),
    (0x200, "verifier"),
    (0x400, "preinstalled"),
    (0x800, "setup"),
    (0x1000, "instant"),
    (0x2000, "runtime"),
    (0x4000, "oem"),
    (0x8000, "vendorPrivileged"),
    (0x10000, "textClassifier"),
    (0x20000, "wellbeing"),
    (0x40000, "documenter"),
    (0x80000, "configurator"),
    (0x100000, "incidentReportApprover"),
    (0x200000, "appPredictor"),
    (0x400000, "module"),
    (0x800000, "companion"),
    (0x1000000, "retailDemo"),
    (0x2000000, "recents"),
    (0x4000000, "role"),
    (0x8000000, "knownSigner"),
)


#: foregroundServiceType flags (android.content.pm.ServiceInfo).
FOREGROUND_SERVICE_TYPES = (
    (0x1, "dataSync"),
    (0x2, "mediaPlayback"),
    (0x4, "phoneCall"),
    (0x8, "location"),
    (0x10, "connectedDevice"),
    (0x20, "mediaProjection"),
    (0x40, "camera"),
    (0x80, "microphone"),
    (0x100, "health"),
    (0x200, "remoteMessaging"),
    (0x400, "systemExempted"),
    (0x800, "shortService"),
    (0x1000, "fileManagement"),
    (0x2000, "mediaProcessing"),
    (0x40000000, "specialUse"),
)


def protection_names(level: int) -> tuple[str, ...]:
    """Decode a protectionLevel after ``PermissionInfo.fixProtectionLevel``: base first."""
    if level == 3:  # signatureOrSystem is stored as signature|privileged
        level = 2 | 0x10
    base = PROTECTION_BASES.get(level & 0xF, f"base{level & 0xF}")
    return (base, *(name for bit, name in PROTECTION_FLAGS if level & bit))


def foreground_service_names(value: int) -> tuple[str, ...]:
    """Decode ``foregroundServiceType`` flags in bit order."""
    return tuple(name for bit, name in FOREGROUND_SERVICE_TYPES if value & bit)


def typed_attr(element: Element, name: str) -> Attribute | None:
    attribute = element.android(ATTRIBUTE_IDS[name])
    if attribute is None or attribute.value.type == TYPE_NULL:
        return None
    return attribute


def non_resource_string(element: Element, name: str) -> str | None:
    """``getNonResourceString``: only a literal string."""
    attribute = typed_attr(element, name)
    if attribute is None or attribute.value.type != TYPE_STRING:
        return None
    return attribute.value.string


def string_attr(element: Element, name: str) -> str | None:
    """``getString``/``getNonConfigurationString`` without resources: references are unknown."""
    attribute = typed_attr(element, name)
    if attribute is None or attribute.value.is_reference:
        return None
    return coerce_to_string(attribute.value)


def required_string(element: Element, name: str, what: str) -> str:
    """A string Android requires (error when absent); a reference stays ``@0x...``."""
    attribute = typed_attr(element, name)
    text = coerce_to_string(attribute.value) if attribute is not None else None
    if not text:
        raise ManifestError(f"{what} does not specify android:{name}")
    return text


def bool_attr(element: Element, name: str, default: bool) -> bool:
    """``TypedArray.getBoolean``; an unresolvable reference keeps the default."""
    attribute = typed_attr(element, name)
    if attribute is None or attribute.value.is_reference:
        return default
    if attribute.value.is_int:
        return attribute.value.data != 0
    return coerce_to_string(attribute.value) in ("1", "true", "TRUE")


def int_attr(element: Element, name: str, default: int) -> int:
    """``TypedArray.getInt``: int types, or a string parsed like ``XmlUtils.convertValueToInt``."""
    attribute = typed_attr(element, name)
    if attribute is None or attribute.value.is_reference:
        return default
    if attribute.value.is_int:
        return attribute.value.signed
    text = coerce_to_string(attribute.value)
    if not text:
        return default
    parsed = convert_value_to_int(text)
    if parsed is None:
        raise ManifestError(f"<{element.tag}> android:{name}={text!r} is not an integer")
    return parsed


def convert_value_to_int(text: str) -> int | None:
    sign, digits, base = 1, text, 10
    if digits.startswith("-"):
        sign, digits = -1, digits[1:]
    if digits.startswith(("0x", "0X")):
        digits, base = digits[2:], 16
    elif digits.startswith("#"):
        digits, base = digits[1:], 16
    elif digits.startswith("0") and len(digits) > 1:
        digits, base = digits[1:], 8
    try:
        return sign * int(digits, base) if digits and digits.isalnum() else None
    except ValueError:
        return None
