"""Input readers: one module per input kind, each producing a ``permaudit.model.App``."""

from __future__ import annotations

from permaudit.sources.apk import load

__all__ = ["load"]
