"""atheris harness: arbitrary bytes as an input file through ``inputs.kinds.load``.

Every container kind the one zip reader serves: APKs, ``.apks``/``.xapk`` split sets (their
member APKs read through windows and spooled inflates), ``.aab`` bundles, zip64 end records
and extra fields, CRC checks. A ``PermauditError`` is the expected answer to a bad file;
any other exception, a hang (libFuzzer ``-timeout``) or a memory blow-up
(``-rss_limit_mb``) is a crash. Seeds: the small corpus ``bundles/`` and ``apk/`` files and
generated zip64 / wrong-CRC archives (``fuzz/run.py``).
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports(include=["permaudit"]):
    from permaudit.errors import PermauditError
    from permaudit.inputs.kinds import load

_PATH = os.path.join(
    "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),  # noqa: S108
    f"permaudit-fuzz-containers-{os.getpid()}.bin",
)


def test_one_input(data: bytes) -> None:
    """Write ``data`` to a scratch file and load it: an App or a PermauditError."""
    with open(_PATH, "wb") as handle:
        handle.write(data)
    try:
        app = load(_PATH, code=True)
    except PermauditError:
        return
    if app.input.size != len(data):
        raise AssertionError(f"inconsistent App size {app.input.size} != {len(data)}")
    if any(not e.id or not e.detail for e in app.tamper):
        raise AssertionError("tamper evidence without an id or detail")


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    try:
        atheris.Fuzz()
    finally:
        if os.path.exists(_PATH):
            os.unlink(_PATH)


if __name__ == "__main__":
    main()
