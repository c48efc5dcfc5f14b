"""Model a decoded network security config file the way Android's ``XmlConfigSource`` does.

Semantics (frameworks/base core/java/android/security/net/config: ``ManifestConfigSource``,
``XmlConfigSource``, ``NetworkSecurityConfig``):

* no ``android:networkSecurityConfig``: the platform default with cleartext set from
  ``usesCleartextTraffic`` (whose own default is ``targetSdk < 28``); with the attribute,
  the file alone decides and ``usesCleartextTraffic`` is ignored (API 24+);
* platform default (``getDefaultBuilder``): cleartext permitted when ``targetSdk < 28``,
  HSTS not enforced, no pins, system CAs trusted, user CAs too when ``targetSdk <= 23``;
* the root must be ``<network-security-config>``; at most one ``base-config`` and one
  ``debug-overrides`` (else the parser throws); unknown elements are skipped;
* ``cleartextTrafficPermitted``/``hstsEnforced`` are read from every attribute with that
  *name* (any namespace; the last one wins) as ``getAttributeBooleanValue``: an integer
  value gives ``data != 0``, anything else the default ``true``/``false`` -- but the value
  counts as set either way;
* ``<domain>``: the element's only content must be its text, lower-cased (``Locale.US``),
  never repeated across the file; a domain-config needs at least one; ``pin-set`` and
  nested ``domain-config`` only inside ``domain-config``; one ``trust-anchors`` and one
  ``pin-set`` per config;
* ``<certificates src>``: a resource reference, ``system`` or ``user``, else the parser
  throws; ``overridePins`` defaults to false, true inside ``debug-overrides``;
* ``<pin-set expiration>``: ``yyyy-MM-dd`` (``SimpleDateFormat``, not lenient: a valid
  date prefix); ``<pin digest="SHA-256">`` (any case) holds base64 of exactly 32 bytes;
* inheritance: each value not set comes from the parent (nested domain-config, then
  base-config, then the platform default); trust anchors are inherited as a whole;
* ``debug-overrides`` are parsed only when the app is debuggable; their anchors are then
  added to every config that has its own trust anchors, and to the platform default.

Not modelled: the ``<name>_debug`` companion resource Android also consults for debuggable
apps, and certificate transparency (API 36 ``certificateTransparency``), both noted.

Bounded: one pass over the already bounded element tree with an explicit stack.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import date

from permaudit._infra.records import record
from permaudit.inputs.binary.xmltree import (
    TYPE_REFERENCE,
    Attribute,
    Element,
)
from permaudit.model.netsec import (
    NSC_CONFIG,
    NSC_DEFAULT,
    NSC_INVALID,
    CertificateSource,
    Domain,
    DomainConfig,
    EffectiveConfig,
    NetworkSecurity,
    PinSet,
)

ROOT = "network-security-config"
BASE, DOMAIN, DEBUG = "base-config", "domain-config", "debug-overrides"
SHA256_LENGTH = 32
_DATE = re.compile(r"(\d+)-(\d+)-(\d+)")

#: Resolves a resource id to a file path (``res/raw/ca.pem``), or ``None``.
PathOf = Callable[[int], "str | None"]


class NscError(ValueError):
    """Android's ``ParserException``/``XmlPullParserException``: the file does not parse."""


#: Assumed when a source manifest's targetSdk is unknown (said in ``UNKNOWN_TARGET``).
ASSUMED_TARGET = 28
UNKNOWN_TARGET = ("targetSdk unknown: the platform defaults of targetSdk 28 and later are "
                  "assumed (cleartext refused, user CAs not trusted)")


def default_config(target_sdk: int | None, cleartext: bool | None = None) -> EffectiveConfig:
    """``NetworkSecurityConfig.getDefaultBuilder`` (cleartext overridden when given)."""
    target = target_sdk if target_sdk is not None else ASSUMED_TARGET
    anchors = [CertificateSource(kind="system", src="system")]
    if target <= 23:
        anchors.append(CertificateSource(kind="user", src="user"))
    if cleartext is None:
        cleartext = target < 28
        origin = (f"platform default for targetSdk {target_sdk}" if target_sdk is not None
                  else "platform default (targetSdk unknown)")
    else:
        origin = "android:usesCleartextTraffic"
    return EffectiveConfig(
        cleartext_permitted=cleartext, trust_anchors=tuple(anchors), cleartext_from=origin
    )


def manifest_only(target_sdk: int | None, uses_cleartext: bool | None) -> NetworkSecurity:
    """``DefaultConfigSource``: no config file, ``usesCleartextTraffic`` (or its default)."""
    target = target_sdk if target_sdk is not None else ASSUMED_TARGET
    cleartext = uses_cleartext if uses_cleartext is not None else target < 28
    base = default_config(target_sdk, cleartext)
    if uses_cleartext is None:
        base = EffectiveConfig(
            cleartext_permitted=base.cleartext_permitted, trust_anchors=base.trust_anchors,
            cleartext_from=f"android:usesCleartextTraffic not set (default for targetSdk "
                           f"{target_sdk if target_sdk is not None else 'unknown'})",
        )
    problems = (UNKNOWN_TARGET,) if target_sdk is None else ()
    return NetworkSecurity(source=NSC_DEFAULT, base=base, problems=problems)


@record
class _Builder:
    """``NetworkSecurityConfig.Builder``: what one config sets itself (``None``: inherit)."""

    kind: str
    cleartext: bool | None
    hsts: bool | None
    anchors: tuple[CertificateSource, ...] | None
    pins: PinSet | None
    domains: tuple[Domain, ...]
    #: Index of the parent builder in the list, ``-1`` for base-config / platform default.
    parent: int
    depth: int
    line: int | None


def _bool_value(attribute: Attribute, default: bool) -> bool:
    """``XmlResourceParser.getAttributeBooleanValue``: integer types only, else default."""
    return attribute.value.data != 0 if attribute.value.is_int else default


def _named(element: Element, name: str) -> Attribute | None:
    """``getAttributeValue(null, name)``: first attribute of that name without a namespace."""
    return element.by_name(name, None)


class _Parser:
    def __init__(self, debuggable: bool, path_of: PathOf | None) -> None:
        self.debuggable = debuggable
        self.path_of = path_of
        self.seen_domains: set[str] = set()
        self.builders: list[_Builder] = []

    def parse(self, root: Element) -> tuple[_Builder | None, _Builder | None, bool]:
        if root.tag != ROOT:
            raise NscError(f"root element is <{root.tag}>, expected <{ROOT}>")
        base: _Builder | None = None
        debug: _Builder | None = None
        seen_debug = False
        for child in root.children:
            if child.tag == BASE:
                if base is not None:
                    raise NscError("only one base-config allowed")
                base = self.entry(child, BASE, parent=-1, depth=0, register=False)
            elif child.tag == DOMAIN:
                self.entry(child, DOMAIN, parent=-1, depth=1)
            elif child.tag == DEBUG:
                if seen_debug:
                    raise NscError("only one debug-overrides allowed")
                seen_debug = True
                if self.debuggable:
                    debug = self.entry(child, DEBUG, parent=-1, depth=0, register=False)
        return base, debug, seen_debug

    def entry(
        self, element: Element, kind: str, *, parent: int, depth: int, register: bool = True
    ) -> _Builder:
        """``parseConfigEntry``, nested domain-configs iteratively (parents first)."""
        first, nested = self.one(element, kind, parent, depth)
        if not register:
            return first
        self.builders.append(first)
        stack = [(n, len(self.builders) - 1, depth + 1) for n in reversed(nested)]
        while stack:
            current, parent_index, level = stack.pop()
            builder, children = self.one(current, kind, parent_index, level)
            self.builders.append(builder)
            index = len(self.builders) - 1
            stack.extend((n, index, level + 1) for n in reversed(children))
        return first

    def one(
        self, element: Element, kind: str, parent: int, depth: int
    ) -> tuple[_Builder, list[Element]]:
        cleartext: bool | None = None
        hsts: bool | None = None
        for attribute in element.attributes:
            if attribute.name == "cleartextTrafficPermitted":
                cleartext = _bool_value(attribute, True)
            elif attribute.name == "hstsEnforced":
                hsts = _bool_value(attribute, False)
        anchors: tuple[CertificateSource, ...] | None = None
        pins: PinSet | None = None
        domains: list[Domain] = []
        nested: list[Element] = []
        where = f"<{kind}> at line {element.line}" if element.line else f"<{kind}>"
        for child in element.children:
            if child.tag == "domain":
                if kind != DOMAIN:
                    raise NscError(f"domain element not allowed in {kind}")
                domains.append(self.domain(child))
            elif child.tag == "trust-anchors":
                if anchors is not None:
                    raise NscError(f"multiple trust-anchors elements in {where}")
                anchors = tuple(
                    self.certificates(c, default_override=kind == DEBUG)
                    for c in child.children if c.tag == "certificates"
                )
            elif child.tag == "pin-set":
                if kind != DOMAIN:
                    raise NscError(f"pin-set element not allowed in {kind}")
                if pins is not None:
                    raise NscError(f"multiple pin-set elements in {where}")
                pins = self.pin_set(child)
            elif child.tag == DOMAIN:
                if kind != DOMAIN:
                    raise NscError(f"nested domain-config not allowed in {kind}")
                nested.append(child)
        if kind == DOMAIN and not domains:
            raise NscError(f"no domain elements in {where}")
        builder = _Builder(kind=kind, cleartext=cleartext, hsts=hsts, anchors=anchors, pins=pins,
                           domains=tuple(domains), parent=parent, depth=depth, line=element.line)
        return builder, nested

    def domain(self, element: Element) -> Domain:
        include = _named(element, "includeSubdomains")
        if element.text is None:
            raise NscError("a <domain> must hold exactly its name as text")
        name = element.text.translate(_ASCII_LOWER)
        if name in self.seen_domains:
            raise NscError(f"{name} has already been specified")
        self.seen_domains.add(name)
        return Domain(name=name,
                      include_subdomains=_bool_value(include, False) if include else False)

    def certificates(self, element: Element, *, default_override: bool) -> CertificateSource:
        override = _named(element, "overridePins")
        pins = _bool_value(override, default_override) if override else default_override
        src = _named(element, "src")
        text = src.coerce_to_string() if src is not None else None
        if src is None or text is None:
            raise NscError("certificates element missing src attribute")
        if src.value.type == TYPE_REFERENCE:
            path = self.path_of(src.value.data) if self.path_of else None
            shown = path or (text if text.startswith("@") else f"@0x{src.value.data:08x}")
            return CertificateSource(kind="resource", src=shown, override_pins=pins)
        if text in ("system", "user"):
            return CertificateSource(kind=text, src=text, override_pins=pins)
        raise NscError(f"unknown certificates src {text!r} (system, user or a resource)")

    def pin_set(self, element: Element) -> PinSet:
        expiration = None
        attribute = _named(element, "expiration")
        written = attribute.coerce_to_string() if attribute is not None else None
        if written is not None:
            expiration = parse_expiration(written)
        pins: list[str] = []
        for child in element.children:
            if child.tag != "pin":
                continue
            digest = _named(child, "digest")
            algorithm = digest.coerce_to_string() if digest else None
            if algorithm is None or algorithm.upper() != "SHA-256":
                raise NscError(f"unsupported pin digest algorithm {algorithm!r}")
            if child.text is None:
                raise NscError("a <pin> must hold exactly its digest as text")
            value = "".join(child.text.split())
            try:
                raw = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
            except (binascii.Error, ValueError):
                raise NscError(f"invalid pin digest {value[:60]!r}") from None
            if len(raw) != SHA256_LENGTH:
                raise NscError(f"pin digest is {len(raw)} bytes, SHA-256 needs 32")
            encoded = base64.b64encode(raw).decode("ascii")
            if encoded not in pins:
                pins.append(encoded)
        return PinSet(pins=tuple(pins), expiration=expiration)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def parse_expiration(text: str) -> str:
    """``SimpleDateFormat("yyyy-MM-dd")``, not lenient: a valid date at the start of ``text``."""
    found = _DATE.match(text) if len(text) <= 100 else None
    if found is None:
        raise NscError(f"invalid expiration date in pin-set: {text[:40]!r}")
    year, month, day = (int(part) for part in found.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        raise NscError(f"invalid expiration date in pin-set: {text[:40]!r}") from None


def _with_debug(
    anchors: tuple[CertificateSource, ...], debug: _Builder | None
) -> tuple[CertificateSource, ...]:
    """``addDebugAnchorsIfNeeded`` for a builder that has its own anchors."""
    if debug is None or debug.anchors is None:
        return anchors
    return anchors + debug.anchors


def _effective(own: _Builder, parent: EffectiveConfig, debug: _Builder | None) -> EffectiveConfig:
    label = own.kind if own.line is None else f"{own.kind} at line {own.line}"
    anchors = _with_debug(own.anchors, debug) if own.anchors is not None else parent.trust_anchors
    return EffectiveConfig(
        cleartext_permitted=own.cleartext if own.cleartext is not None
        else parent.cleartext_permitted,
        hsts_enforced=own.hsts if own.hsts is not None else parent.hsts_enforced,
        trust_anchors=anchors,
        pins=own.pins if own.pins is not None else parent.pins,
        cleartext_from=label if own.cleartext is not None else parent.cleartext_from,
    )


def model_config(
    root: Element, *, target_sdk: int | None, debuggable: bool, path: str | None = None,
    path_of: PathOf | None = None,
) -> NetworkSecurity:
    """The ``NetworkSecurity`` Android builds from the decoded file ``root``.

    A file Android's parser rejects gives ``source="invalid"`` with the reason; the app's
    first TLS/cleartext check then throws (``Failed to parse XML configuration``).
    """
    parser = _Parser(debuggable, path_of)
    try:
        base, debug, seen_debug = parser.parse(root)
    except NscError as exc:
        return NetworkSecurity(
            source=NSC_INVALID, path=path, problems=(
                f"Android cannot parse this file ({exc}); network connections that consult "
                "it fail at run time",
            ),
        )
    platform = default_config(target_sdk)
    if debug is not None and debug.anchors is not None:
        platform = EffectiveConfig(
            cleartext_permitted=platform.cleartext_permitted,
            trust_anchors=platform.trust_anchors + debug.anchors,
            cleartext_from=platform.cleartext_from,
        )
    base_config = _effective(base, platform, debug) if base is not None else platform
    resolved: list[EffectiveConfig] = []
    domains = []
    for builder in parser.builders:
        parent = resolved[builder.parent] if builder.parent >= 0 else base_config
        config = _effective(builder, parent, debug)
        resolved.append(config)
        domains.append(DomainConfig(domains=builder.domains, config=config,
                                    depth=builder.depth, line=builder.line))
    problems = [UNKNOWN_TARGET] if target_sdk is None else []
    if debuggable:
        problems.append("a debuggable app also reads debug-overrides from a companion "
                        "<name>_debug xml resource, which is not read here")
    return NetworkSecurity(
        source=NSC_CONFIG, path=path, base=base_config, domains=tuple(domains),
        has_debug_overrides=seen_debug, debug_overrides_active=debug is not None,
        debug_anchors=(debug.anchors or ()) if debug is not None else debug_anchors_written(root),
        problems=tuple(problems),
    )


def debug_anchors_written(root: Element) -> tuple[CertificateSource, ...]:
    """Trust anchors a ``debug-overrides`` element lists, parsed as for a debuggable build
    (for reports about release builds, where Android skips the element)."""
    for child in root.children:
        if child.tag == DEBUG:
            try:
                builder, _ = _Parser(True, None).one(child, DEBUG, -1, 0)
            except NscError:
                return ()
            return builder.anchors or ()
    return ()
