"""atheris harness: arbitrary bytes as an input file through ``sources.apk.load``.

Covers the zip reader, tamper evidence, the AXML decoder, the manifest semantics and the
signer-identity reader. A ``PermauditError`` is the expected answer to a bad file; any
other exception, a hang
(libFuzzer ``-timeout``) or a memory blow-up (``-rss_limit_mb``) is a crash. Run through
``make fuzz`` (see fuzz/README.md); seeds: corpus ``apk/``, ``malformed/``, ``axml/``.
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["permaudit"]):
    from permaudit.errors import PermauditError
    from permaudit.inputs.apk import load

_PATH = os.path.join(
    "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),  # noqa: S108
    f"permaudit-fuzz-load-{os.getpid()}.apk",
)


def test_one_input(data: bytes) -> None:
    """Write ``data`` to a scratch file and load it: an App or a PermauditError."""
    with open(_PATH, "wb") as handle:
        handle.write(data)
    try:
        app = load(_PATH)
    except PermauditError:
        return
    if not app.manifest.package or app.input.size != len(data):
        raise AssertionError(f"inconsistent App: {app.manifest.package!r} {app.input.size}")
    if app.signing is not None and not all(s.certificates for s in app.signing.signers):
        raise AssertionError("a signer without certificates")


def seeds() -> list[str]:
    """Corpus files to seed the run with (``fuzz/run.py`` copies them)."""
    from _common import corpus_inputs

    return [str(p) for p in corpus_inputs("apk", "malformed", "axml")]


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    try:
        atheris.Fuzz()
    finally:
        if os.path.exists(_PATH):
            os.unlink(_PATH)


if __name__ == "__main__":
    main()
