"""Where something was written in a source file: ``path:line:column``."""

from __future__ import annotations

from permaudit._infra.records import record


@record
class Origin:
    """Where something was written: ``path:line:column`` (both 1-based)."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"
