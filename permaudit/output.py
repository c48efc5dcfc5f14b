"""Writing a rendered report: to standard output, or to a file atomically."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from permaudit.errors import PermauditError


def use_color(output: Path | None) -> bool:
    """Colour only on a terminal, and only when ``NO_COLOR`` is unset."""
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def write_output(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` atomically, or to stdout; a failure is a PermauditError."""
    if not text.endswith("\n"):
        text += "\n"
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    import tempfile  # only when writing a file: it costs ~4 ms at start-up

    directory = output.parent if str(output.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=directory)
    except OSError as exc:
        raise PermauditError(f"cannot write: {exc.strerror}", path=str(output)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp creates 0600; give the report the mode any new file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, output)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PermauditError(f"cannot write: {exc.strerror}", path=str(output)) from None
