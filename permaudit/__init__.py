"""permaudit: audit what an Android app can reach on a phone, and whom it is made to talk to.

The Python API (``permaudit.scan``, ``scan_many``, ``compare``, ``diff``, ``check``,
``batch_scan``, ``to_dict``) lives in ``permaudit.api`` and is imported on first use;
see docs/api.md.
"""

from __future__ import annotations

from typing import Any

from permaudit.version import __version__

_API = ("batch_scan", "check", "compare", "diff", "scan", "scan_many", "to_dict")

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        from permaudit import api

        return getattr(api, name)
    raise AttributeError(f"module 'permaudit' has no attribute {name!r}")
