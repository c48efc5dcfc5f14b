"""Shared test fixtures: where the real corpus is, and where the project's fixtures are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
#: The tests directory: golden files, test data and regression inputs live under it.
TESTS = REPO / "tests"


def corpus_dir() -> Path:
    """The third-party corpus: ``$PERMAUDIT_CORPUS``, default ``../shared/corpus``."""
    return Path(os.environ.get("PERMAUDIT_CORPUS", REPO.parent / "shared" / "corpus"))


def corpus_files(subdir: str, pattern: str = "*") -> list[Path]:
    """Every corpus file under ``subdir`` matching ``pattern``, sorted; [] without a corpus."""
    base = corpus_dir() / subdir
    if not base.is_dir():
        return []
    return sorted(p for p in base.glob(pattern) if p.is_file())


@pytest.fixture
def corpus() -> Path:
    """The corpus directory; skips the test when it is not there."""
    path = corpus_dir()
    if not path.is_dir():
        pytest.skip(f"corpus not found at {path} (set PERMAUDIT_CORPUS)")
    return path


@pytest.fixture(autouse=True)
def _default_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables are laid out for 80 columns unless a test sets ``COLUMNS`` itself."""
    monkeypatch.delenv("COLUMNS", raising=False)
