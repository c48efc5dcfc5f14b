"""The layering the README and docs/architecture.md promise, checked on every import statement.

The flow is input -> App -> rules -> Report -> views -> formats: each package may import
the ones before it, never the ones after, and no module or package imports itself in a
circle (also through imports inside functions, which hide cycles rather than remove them).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

from conftest import REPO

PACKAGE = REPO / "permaudit"
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {module_name(p): p for p in MODULES}


def imported(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports (also inside functions and TYPE_CHECKING)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # ``from permaudit.inputs import apk`` imports the submodule apk too.
            names.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if f"{node.module}.{alias.name}" in NAMES
            )
    return names


def own_imports(path: Path) -> set[str]:
    """The permaudit modules ``path`` imports, each resolved to a module that exists."""
    found = set()
    for name in imported(path):
        while name and name not in NAMES:
            name = name.rpartition(".")[0]
        if name.startswith("permaudit") and name != module_name(path):
            found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    return {name: own_imports(path) for name, path in NAMES.items()}


def package_of(name: str) -> str:
    """The first-level package a module belongs to (``permaudit.inputs.binary.axml`` -> inputs)."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else ""


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one node (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def importers_of(prefix: str) -> set[str]:
    return {
        module_name(p)
        for p in MODULES
        if any(n == prefix or n.startswith(prefix + ".") for n in imported(p))
    }


def under(names: Iterable[str], *prefixes: str) -> set[str]:
    return {n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes)}


def test_the_modules_were_found() -> None:
    assert "permaudit.cli" in NAMES
    assert "permaudit.engine.evaluate" in NAMES
    assert "permaudit.inputs.binary.ziparchive" in NAMES


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules() -> None:
    assert cycles(graph()) == []


def test_no_import_cycle_between_packages() -> None:
    edges: dict[str, set[str]] = {}
    for source, targets in graph().items():
        edges.setdefault(package_of(source), set()).update(
            package_of(t) for t in targets if package_of(t) != package_of(source)
        )
    # The top-level modules (errors, model, output, app, __init__) are their own nodes.
    assert cycles(edges) == []


#: Layers in flow order; a module may import only its own layer and the ones listed before
#: it (``permaudit.model``, ``errors`` and ``_infra`` are shared by all).
LAYERS = (
    ("_infra", "version", "errors", "model", "datafiles"),
    ("android", "knowledge"),
    ("inputs",),
    ("rules",),
    ("engine",),
    ("views", "ci"),
    ("formatters",),
    ("output", "app", "batch"),
    ("cli", "__main__"),
)


def layer_of(name: str) -> int:
    top = package_of(name) or "__init__"
    for number, layer in enumerate(LAYERS):
        if top in layer:
            return number
    return len(LAYERS)  # permaudit/__init__.py: the lazy public API, above everything


def test_imports_follow_the_flow() -> None:
    backwards = sorted(
        f"{source} imports {target}"
        for source, targets in graph().items()
        for target in targets
        if layer_of(target) > layer_of(source) and source != "permaudit"
    )
    assert backwards == []


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


@pytest.mark.parametrize("pure", ["permaudit.engine", "permaudit.views", "permaudit.ci.gate"])
def test_pure_layers_do_not_reach_for_inputs_or_the_cli(pure: str) -> None:
    for name in under(NAMES, pure):
        names = imported(NAMES[name])
        assert not under(names, "permaudit.cli", "permaudit.inputs", "permaudit.app", "click"), name


def test_formatters_do_no_io() -> None:
    for name in under(NAMES, "permaudit.formatters"):
        path = NAMES[name]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert not calls & {"open", "print", "input"}, name
        assert not under(imported(path), "permaudit.cli", "permaudit.inputs", "permaudit.app"), name


def test_every_package_says_its_job_in_one_line() -> None:
    for path in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc, path
        assert "\n" not in doc.split("\n\n")[0], path


#: Modules still being split (issue 9); each entry goes when its module is split or explained.
SPLIT_PENDING: frozenset[str] = frozenset()


def test_no_module_is_long_without_a_reason() -> None:
    # STYLE.md: no module over ~450 lines unless its header says why.
    long = sorted(
        module_name(p)
        for p in MODULES
        if len(p.read_text(encoding="utf-8").splitlines()) > 480
        and "Why this module is long" not in p.read_text(encoding="utf-8")
    )
    assert sorted(set(long) - SPLIT_PENDING) == []
    assert sorted(SPLIT_PENDING - set(long)) == [], "split now: remove it from SPLIT_PENDING"


def test_no_formatter_imports_another_commands_formatter() -> None:
    """Issue 9: check's text reused scan's module; shared parts live in family modules
    (``text/report.py``, ``text/layout.py``, ``html/common.py``), not in a command's."""
    commands = ("scan", "compare", "diff", "check", "rules", "jsonl")
    crossing = sorted(
        f"{source} imports {target}"
        for source, targets in graph().items()
        if source.startswith("permaudit.formatters.")
        for target in targets
        if target.startswith("permaudit.formatters.")
        and target.rsplit(".", 1)[-1] in commands
        and target.rsplit(".", 1)[-1] != source.rsplit(".", 1)[-1]
        and target.rsplit(".", 2)[-2] == source.rsplit(".", 2)[-2]
    )
    assert crossing == []


def test_every_package_ships_in_the_wheel() -> None:
    """setup.cfg lists packages by hand: a package missing there (``permaudit.batch`` once)
    is absent from the wheel while every test run from the source tree still passes."""
    import configparser

    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg", encoding="utf-8")
    declared = set(config["options"]["packages"].split())
    on_disk = {module_name(p) for p in PACKAGE.rglob("__init__.py")}
    assert sorted(on_disk - declared) == []


def _called(node: ast.AST, names: frozenset[str]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (func.id if isinstance(func, ast.Name)
            else func.attr if isinstance(func, ast.Attribute) else "") in names


def test_no_reader_drops_a_members_tamper_evidence() -> None:
    """``read_member`` and ``copy_member`` return the member's local-header, flag and CRC
    evidence: taking ``.data`` off the call, or discarding a copy's result, loses it (an
    edited resources.arsc or classes.dex went unreported that way)."""
    readers = frozenset({"read_member", "copy_member"})
    dropped = []
    for name, path in NAMES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr == "data"
                    and _called(node.value, readers)) or (
                    isinstance(node, ast.Expr) and _called(node.value, readers)):
                dropped.append(f"{name}:{node.lineno}")
    assert dropped == []
