"""The examples in docs/api.md and docs/batch.md run as written (doctest, repository root)."""

from __future__ import annotations

import doctest
import importlib.util
import sys

import pytest

import permaudit
from conftest import REPO


def _run(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    failures, tried = doctest.testfile(
        str(REPO / "docs" / name), module_relative=False, optionflags=doctest.ELLIPSIS,
        verbose=False, report=True,
    )
    assert tried > 0
    assert failures == 0


def test_api_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    _run("api.md", monkeypatch)


def test_batch_duckdb_example(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("duckdb", "pyarrow"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    _run("batch.md", monkeypatch)


def test_import_permaudit_does_not_import_the_api() -> None:
    import subprocess

    code = "import sys, permaudit; print('permaudit.api' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert callable(permaudit.scan)
    with pytest.raises(AttributeError):
        permaudit.no_such_function  # noqa: B018
