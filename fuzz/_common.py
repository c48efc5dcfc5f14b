"""Shared pieces of the atheris harnesses: what counts as a crash, and seed collection."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

#: Seeds larger than this are left out (mutating megabytes makes every execution slow).
MAX_SEED = 128 * 1024


def corpus_dir() -> Path:
    """``$PERMAUDIT_CORPUS``, default ``../shared/corpus`` next to the checkout."""
    default = Path(__file__).resolve().parents[2] / "shared" / "corpus"
    return Path(os.environ.get("PERMAUDIT_CORPUS", default))


def corpus_inputs(*subdirs: str) -> Iterator[Path]:
    """Every corpus file under ``subdirs`` no larger than ``MAX_SEED``, sorted."""
    for subdir in subdirs:
        base = corpus_dir() / subdir
        if base.is_dir():
            for path in sorted(base.iterdir()):
                if path.is_file() and 0 < path.stat().st_size <= MAX_SEED:
                    yield path
