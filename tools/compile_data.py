"""Write the precompiled copies of the shipped YAML data (``make compiled``).

Each data owner declares its ``ShippedData``; this script reads each from its YAML (fully
validated) and writes the copy a scan reads while the YAML bytes still match it. It is a
development tool, not part of the runtime package; tests/datafiles/test_compiled.py checks
that the committed copies are current.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from permaudit.android import catalog, foreground_services, implied
from permaudit.datafiles.compiled import ShippedData, compiled_text
from permaudit.knowledge import code_evidence, domains, trackers
from permaudit.rules import ruleset


def shipped() -> Iterator[tuple[ShippedData, Callable[[], object]]]:
    """Every shipped data set with the function that reads it from its YAML."""
    yield ruleset.shipped_default_data(), lambda: ruleset.load_ruleset(compiled=False)
    yield implied.shipped_data(), lambda: implied.read_rules(implied.RULES_FILE)
    yield foreground_services.shipped_data(), lambda: foreground_services.read_table(
        foreground_services.TYPES_FILE
    )
    yield catalog.shipped_known_data(), lambda: catalog.read_known_permissions(catalog.KNOWN_FILE)
    yield trackers.shipped_data(), trackers.read_table
    yield domains.shipped_owner_data(), domains.read_owner_rows
    yield code_evidence.shipped_data(), code_evidence.read_table


def render_all() -> dict[ShippedData, str]:
    """The text each compiled copy should hold, from the YAML read and validated now."""
    return {data: compiled_text(data, read()) for data, read in shipped()}


def main() -> None:
    """Regenerate every compiled copy whose text differs."""
    for data, text in render_all().items():
        if not data.compiled.is_file() or data.compiled.read_text(encoding="utf-8") != text:
            data.compiled.write_text(text, encoding="utf-8")
            print(f"wrote {data.compiled}")


if __name__ == "__main__":
    main()
