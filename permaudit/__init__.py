"""permaudit: audit what an Android app can reach on a phone, and whom it is made to talk to."""

from permaudit.version import __version__

__all__ = ["__version__"]
