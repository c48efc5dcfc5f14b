"""One Android platform level as the engine sees it: permission catalog, implied permissions.

The engine takes one ``Platform`` instead of an API level and a catalog that had to
match it. ``platform_for`` loads each level once per process: the catalog is a 336 KB
JSON file and the tables are read from disk, which a batch of thousands of apps must not
repeat per app.
"""

from __future__ import annotations

from functools import cache

from permaudit._infra.records import record
from permaudit.android.catalog import NEWEST_API_LEVEL, Catalog
from permaudit.android.foreground_services import ServiceTypeTable, service_type_table
from permaudit.android.implied import ImpliedRule, load_rules


@record
class Platform:
    """Android at one API level: what its permissions are and what it adds to old apps."""

    catalog: Catalog
    implied_rules: tuple[ImpliedRule, ...]
    #: What each foreground-service type needs before Android lets it start.
    service_types: ServiceTypeTable

    @property
    def api_level(self) -> int:
        """The device API level (the catalog's)."""
        return self.catalog.api_level


@cache
def platform_for(api_level: int = NEWEST_API_LEVEL) -> Platform:
    """The platform of API ``api_level`` (1..``NEWEST_API_LEVEL``), loaded once per process.

    Raises ``PermauditError`` for a level outside the catalog's range.
    """
    return Platform(catalog=Catalog.for_api_level(api_level), implied_rules=load_rules(),
                    service_types=service_type_table())
