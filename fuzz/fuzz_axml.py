"""atheris harness: arbitrary bytes through ``parse_axml`` and ``parse_manifest``.

Exercises the binary-XML decoder (chunks, string pools, attributes, tamper evidence) and
the package-parser semantics on whatever tree comes out. A ``ManifestError`` is the
expected answer; anything else is a crash. Seeds: corpus ``axml/`` plus the
``AndroidManifest.xml`` of every small corpus APK (extracted by ``fuzz/run.py``).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["permaudit"]):
    from permaudit.errors import PermauditError
    from permaudit.inputs.binary import axml
    from permaudit.inputs.manifest import parse_manifest


def test_one_input(data: bytes) -> None:
    """Decode ``data`` (tree and tamper evidence); a Manifest or a PermauditError only."""
    try:
        decoded = axml.decode_axml(data)
        parse_manifest(decoded.root, with_lines=False)
    except PermauditError:
        return
    if not all(e.id.startswith("axml.") for e in decoded.evidence):
        raise AssertionError(f"evidence outside axml.*: {decoded.evidence}")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
