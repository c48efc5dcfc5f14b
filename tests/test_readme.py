"""README.md and docs/*.md stay true: the demo block is what `permaudit compare` prints
today, and every example command and file in them runs as written."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO
from permaudit.cli import main

DEMO = ["max-25.8.1.apk", "whatsapp-2.24.24.78.apk", "telegram-11.13.0.apk"]


def capability_block(markdown: str, header: str = "| capability |") -> str:
    """A table of a markdown comparison (from its header row to its end)."""
    start = markdown.index(header)
    return markdown[start : markdown.index("\n\n", start)].strip()


def test_readme_demo_block_is_the_real_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    paths = [str((FIXTURES / "apk" / name).relative_to(REPO)) for name in DEMO]
    assert main(["compare", "--format", "markdown", *paths]) == 0
    out = capsys.readouterr().out
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for header in ("| capability |", "| in the code |"):
        produced = capability_block(out, header)
        readme = capability_block(text, header)
        assert readme == produced, f"README.md's {header} block is stale: paste the new output"


def test_readme_shows_the_two_commands() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make demo" in text
    assert "make test" in text


def test_readme_scan_excerpt_is_the_real_output(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("```\nWhatsApp Messenger (com.whatsapp) ") + len("```\n")
    excerpt = text[start : text.index("\n  ...\n```", start)]
    assert main(["scan", "fixtures/apk/whatsapp-2.24.24.78.apk"]) == 0
    assert capsys.readouterr().out.startswith(excerpt + "\n")


# --- every example in README.md and docs/*.md runs as written --------------------------------

#: Command lines in fenced blocks, as written: a shell line, a `$ ` prompt, a CI `run:` step.
COMMAND_LINE = re.compile(r"^\s*(?:\$ |- run: |- )?(permaudit .*?)\s*(?:#.*)?$")
#: Synopsis lines (placeholders such as APP..., [--flag], a|b) are grammar, not examples.
PLACEHOLDER = re.compile(r"\[|\||\.\.\.|\b(?:APP|OLD|NEW|DIR|FILE|PATH|HOST|N)\b")
#: The files the examples name, made from the fixtures (same package: an older release).
SANDBOX_FILES = {
    "app-release.apk": "max-26.19.2.apk",
    "last-release.apk": "max-25.8.1.apk",
}
DOCS = ["README.md", *sorted(f"docs/{p.name}" for p in (REPO / "docs").glob("*.md"))]


def fenced_blocks(name: str) -> list[tuple[str, str]]:
    """``(info string, body)`` of every fenced block of ``name`` (relative to the repo)."""
    text = (REPO / name).read_text(encoding="utf-8")
    return re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)


def command_examples(name: str) -> list[str]:
    """The ``permaudit ...`` example command lines of ``name``, in document order (not those
    of transcripts, whose output is checked by ``test_every_transcript_is_real``)."""
    commands = []
    for _, body in fenced_blocks(name):
        if body.startswith("$ "):
            continue
        for line in body.splitlines():
            match = COMMAND_LINE.match(line)
            if match and not PLACEHOLDER.search(match.group(1)):
                commands.append(match.group(1))
    return commands


def yaml_block(name: str, first_line: str) -> str:
    """The fenced YAML block of ``name`` that starts with ``first_line``."""
    blocks = [body for info, body in fenced_blocks(name) if body.startswith(first_line)]
    assert len(blocks) == 1, f"{name}: expected one block starting with {first_line!r}"
    return blocks[0]


def test_the_example_finder_finds_the_documented_commands() -> None:
    found = {name: command_examples(name) for name in DOCS}
    assert "permaudit check app-release.apk --against last-release.apk" in found["docs/ci.md"]
    assert "permaudit baseline create app-release.apk -o permaudit-baseline.json" in found[
        "docs/ci.md"
    ]
    assert found["README.md"] == []  # README's command is a transcript
    assert not any(PLACEHOLDER.search(c) for cs in found.values() for c in cs)


@pytest.mark.parametrize("name", DOCS)
def test_every_documented_command_runs_as_written(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each command in a directory holding the files the page names, in page order.

    ci.md's `.permaudit.yml` (with the `ci-rules.yml` it names) is the policy every
    `check` there reads; batch.md's list is `apks.txt`. A command may find policy
    failures (exit 1); it must never be a usage or input error (2) or a bug (3).
    """
    for target, fixture in SANDBOX_FILES.items():
        shutil.copy(FIXTURES / "apk" / fixture, tmp_path / target)
    if name == "docs/ci.md":
        (tmp_path / ".permaudit.yml").write_text(yaml_block(name, "version: 1"), "utf-8")
        (tmp_path / "ci-rules.yml").write_text(yaml_block(name, "ruleset: acme-ci"), "utf-8")
    if name == "docs/batch.md":
        (tmp_path / "apks.txt").write_text("app-release.apk\nlast-release.apk\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    for command in command_examples(name):
        if ".parquet" in command and importlib.util.find_spec("pyarrow") is None:
            continue  # the optional extra `permaudit[parquet]` (the page says so)
        code = main(shlex.split(command)[1:])
        out, err = capsys.readouterr()
        assert code in (0, 1), f"{name}: `{command}` exited {code}: {err}"
        assert "error:" not in err, f"{name}: `{command}`: {err}"
        assert code == 0 or "FAIL" in err, f"{name}: `{command}` exited 1 without a verdict"
        written = {"-o", "--output"} & set(shlex.split(command))
        assert out or written, f"{name}: `{command}` printed no report"


def test_ci_policy_example_passes_validation_as_pasted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The policy and its rule file, pasted verbatim: loaded without a diagnostic."""
    (tmp_path / ".permaudit.yml").write_text(yaml_block("docs/ci.md", "version: 1"), "utf-8")
    (tmp_path / "ci-rules.yml").write_text(
        yaml_block("docs/ci.md", "ruleset: acme-ci"), "utf-8"
    )
    shutil.copy(FIXTURES / "apk" / "whatsapp-2.24.24.78.apk", tmp_path / "app.apk")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "app.apk", "--format", "json"]) == 1
    out, err = capsys.readouterr()
    failing = {
        item["rule"]
        for item in json.loads(out)["apps"][0]["check"]["items"]
        if item["status"] == "fail"
    }
    assert "acme.no_sms" in failing  # the example's own rule is in force
    assert "error:" not in err


def test_the_documented_missing_rule_file_message_is_what_check_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".permaudit.yml").write_text(yaml_block("docs/ci.md", "version: 1"), "utf-8")
    shutil.copy(FIXTURES / "apk" / "max-25.8.1.apk", tmp_path / "app.apk")
    monkeypatch.chdir(tmp_path)
    assert main(["check", "app.apk"]) == 2
    err = capsys.readouterr().err.strip()
    documented = " ".join((REPO / "docs" / "ci.md").read_text(encoding="utf-8").split())
    assert err.startswith(".permaudit.yml:18:11: error: rules.files: cannot read 'ci-rules.yml'")
    assert f"`{err}`" in documented


def transcripts(name: str) -> list[list[tuple[str, list[str]]]]:
    """Blocks written as a terminal session: ``(command, output lines)`` per ``$ `` prompt."""
    sessions = []
    for _, body in fenced_blocks(name):
        if not body.startswith("$ "):
            continue
        steps: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
        sessions.append(steps)
    return sessions


@pytest.mark.parametrize("name", DOCS)
def test_every_transcript_is_real(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``$ cat FILE`` writes FILE as shown; ``$ permaudit ...`` prints exactly what is shown."""
    monkeypatch.chdir(tmp_path)
    for session in transcripts(name):
        for command, shown in session:
            args = shlex.split(command)
            if args[0] == "cat":
                Path(args[1]).write_text("\n".join(shown) + "\n", encoding="utf-8")
                continue
            assert args[0] == "permaudit", f"{name}: cannot replay `{command}`"
            code = main(args[1:])
            out, err = capsys.readouterr()
            assert (out + err).splitlines() == shown, f"{name}: `{command}` prints otherwise"
            assert code == (2 if "error:" in err else 0)


def test_readme_has_a_transcript() -> None:
    assert [cmd for session in transcripts("README.md") for cmd, _ in session] == [
        "cat typo.yml", "permaudit rules validate typo.yml"
    ]


def test_readme_rule_file_example_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "acme.yml").write_text(yaml_block("README.md", "ruleset: acme-policy"), "utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["rules", "validate", "acme.yml"]) == 0
    assert "error" not in capsys.readouterr().err
