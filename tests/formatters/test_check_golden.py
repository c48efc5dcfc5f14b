"""Golden files for every ``permaudit check`` format and for ``permaudit rules list``.

Golden files live in tests/golden/check/ and tests/golden/rules/. After a deliberate
change to the ruleset, the gate or a formatter, regenerate them with
``PERMAUDIT_UPDATE_GOLDEN=1 pytest tests/formatters/test_check_golden.py`` and review the
diff like code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO
from permaudit.cli import main
from permaudit.formatters import CHECK_FORMATS, RULES_FORMATS

GOLDEN = REPO / "tests" / "golden"
UPDATE = os.environ.get("PERMAUDIT_UPDATE_GOLDEN") == "1"
#: Fixed so that a version bump does not rewrite every golden file.
GOLDEN_VERSION = "0.0.0-golden"
EXTENSION = {"table": "txt", "json": "json", "markdown": "md", "sarif": "sarif",
             "junit": "xml", "github": "github"}
APKS = ["max-25.8.1.apk", "signal-0036b8e2.apk"]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(REPO)
    monkeypatch.setattr("permaudit.app.__version__", GOLDEN_VERSION)
    code = main(argv)
    return code, capsys.readouterr().out


def _portable(text: str) -> str:
    """Output with the checkout's location taken out (CI clones it elsewhere).

    ``rules list`` names where each rule is defined by absolute path; the path's length
    also sets the width of the table's last column, so rulers and padding are folded too.
    """
    text = text.replace(str(REPO), "<repo>")
    text = re.sub(r"-{3,}", "---", text)
    return re.sub(r" +$", "", text, flags=re.MULTILINE)


def _check_golden(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with PERMAUDIT_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from the golden file; if intended, regenerate with "
        "PERMAUDIT_UPDATE_GOLDEN=1 and review the diff"
    )


def test_every_check_and_rules_format_has_a_golden() -> None:
    assert set(EXTENSION) == set(CHECK_FORMATS)
    assert set(RULES_FORMATS) == {"table", "json"}


@pytest.mark.parametrize("fmt", sorted(CHECK_FORMATS))
@pytest.mark.parametrize("apk", APKS)
def test_check_matches_golden(apk: str, fmt: str, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    relative = str((FIXTURES / "apk" / apk).relative_to(REPO))
    code, out = _run(["check", "-f", fmt, relative], capsys, monkeypatch)
    assert code in (0, 1)
    stem = apk.removesuffix(".apk")
    _check_golden(GOLDEN / "check" / f"{stem}.{EXTENSION[fmt]}", out)


@pytest.mark.parametrize("fmt", sorted(RULES_FORMATS))
def test_rules_list_matches_golden(fmt: str, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # Wide enough that no "defined at" path wraps: where it would wrap depends on how long
    # the checkout's path is (tests/formatters/test_text_width.py covers rules list at 80).
    monkeypatch.setenv("COLUMNS", "1000")
    code, out = _run(["rules", "list", "-f", fmt], capsys, monkeypatch)
    assert code == 0
    _check_golden(GOLDEN / "rules" / f"list.{'txt' if fmt == 'table' else 'json'}",
                  _portable(out))
