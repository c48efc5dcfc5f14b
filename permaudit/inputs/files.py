"""Opening input files: one mapping of OS errors to messages, the regular-file check, the digest."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from permaudit.errors import InputError, PermauditError

_HASH_CHUNK = 1024 * 1024


@contextmanager
def reading(path: str) -> Iterator[None]:
    """Turn what can go wrong while reading ``path`` into an error that names it.

    OS errors become ``InputError`` with a plain message; a ``PermauditError`` raised
    without a path gets this one.
    """
    try:
        yield
    except PermauditError as exc:
        if exc.path is None:
            raise type(exc)(exc.detail, path=path) from exc.__cause__
        raise
    except FileNotFoundError:
        raise InputError("no such file", path=path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not an APK", path=path) from None
    except PermissionError:
        raise InputError("permission denied", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", path=path) from None


def regular_size(stream: BinaryIO) -> int:
    """The size of an open regular, non-empty file; ``InputError`` otherwise."""
    info = os.fstat(stream.fileno())
    if not stat.S_ISREG(info.st_mode):
        raise InputError("not a regular file")
    if info.st_size == 0:
        raise InputError("empty file")
    return info.st_size


def stream_sha256(stream: BinaryIO) -> str:
    """Hex SHA-256 of the whole stream, read from the start in 1 MiB chunks (constant memory)."""
    stream.seek(0)
    digest = hashlib.sha256()
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    while count := stream.readinto(view):  # type: ignore[attr-defined]
        digest.update(view[:count])
    return digest.hexdigest()


def open_regular(path: str) -> BinaryIO:
    """``open(path, "rb")`` after ``os.stat`` says it is a regular file.

    ``open`` of a FIFO blocks until a writer appears and a device never ends, so the type is
    checked first (a race that swaps the file in between is caught by ``regular_size``).
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO, socket or device"
        raise InputError(f"is {kind}, not a regular file", path=path)
    return open(path, "rb")  # the caller closes it
