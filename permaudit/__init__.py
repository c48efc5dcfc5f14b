"""permaudit: audit what an Android app can reach on a phone, from its manifest."""

__version__ = "0.1.0"
