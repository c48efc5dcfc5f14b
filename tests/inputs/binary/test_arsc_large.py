"""A 20 MB resources.arsc resolves the few values a scan needs without decoding the table.

Work is counted, not timed: entries decoded (``TypeChunk.value``) and strings decoded
(``StringPool.get``) while building the index and resolving the label, a flag and an
integer. Indexing reads chunk headers only (one per type and configuration).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fixtures.arsc_writer import build_table
from permaudit.inputs.binary import arsc
from permaudit.inputs.resources import resolve

CONFIGS = ("", "ru", "de", "fr", "pt-BR")
ENTRIES = 200_000


@pytest.fixture(scope="module")
def big_table() -> bytes:
    """string app_name (0x7f010000); 200,000 integers in 5 configs (0x7f02xxxx, more than
    one type's 65,536 entries: four types); a bool (0x7f060000)."""
    types: dict[str, dict[str, dict[str, Any]]] = {
        "string": {"app_name": {"": "Big", "ru": "Большой"}},
    }
    per_type = 50_000
    for t in range(ENTRIES // per_type):
        types[f"integer{t}"] = {
            f"i{t}_{n}": {config: n for config in CONFIGS} for n in range(per_type)
        }
    types["bool"] = {"debug": {"": True}}
    return build_table(types)


def _counting(monkeypatch: pytest.MonkeyPatch, cls: type, name: str) -> list[int]:
    calls = [0]
    original: Callable[..., Any] = getattr(cls, name)

    def counted(self: Any, *args: Any) -> Any:
        calls[0] += 1
        return original(self, *args)

    monkeypatch.setattr(cls, name, counted)
    return calls


def test_twenty_megabytes_resolve_a_few_values_only(
    big_table: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(big_table) >= 20 * 1000 * 1000
    entries = _counting(monkeypatch, arsc.TypeChunk, "value")
    strings = _counting(monkeypatch, arsc.StringPool, "get")
    table = arsc.ResourceTable(big_table)
    assert entries[0] == 0  # the index holds headers, no entry
    assert resolve(table, 0x7F010000, "ru").value == "Большой"
    assert resolve(table, 0x7F010000).value == "Big"
    assert resolve(table, 0x7F060000).value is True
    assert resolve(table, 0x7F03C34F, "de").value == 49_999
    # At most one decode per configuration chunk of each type asked for (2 + 5 + 1 + 5).
    assert entries[0] <= 2 + 5 + 1 + 5 + 2
    assert strings[0] <= 4
