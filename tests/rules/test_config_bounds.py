"""Hostile rules and policy files, generated here: each is one located error and exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from permaudit.cli import main
from permaudit.datafiles.yaml_nodes import MAX_DEPTH

RULE = "rules:\n  - id: x.y\n    title: t\n    severity: low\n    rationale: r\n"

HOSTILE = {
    # 9 levels of 9 aliases: 387 million leaves once expanded (before: >60 s, >1.5 GB).
    "alias_bomb": (
        'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
        + "".join(f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n"
                  for p, c in zip("abcdefgh", "bcdefghi", strict=True))
        + "rules: *i\n",
        "2:8", "aliases are not allowed",
    ),
    "recursive_anchor": ("rules: &r [*r]\n", "1:12", "aliases are not allowed"),
    "python_tag": ('rules: !!python/object/apply:os.system ["true"]\n', "1:8", "is not allowed"),
    "int_tag_on_word": ("version: !!int abc\nrules: []\n", "1:10", "'!!int' does not fit"),
    "bool_tag_on_word": ("rules: !!bool maybe\n", "1:8", "'!!bool' does not fit"),
    "complex_key": ("? [a, b]\n: c\nrules: []\n", "1:3", "mapping keys must be plain"),
    "nesting_1000": ("rules: " + "[" * 1000 + "]" * 1000 + "\n", "1:", "nested deeper"),
    "nesting_block": ("rules:\n" + "".join("  " * i + "- \n" for i in range(MAX_DEPTH + 5)),
                      f"{MAX_DEPTH + 1}:", "nested deeper"),
    "huge_int": ("version: " + "9" * 5000 + "\nrules: []\n", "1:10", "integer of 5000"),
    "spec_d": (RULE + '    message: "{subject:d}"\n', "6:14", "format spec or conversion"),
    "conversion_z": (RULE + '    message: "{subject!z}"\n', "6:14", "format spec or conversion"),
    "nested_spec": (RULE + '    message: "{subject:{0}}"\n', "6:14", "format spec"),
    "huge_width": (RULE + '    message: "{subject:>1500000000}"\n', "6:14", "format spec"),
}


def one_error(capsys: pytest.CaptureFixture[str], path: Path, where: str, text: str) -> None:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert any(f"{path}:{where}" in line and text in line for line in lines), err


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_rules_file_is_one_located_error(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body, where, text = HOSTILE[name]
    if name.startswith(("spec", "conversion", "nested_spec", "huge_width")):
        body += "    when: {app_flags: {debuggable: true}}\n"
    path = tmp_path / f"{name}.yml"
    path.write_text(body, encoding="utf-8")
    assert main(["rules", "validate", str(path)]) == 2
    one_error(capsys, path, where, text)


@pytest.mark.parametrize("name", ["alias_bomb", "python_tag", "nesting_1000", "huge_int"])
def test_hostile_policy_file_is_one_located_error(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body, where, text = HOSTILE[name]
    path = tmp_path / "policy.yml"
    path.write_text(body.replace("rules:", "allow:"), encoding="utf-8")
    apk = Path(__file__).parents[2] / "fixtures" / "apk" / "max-25.8.1.apk"
    assert main(["check", "--policy", str(path), str(apk)]) == 2
    one_error(capsys, path, where, text)


def test_fifo_and_device_as_rules_are_refused_without_blocking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "rules.yml"
    os.mkfifo(fifo)  # no writer: open() would block forever
    for path in (fifo, Path("/dev/zero")):
        assert main(["rules", "validate", str(path)]) == 2
        one_error(capsys, path, "1:1", "not a regular file")


def test_oversized_rules_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from permaudit.datafiles.config_file import CONFIG_MAX_BYTES

    path = tmp_path / "big.yml"
    path.write_text("# " + "x" * CONFIG_MAX_BYTES + "\nrules: []\n", encoding="utf-8")
    assert main(["rules", "validate", str(path)]) == 2
    one_error(capsys, path, "1:1", f"limited to {CONFIG_MAX_BYTES} bytes")


def test_at_most_max_shown_diagnostics_are_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from permaudit.datafiles.yaml_nodes import MAX_SHOWN

    path = tmp_path / "many.yml"
    path.write_text("rules:\n" + "- a\n" * (MAX_SHOWN + 100), encoding="utf-8")
    assert main(["rules", "validate", str(path)]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert len(lines) == MAX_SHOWN + 1
    assert lines[-1] == f"{path}:{MAX_SHOWN + 2}:3: error: 100 more errors not shown"
