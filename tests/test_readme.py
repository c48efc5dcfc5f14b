"""README.md stays true: its demo block is what `permaudit compare` prints today."""

from __future__ import annotations

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
    start = text.index("```\ncom.whatsapp ") + len("```\n")
    excerpt = text[start : text.index("\n  ...\n```", start)]
    assert main(["scan", "fixtures/apk/whatsapp-2.24.24.78.apk"]) == 0
    assert capsys.readouterr().out.startswith(excerpt + "\n")
