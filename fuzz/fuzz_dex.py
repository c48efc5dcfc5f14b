"""atheris harness: arbitrary bytes through ``read_dex`` and the lean ``read_dex_ids``.

Exercises the DEX header checks, the table bounds, MUTF-8 decoding and the string budget;
whenever ``read_dex`` reads the file, ``read_dex_ids`` must give its filtered answer.
A ``PermauditError`` (``DexError``) is the expected answer for bad input; anything else is
a crash. Every index of a parsed file must be in range. Seeds: the DEX writer's output and
the small ``classes*.dex`` of corpus APKs (extracted by ``fuzz/run.py``).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["permaudit"]):
    from permaudit.errors import PermauditError
    from permaudit.inputs.binary.dex import read_dex
    from permaudit.inputs.binary.dex_ids import DexIds, ids_of, read_dex_ids


def test_one_input(data: bytes) -> None:
    """Parse ``data``; a DexFile whose indices are all in range, or a PermauditError."""
    lean: DexIds | None
    try:
        lean = read_dex_ids(data)
    except PermauditError:
        lean = None
    try:
        parsed = read_dex(data)
    except PermauditError:
        return
    if lean != ids_of(parsed):
        raise AssertionError("read_dex_ids disagrees with read_dex")
    if parsed.size > len(data):
        raise AssertionError("file_size past the data")
    for cls, name in parsed.methods:
        if cls >= len(parsed.types) or name >= len(parsed.strings):
            raise AssertionError("method index out of range")
    if any(t >= len(parsed.types) for t in parsed.class_defs):
        raise AssertionError("class_def index out of range")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
