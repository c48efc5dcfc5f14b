"""A few words on an app's network security config for compare columns and diffs."""

from __future__ import annotations

from permaudit.model import App
from permaudit.model.netsec import NSC_DEFAULT, NSC_INVALID, NSC_UNREAD

_SHOWN = 3


def network_summary(app: App) -> tuple[str, ...]:
    """Lines such as ``cleartext: api.example.ru, 10.0.2.2``, ``user CAs trusted``,
    ``pins until 2018-01-01``; ``("not read",)`` for inputs whose resources were not read."""
    ns = app.network_security
    if ns is None:
        return ("not read",)
    if ns.source == NSC_UNREAD:
        return ("config not read",)
    if ns.source == NSC_INVALID:
        return ("config invalid",)
    if ns.base is None:
        return ("not read",)
    lines = ["no config: defaults"] if ns.source == NSC_DEFAULT else []
    if ns.base.cleartext_permitted:
        lines.append("cleartext: every host")
    else:
        names = sorted({d.name for c in ns.domains if c.config.cleartext_permitted
                        for d in c.domains})
        shown = ", ".join(names[:_SHOWN]) + (f" +{len(names) - _SHOWN}" if len(names) > _SHOWN
                                             else "")
        lines.append(f"cleartext: {shown}" if names else "cleartext: none")
    configs = [ns.base, *(c.config for c in ns.domains)]
    if any(c.trusts_user for c in configs) and not app.manifest.application.debuggable:
        lines.append("user CAs trusted")
    expiring = sorted({c.pins.expiration for c in configs if c.pins and c.pins.pins
                       and c.pins.expiration})
    pinned = [c for c in configs if c.pins and c.pins.pins]
    if pinned:
        lines.append(f"pins until {expiring[0]}" if expiring else "pins")
    if ns.has_debug_overrides:
        lines.append("debug-overrides " + ("active" if ns.debug_overrides_active else "inactive"))
    return tuple(lines)
