"""The version of permaudit, in one place (setup.cfg and every report read it from here)."""

__version__ = "0.1.0"
