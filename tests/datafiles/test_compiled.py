"""The precompiled copy of the shipped YAML: current, equal to the YAML, ignored once stale."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, TESTS
from permaudit._infra.records import record, replace
from permaudit.android import catalog, implied
from permaudit.datafiles import compiled
from permaudit.datafiles.origin import Origin
from permaudit.errors import PermauditError, RulesError
from permaudit.model import Severity
from permaudit.rules import ruleset as ruleset_module
from permaudit.rules.model import AppFlags, RuleSet
from permaudit.rules.ruleset import compiled_default_ruleset, default_ruleset_paths, load_ruleset
from tools.compile_data import render_all

RULES_DATA = TESTS / "data" / "rules"


def outcome(*paths: Path, compiled_default: bool) -> str:
    """The loaded ruleset's repr (every field, uncompared ones too) or its diagnostics."""
    try:
        return repr(load_ruleset(paths, compiled=compiled_default))
    except RulesError as error:
        return "\n".join(error.diagnostics)


def copy_rules(directory: Path) -> tuple[Path, ...]:
    """The default rule files copied, byte for byte, into ``directory``."""
    directory.mkdir(parents=True)
    return tuple(Path(shutil.copy(path, directory)) for path in default_ruleset_paths())


# --- the committed file ---------------------------------------------------------------------


@pytest.mark.parametrize("data", list(render_all()), ids=lambda d: d.compiled.name)
def test_committed_compiled_copy_is_current(data: compiled.ShippedData) -> None:
    assert data.compiled.read_text(encoding="utf-8") == render_all()[data], (
        f"{data.compiled.relative_to(REPO)} is stale: a shipped YAML file or a record "
        "class changed; run `make compiled` and commit the result"
    )


def test_every_entry_is_used_as_shipped() -> None:
    # Not a silent fallback to YAML: each entry matches today's sources and classes.
    rules = default_ruleset_paths()
    assert isinstance(compiled_default_ruleset(rules), RuleSet)
    value = compiled.load(implied.shipped_data())
    assert isinstance(value, tuple)
    assert value
    value = compiled.load(catalog.shipped_known_data())
    assert isinstance(value, catalog.KnownPermissions)


# --- compiled and YAML give the same values ---------------------------------------------------


def test_default_ruleset_compiled_equals_yaml() -> None:
    fast, slow = load_ruleset(), load_ruleset(compiled=False)
    assert fast == slow
    assert repr(fast) == repr(slow)  # also the fields == leaves out (all_capabilities origins)
    assert fast.sha256 == slow.sha256
    assert [f.sha256 for f in fast.files] == [f.sha256 for f in slow.files]
    assert fast.capability("microphone").origin == Origin(
        path=str(REPO / "rules" / "capabilities.yml"),
        line=slow.capability("microphone").origin.line,
        column=slow.capability("microphone").origin.column,
    )


def test_implied_rules_compiled_equal_yaml() -> None:
    fast, slow = implied.load_rules(), implied.load_rules(compiled=False)
    assert fast == slow
    assert repr(fast) == repr(slow)


def test_known_permissions_compiled_equal_yaml() -> None:
    fast = catalog.load_known_permissions()
    slow = catalog.load_known_permissions(compiled=False)
    assert fast == slow
    assert repr(fast) == repr(slow)


@pytest.mark.parametrize("path", sorted(RULES_DATA.glob("*.yml")), ids=lambda p: p.name)
def test_user_files_on_the_compiled_default_behave_as_on_yaml(path: Path) -> None:
    assert outcome(path, compiled_default=True) == outcome(path, compiled_default=False)


def test_user_files_in_order_on_the_compiled_default(tmp_path: Path) -> None:
    first = tmp_path / "a.yml"
    first.write_text("override:\n  - id: hardening.debuggable\n    severity: info\n")
    second = tmp_path / "b.yml"
    second.write_text("disable: [hardening.debuggable, capability.calendar]\n"
                      "override:\n  - id: capability.camera\n    severity: low\n")
    fast = load_ruleset([first, second])
    assert repr(fast) == repr(load_ruleset([first, second], compiled=False))
    assert {item.id for item in fast.disabled} == {"hardening.debuggable", "calendar"}
    assert fast.capability("camera").severity is Severity.LOW


def test_a_compiled_default_with_disabled_items_is_not_merged_onto(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Merging needs each disable's position, which a RuleSet does not keep: read the YAML.
    shipped = load_ruleset()
    disabling = replace(shipped, disabled=(shipped.capability("nfc"),))
    monkeypatch.setattr(ruleset_module, "compiled_default_ruleset", lambda paths: disabling)
    assert load_ruleset() is disabling
    extra = tmp_path / "x.yml"
    extra.write_text("disable: [exported.activity]\n")
    merged = load_ruleset([extra])
    assert {item.id for item in merged.disabled} == {"exported.activity"}
    assert repr(merged) == repr(load_ruleset([extra], compiled=False))


# --- stale entries fall back to the YAML ------------------------------------------------------


def test_edited_rule_file_is_read_as_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = load_ruleset()
    copies = copy_rules(tmp_path / "rules")
    hardening = tmp_path / "rules" / "hardening.yml"
    text = hardening.read_text(encoding="utf-8")
    assert text.count("title: Debuggable build") == 1
    hardening.write_text(text.replace("title: Debuggable build", "title: Debuggable!"),
                         encoding="utf-8")
    assert compiled_default_ruleset(copies) is None
    monkeypatch.setattr(ruleset_module, "default_ruleset_paths", lambda: copies)
    loaded = load_ruleset()
    assert loaded.rule("hardening.debuggable").title == "Debuggable!"
    assert loaded.rule("hardening.debuggable").origin.path == str(hardening)
    assert loaded.sha256 != shipped.sha256
    assert repr(loaded) == repr(load_ruleset(compiled=False))


def test_comment_only_edit_reads_yaml_with_the_same_digest(tmp_path: Path) -> None:
    copies = copy_rules(tmp_path / "rules")
    copies[0].write_text("# local note\n" + copies[0].read_text(encoding="utf-8"),
                         encoding="utf-8")
    assert compiled_default_ruleset(copies) is None
    assert load_ruleset(copies, include_default=False).sha256 == load_ruleset().sha256


def test_unchanged_copy_elsewhere_uses_compiled_with_its_own_paths(tmp_path: Path) -> None:
    # The installed wheel's case: same bytes in .../permaudit/_rules.
    copies = copy_rules(tmp_path / "permaudit" / "_rules")
    fast = compiled_default_ruleset(copies)
    assert fast is not None
    slow = load_ruleset(copies, include_default=False)
    assert repr(fast) == repr(slow)
    assert fast.files[0].path == str(copies[0])
    assert all(c.origin.path.startswith(str(tmp_path)) for c in fast.capabilities)


def test_edited_implied_table_is_read_as_yaml(tmp_path: Path) -> None:
    copy = tmp_path / "implied_permissions.yml"
    text = implied.RULES_FILE.read_text(encoding="utf-8")
    first = implied.load_rules()[0]
    assert text.count(f"id: {first.id}\n") == 1
    copy.write_text(text.replace(f"id: {first.id}\n", "id: renamed\n"), encoding="utf-8")
    assert compiled.load(implied.shipped_data(copy)) is None
    rules = implied.load_rules(copy)
    assert rules[0].id == "renamed"
    assert rules[1:] == implied.load_rules()[1:]


def test_edited_known_table_is_read_as_yaml(tmp_path: Path) -> None:
    copy = tmp_path / "benign_permissions.yml"
    text = catalog.KNOWN_FILE.read_text(encoding="utf-8")
    copy.write_text(text + "# a local comment\n", encoding="utf-8")
    assert compiled.load(catalog.shipped_known_data(copy)) is None
    assert catalog.load_known_permissions(copy) == catalog.load_known_permissions()
    copy.write_text(text + "permissions_typo: []\n", encoding="utf-8")
    with pytest.raises(PermauditError, match="unknown keys"):
        catalog.load_known_permissions(copy)


def test_changed_classes_make_an_entry_stale() -> None:
    types = (*implied.COMPILED_TYPES, AppFlags)
    data = replace(implied.shipped_data(), types=types)
    assert compiled.load(data) is None


def test_missing_source_or_compiled_file_gives_none(tmp_path: Path) -> None:
    absent = tmp_path / "absent.yml"
    data = implied.shipped_data()
    assert compiled.load(replace(data, sources=(absent,))) is None
    assert compiled.load(replace(data, compiled=absent)) is None


# --- the encoding ---------------------------------------------------------------------------


@record
class Sample:
    """Every kind of value the encoding knows."""

    text: str
    number: int
    flag: bool
    ratio: float
    nothing: None
    severity: Severity
    pairs: tuple[tuple[str, bool], ...]
    names: frozenset[str]
    where: Origin
    empty: tuple[str, ...] = ()


SAMPLE_TYPES = (Sample, Origin, Severity)


def test_encoding_round_trips_exact_types(tmp_path: Path) -> None:
    value = Sample(
        text="a \"quoted\" é", number=1, flag=True, ratio=0.5, nothing=None,
        severity=Severity.HIGH, pairs=(("x", False), ("y", True)),
        names=frozenset({"b", "a"}), where=Origin(path=str(tmp_path / "d" / "f.yml"), line=2,
                                                  column=3),
    )
    text = compiled._dumps(compiled.encode((value, value), SAMPLE_TYPES, tmp_path))
    assert str(tmp_path) not in text  # stored relative to the root
    moved = tmp_path / "elsewhere"
    back = compiled.decode(text, SAMPLE_TYPES, moved)
    assert isinstance(back, tuple)
    first = back[0]
    assert isinstance(first, Sample)
    assert first.where.path == str(moved / "d" / "f.yml")
    assert first.severity is Severity.HIGH
    assert first.flag is True
    assert type(first.number) is int
    assert first.pairs == (("x", False), ("y", True))
    assert isinstance(first.pairs[0], tuple)
    assert first.names == frozenset({"a", "b"})
    # == compares every field of Sample (repr could list the frozenset in another order).
    assert compiled.decode(text, SAMPLE_TYPES, tmp_path) == (value, value)


@pytest.mark.parametrize("value", [[1, 2], {"a": 1}, {1}, b"x"], ids=repr)
def test_values_that_would_not_round_trip_are_refused(value: object) -> None:
    with pytest.raises(TypeError, match="cannot compile"):
        compiled.encode(value, SAMPLE_TYPES)


def test_a_record_class_not_listed_is_refused() -> None:
    with pytest.raises(TypeError, match="Origin is not among the compiled types"):
        compiled.encode(Origin(path="p", line=1, column=1), (Sample,))


# --- the scan never imports yaml ---------------------------------------------------------------


def test_scan_with_the_default_rules_does_not_import_yaml() -> None:
    code = (
        "import sys\n"
        "from permaudit.cli import main\n"
        f"code = main(['scan', '--format', 'json', {str(FIXTURES / 'apk' / 'max-25.8.1.apk')!r}])\n"
        "print(code, sorted(m for m in sys.modules if m == 'yaml' or m.startswith("
        "('yaml.', 'permaudit.rules.yaml_reader', 'permaudit.datafiles.yaml_nodes'))),"
        " file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, check=False)
    assert done.stderr.strip().splitlines()[-1] in ("0 []", "1 []"), done.stderr
    assert '"ruleset"' in done.stdout
