"""Property tests: any string from an input renders inert, in every format family."""

from __future__ import annotations

import json
import os
import re
import tempfile
import xml.dom.minidom
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from permaudit.cli import main
from permaudit.formatters.escape import markdown, terminal
from tests.hostile.test_hostile import CONTROL, _assert_markdown_inert, _manifest

NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40
).filter(lambda s: "\x00" not in s)


@given(st.text())
def test_terminal_leaves_no_control_character(text: str) -> None:
    out = terminal(text)
    assert not CONTROL.search(out)
    assert "\n" not in out and "\r" not in out and "\u2028" not in out
    if text.isprintable():
        assert out == text


@given(st.text())
def test_markdown_leaves_no_html_link_or_pipe(text: str) -> None:
    out = markdown(text)
    unescaped = re.sub(r"\\.", "", out)
    assert not any(ch in unescaped for ch in "<>[]|`*_&")


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "sarif", "junit", "github"])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(name=NAMES)
def test_check_renders_any_name_inert(fmt: str, name: str,
                                      capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        apk = Path(tmp) / "a.apk"
        apk.write_bytes(_manifest("com.p.app", "x." + name, "com.p.C" + name, name))
        code = main(["check", "--exit-zero", "-f", fmt, os.fspath(apk)])
    out_b, err_b = capsysbinary.readouterr()
    out = out_b.decode("utf-8")
    assert code in (0, 2), err_b
    if code == 2:
        assert err_b.decode().count("permaudit: error:") == 1
        return
    if fmt in ("json", "sarif"):
        assert json.loads(out)  # valid JSON whatever the name holds
        return
    assert not CONTROL.search(out)
    if fmt == "junit":
        xml.dom.minidom.parseString(out_b)  # noqa: S318  (our own output)
    if fmt == "markdown":
        _assert_markdown_inert(out)
    if fmt == "github":
        for line in out.splitlines():
            assert line.startswith("::") or not line.lstrip().startswith("::")
