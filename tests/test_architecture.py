"""The layering the README promises, checked on the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "permaudit"
MODULES = sorted(PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every top-level-qualified module name ``path`` imports (also inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts)


def importers_of(prefix: str) -> set[str]:
    return {
        module_name(p)
        for p in MODULES
        if any(n == prefix or n.startswith(prefix + ".") for n in imported(p))
    }


def test_the_modules_were_found() -> None:
    assert PACKAGE / "cli" / "__init__.py" in MODULES
    assert PACKAGE / "engine.py" in MODULES


def test_click_only_in_the_cli_package() -> None:
    assert {m for m in importers_of("click") if not m.startswith("permaudit.cli")} == set()


def test_androguard_is_never_imported_at_run_time() -> None:
    # Its permission data is read as files (catalog.py finds them with find_spec): importing
    # androguard costs ~170 ms and 36 MiB and logs to stderr through loguru.
    assert importers_of("androguard") == set()
    assert importers_of("loguru") == set()


def test_dataclasses_are_not_used_at_run_time() -> None:
    # @dataclass compiles six methods per class at import (0.65 ms a class) and importing
    # dataclasses pulls in inspect: value classes are permaudit._infra.records records instead.
    assert importers_of("dataclasses") == set()


def test_tabulate_only_in_formatters() -> None:
    outside = {m for m in importers_of("tabulate") if not m.startswith("permaudit.formatters")}
    assert outside == set()


@pytest.mark.parametrize(
    "pure", ["permaudit.engine", "permaudit.compare", "permaudit.diff", "permaudit.gate"]
)
def test_pure_layers_do_not_reach_for_inputs_or_the_cli(pure: str) -> None:
    path = REPO / (pure.replace(".", "/") + ".py")
    names = imported(path)
    assert not any(n.startswith(("permaudit.cli", "permaudit.sources", "click")) for n in names)


def test_formatters_do_no_io() -> None:
    for path in sorted((PACKAGE / "formatters").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert not calls & {"open", "print", "input"}, path.name
        assert not any(n.startswith(("permaudit.cli", "permaudit.sources")) for n in imported(path))
