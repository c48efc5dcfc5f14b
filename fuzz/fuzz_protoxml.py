"""atheris harness: arbitrary bytes through ``parse_proto_xml`` and ``parse_manifest``.

The App Bundle manifest decoder (aapt2's protobuf ``XmlNode``). A ``PermauditError`` is
the expected answer to bad input; anything else is a crash. Seeds: the
``base/manifest/AndroidManifest.xml`` (and feature modules') of the corpus ``.aab`` files.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["permaudit"]):
    from permaudit.errors import PermauditError
    from permaudit.inputs.binary.protoxml import parse_proto_xml
    from permaudit.inputs.manifest import parse_manifest


def test_one_input(data: bytes) -> None:
    """Decode ``data``; a Manifest or a PermauditError, nothing else."""
    try:
        parse_manifest(parse_proto_xml(data), with_lines=False)
    except PermauditError:
        return


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
