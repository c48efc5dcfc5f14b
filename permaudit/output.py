"""Writing a rendered report: to standard output, or to a file, never destroying what is there.

The rules (docs/security.md, "Output safety"):

- ``None`` or ``-`` is standard output.
- An existing target that is not a regular file (a device such as ``/dev/null`` or
  ``/dev/stdout``, a FIFO) is written through, never replaced: replacing it as root would
  turn ``/dev/null`` into a regular file for the whole container.
- A symlink is followed: the file it points to is replaced atomically and the link stays.
- A regular file is replaced atomically (a temporary file in the target's directory, then
  ``os.replace``); the temporary file is removed on every failure path, Ctrl-C included.
- A target that is one of the command's inputs is refused before anything is written.
- Text is encoded as UTF-8 with ``backslashreplace``: a non-UTF-8 file name (decoded by
  Python with ``surrogateescape``, e.g. byte 0xff as U+DCFF) appears as ``\\udcff``. In
  JSON and SARIF that is the JSON escape of the same code point, so ``json.loads`` and
  ``os.fsencode`` give back the original bytes: lossless, valid UTF-8, and visible.
- Every OS error (a full disk, ``/dev/full``, a read-only directory) is a PermauditError:
  one line, exit 2.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

from permaudit.errors import PermauditError, UsageError


def is_stdout(output: Path | str | None) -> bool:
    """``None`` and ``-`` both mean standard output."""
    return output is None or str(output) == "-"


def use_color(output: Path | None) -> bool:
    """Colour only on a terminal, and only when ``NO_COLOR`` is unset."""
    return is_stdout(output) and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def text_width(output: Path | None) -> int:
    """Columns the terminal formats lay out for (docs: README, "Terminal width").

    ``COLUMNS`` when set to a positive number; else the terminal's width when the report
    goes to a terminal; else ``DEFAULT_WIDTH`` (80): a pipe or an ``-o`` file gets the
    same layout on every machine. Bounded to 40..1000 columns.
    """
    from permaudit.formatters.text.layout import DEFAULT_WIDTH, clamp_width

    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return clamp_width(int(columns))
    if is_stdout(output) and sys.stdout.isatty():
        import shutil

        return clamp_width(shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    return DEFAULT_WIDTH


def render(
    registry: dict[str, str], fmt: str, result: object, output: Path | None,
    *, color: bool | None = None,
) -> str:
    """``result`` in format ``fmt`` as it will be written to ``output``: in colour and as wide
    as the terminal when it goes to one (``use_color``, ``text_width``)."""
    from permaudit.formatters import renderer

    paint = use_color(output) if color is None else color
    return renderer(registry, fmt)(result, color=paint, width=text_width(output))


def encode(text: str) -> bytes:
    """UTF-8, with any lone surrogate (an undecodable file-name byte) shown as ``\\udcXX``."""
    return text.encode("utf-8", errors="backslashreplace")


def write_output(
    text: str, output: Path | None, *, inputs: Iterable[str | Path | None] = ()
) -> None:
    """Write ``text`` to ``output`` (or stdout) by the rules above; a failure is a PermauditError.

    ``inputs`` are the files the command read: writing over one of them is refused.
    """
    if not text.endswith("\n"):
        text += "\n"
    data = encode(text)
    if output is None or is_stdout(output):
        _write_stdout(data)
        return
    display = str(output)
    _refuse_inputs(output, inputs)
    try:
        st = os.stat(output)  # follows symlinks: the target is what matters
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise PermauditError(f"cannot write: {exc.strerror}", path=display) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise PermauditError("cannot write: is a directory", path=display)
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_through(data, output, display)
        return
    _replace_atomically(data, Path(os.path.realpath(output)), display)


def _write_stdout(data: bytes) -> None:
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    try:
        if buffer is None:  # a text-only stand-in (tests): it takes str
            stream.write(data.decode("utf-8"))
            stream.flush()
            return
        stream.flush()
        buffer.write(data)
        buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _drop_stdout()
        raise PermauditError(f"cannot write to standard output: {exc.strerror}") from None


def _drop_stdout() -> None:
    """After a failed write, point stdout at /dev/null so the exit-time flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real descriptor: nothing to flush
        pass


def _refuse_inputs(output: Path, inputs: Iterable[str | Path | None]) -> None:
    try:
        out_st = os.stat(output)
    except OSError:
        out_st = None
    out_real = os.path.realpath(output)
    for item in inputs:
        if item is None or str(item) == "-":
            continue
        same = os.path.realpath(item) == out_real
        if not same and out_st is not None and stat.S_ISREG(out_st.st_mode):
            try:
                in_st = os.stat(item)
            except OSError:
                continue
            same = (in_st.st_dev, in_st.st_ino) == (out_st.st_dev, out_st.st_ino)
        if same:
            raise UsageError(
                f"the output file is also an input ({item}); choose another -o path",
                path=str(output),
            )


def _write_through(data: bytes, output: Path, display: str) -> None:
    """A device or FIFO: open it for writing and write, never unlink or replace it."""
    try:
        with open(output, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise PermauditError(f"cannot write: {exc.strerror}", path=display) from None


def _replace_atomically(data: bytes, target: Path, display: str) -> None:
    import tempfile  # only when writing a file: it costs ~4 ms at start-up

    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    except OSError as exc:
        raise PermauditError(f"cannot write: {exc.strerror}", path=display) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        # mkstemp creates 0600; give the report the mode any new file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException as exc:  # Ctrl-C included: never leave the temporary file
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise PermauditError(f"cannot write: {exc.strerror}", path=display) from None
        raise
