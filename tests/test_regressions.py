"""Inputs that once crashed a reader (found by the fuzz/ harnesses) now end cleanly.

Each file in ``tests/regressions/`` is named ``<harness>-<what it exercises>.<ext>`` and is
run through that harness's target: the result must be a value or a ``PermauditError``.
``OUTCOMES`` records what each input must give now, and why it used to crash.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import TESTS
from permaudit.errors import PermauditError
from permaudit.inputs.apk import load
from permaudit.inputs.binary.axml import decode_axml
from permaudit.inputs.manifest import parse_manifest

HERE = TESTS / "regressions"
FILES = sorted(p for p in HERE.iterdir() if p.is_file())

#: File name -> (what the input now gives, why it crashed before the fix).
OUTCOMES = {
    "fuzz_load-signing-deeply-nested-certificate-name.apk": (
        "(unreadable)",
        "a v2 signer certificate whose subject holds 400 nested SEQUENCEs: asn1crypto "
        "recurses per level and raised RecursionError out of load()",
    ),
}


def _run(path: Path) -> str:
    """Feed ``path`` to its harness's target; a short description of the result."""
    harness = path.name.split("-", 1)[0]
    if harness == "fuzz_load":
        app = load(str(path))
        certificates = [c for s in (app.signing.signers if app.signing else ()) for c in
                        s.certificates]
        return ",".join(c.subject for c in certificates) or app.manifest.package
    if harness == "fuzz_axml":
        return parse_manifest(decode_axml(path.read_bytes()).root).package
    if harness == "fuzz_protoxml":
        from permaudit.inputs.binary.protoxml import parse_proto_xml

        return parse_manifest(parse_proto_xml(path.read_bytes())).package
    raise AssertionError(f"unknown harness prefix in {path.name}")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_regression_input_ends_cleanly(path: Path) -> None:
    expected, why = OUTCOMES[path.name]
    assert why
    try:
        result = _run(path)
    except PermauditError as exc:
        result = str(exc.detail)
    assert expected in result


def test_every_regression_input_is_described() -> None:
    assert {p.name for p in FILES} == set(OUTCOMES)
