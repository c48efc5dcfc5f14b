"""Matchers of the ``network_security`` and ``backup`` conditions over ``App.network_security``
and ``App.backup`` (modelled by ``permaudit.inputs.netsec`` / ``inputs.backup_rules``).

Pins and time: reports carry no clock (the same input gives the same bytes), so a pin-set
with an ``expiration`` is reported as "not enforced after DATE", never as "expired": the
reader compares DATE with the day they read the report.
"""

from __future__ import annotations

from collections.abc import Iterator

from permaudit.model.netsec import (
    BACKUP_DATA_EXTRACTION,
    BACKUP_FULL_CONTENT,
    NSC_CONFIG,
    NSC_INVALID,
    BackupRules,
    BackupSection,
    DomainConfig,
    EffectiveConfig,
    NetworkSecurity,
)

#: Shown at most, per list in a detail sentence.
_SHOWN = 20


def _names(configs: list[DomainConfig]) -> str:
    names = [("*." if d.include_subdomains else "") + d.name for c in configs for d in c.domains]
    text = ", ".join(names[:_SHOWN])
    return text + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _where(config: DomainConfig) -> str:
    return f"domain-config at line {config.line}" if config.line else "domain-config"


def _covers(config: DomainConfig, host: str) -> bool:
    """``host`` matches one of the config's domains (exactly, or as a subdomain)."""
    return any(host == d.name or (d.include_subdomains and host.endswith("." + d.name))
               for d in config.domains)


def _servers(hosts: list[str]) -> str:
    if not hosts:
        return ""
    shown = ", ".join(hosts[:_SHOWN])
    more = f" and {len(hosts) - _SHOWN} more" if len(hosts) > _SHOWN else ""
    return f"; servers the code names among them: {shown}{more}"


def cleartext(ns: NetworkSecurity, code_hosts: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """Configs of a read config file that permit cleartext (HTTP) traffic, with the servers
    the app's code names that they cover (most specific domain-config wins, as Android picks)."""
    if ns.source != NSC_CONFIG or ns.base is None:
        return
    allowed = [c for c in ns.domains if c.config.cleartext_permitted]
    refused = [c for c in ns.domains if not c.config.cleartext_permitted]
    hosts = sorted(set(code_hosts))
    if ns.base.cleartext_permitted:
        detail = f"cleartext (HTTP) traffic is allowed to every host ({ns.base.cleartext_from})"
        if refused:
            detail += f" except {_names(refused)}"
        open_hosts = [h for h in hosts if (_pick(ns, h) or ns.base).cleartext_permitted]
        yield "cleartext:*", detail + _servers(open_hosts)
        return
    for config in allowed:
        first = config.domains[0].name
        mine = [h for h in hosts if _pick(ns, h) is config.config]
        yield (f"cleartext:{first}",
               f"cleartext allowed to {_names([config])} ({config.config.cleartext_from})"
               + _servers(mine))


def _pick(ns: NetworkSecurity, host: str) -> EffectiveConfig | None:
    """``ApplicationConfig.getConfigForHostname``: an exact domain match first, else the
    longest matching ``includeSubdomains`` domain; ``None`` when none matches."""
    best: tuple[int, EffectiveConfig] | None = None
    for config in ns.domains:
        for d in config.domains:
            if host == d.name:
                return config.config
            if d.include_subdomains and host.endswith("." + d.name) and (
                    best is None or len(d.name) > best[0]):
                best = (len(d.name), config.config)
    return best[1] if best else None


def _configs(ns: NetworkSecurity) -> Iterator[tuple[str, EffectiveConfig, str]]:
    """(subject key, config, where) for the base config and each domain-config."""
    if ns.base is not None:
        yield "*", ns.base, "every host" if ns.source == NSC_CONFIG else (
            "every host (no network security config; default for the target SDK)")
    for config in ns.domains:
        yield config.domains[0].name, config.config, f"{_names([config])} ({_where(config)})"


def user_certificates(ns: NetworkSecurity, debuggable: bool) -> Iterator[tuple[str, str]]:
    """Release builds whose configs trust user-installed CAs."""
    if debuggable or not ns.read:
        return
    everywhere = ns.base is not None and ns.base.trusts_user
    for key, config, where in _configs(ns):
        if config.trusts_user and (key == "*" or not everywhere):
            yield f"user_ca:{key}", f"certificates the user installed are trusted for {where}"


def pins_expire(ns: NetworkSecurity) -> Iterator[tuple[str, str]]:
    """Domain-configs whose own pin-set has an expiration date."""
    for config in ns.domains:
        pins = config.config.pins
        if pins is None or pins.expiration is None or not pins.pins:
            continue
        yield (f"pins:{config.domains[0].name}",
               f"pins for {_names([config])} are not enforced after {pins.expiration} "
               "(the report has no clock: compare with today's date)")


def pins_overridable(ns: NetworkSecurity, debuggable: bool) -> Iterator[tuple[str, str]]:
    """Pinned domain-configs whose trust anchors may bypass the pins (``overridePins``)."""
    for config in ns.domains:
        pins = config.config.pins
        if pins is None or not pins.pins:
            continue
        bypass = sorted({a.src for a in config.config.trust_anchors if a.override_pins})
        if bypass:
            yield (f"pins_override:{config.domains[0].name}",
                   f"pins for {_names([config])} are bypassed by certificates from "
                   f"{', '.join(bypass)} (overridePins)")


def debug_overrides(ns: NetworkSecurity, debuggable: bool) -> Iterator[tuple[str, str]]:
    """A release build ships ``debug-overrides`` (inactive, but one flag away)."""
    if not ns.has_debug_overrides or debuggable:
        return
    anchors = ", ".join(sorted({a.src for a in ns.debug_anchors})) or "no trust anchors"
    yield ("debug-overrides",
           f"the release build ships <debug-overrides> trusting {anchors}; Android applies "
           "them only when the app is debuggable")


def invalid(ns: NetworkSecurity) -> Iterator[tuple[str, str]]:
    """The file is set but Android cannot parse it (or it could not be read)."""
    if ns.source == NSC_INVALID:
        yield "network-security-config", "; ".join(ns.problems)


def network_security(
    condition: str, ns: NetworkSecurity | None, debuggable: bool,
    code_hosts: tuple[str, ...] = (),
) -> Iterator[tuple[str, str]]:
    """(subject, detail) pairs of one ``network_security`` condition."""
    if ns is None:
        return
    if condition == "cleartext":
        yield from cleartext(ns, code_hosts)
    elif condition == "user_certificates":
        yield from user_certificates(ns, debuggable)
    elif condition == "pins_expire":
        yield from pins_expire(ns)
    elif condition == "pins_overridable":
        yield from pins_overridable(ns, debuggable)
    elif condition == "debug_overrides":
        yield from debug_overrides(ns, debuggable)
    elif condition == "invalid":
        yield from invalid(ns)


def _copies_all(section: BackupSection | None) -> bool:
    return section is None or (not section.includes and not section.excludes)


def destinations(
    rules: tuple[BackupRules, ...], target_sdk: int | None
) -> list[tuple[str, BackupSection | None, str]]:
    """(destination, governing section or None, which file) as Android picks them:
    ``dataExtractionRules`` on Android 12+ for targetSdk 31+ (or an unknown targetSdk),
    else ``fullBackupContent``."""
    by_kind = {r.kind: r for r in rules}
    modern = target_sdk is None or target_sdk >= 31
    extraction = by_kind.get(BACKUP_DATA_EXTRACTION) if modern else None
    full = by_kind.get(BACKUP_FULL_CONTENT)
    out: list[tuple[str, BackupSection | None, str]] = []
    for destination in ("cloud-backup", "device-transfer"):
        if extraction is not None:
            section = next((s for s in extraction.sections if s.name == destination), None)
            out.append((destination, section, f"dataExtractionRules {extraction.path}"))
        elif full is not None:
            section = full.sections[0] if full.sections else None
            out.append((destination, section, f"fullBackupContent {full.path}"))
        else:
            out.append((destination, None, "no backup rules"))
    return out


def backup_nothing_excluded(
    rules: tuple[BackupRules, ...], allow_backup: bool, target_sdk: int | None, *,
    has_rules_attribute: bool = False,
) -> Iterator[tuple[str, str]]:
    """Backup is allowed and some destination copies all the app's data.

    ``has_rules_attribute``: the manifest names a rules file; when none was read (a text
    manifest, a bundle) what it excludes is unknown and nothing is claimed.
    """
    if not allow_backup or (has_rules_attribute and not rules):
        return
    if any(not r.read for r in rules):
        return  # a rules file the manifest names could not be read: unknown, claim nothing
    everything = [(d, source) for d, section, source in destinations(rules, target_sdk)
                  if _copies_all(section)]
    if everything:
        parts = ", ".join(f"{d} ({source})" for d, source in everything)
        yield ("android:allowBackup",
               f"android:allowBackup=true and nothing is excluded from {parts}")


def default_source(ns: NetworkSecurity | None) -> bool:
    """No config file decides (so ``usesCleartextTraffic`` does)."""
    return ns is None or ns.source != NSC_CONFIG
