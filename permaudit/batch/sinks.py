"""Where a batch's results go: JSON Lines or Parquet, never left partial.

A sink writes to a temporary file beside the target and renames it over the target only
when the run ends (``commit``); a run that stops early leaves the old file (or none).
With ``--resume`` the previous file's entries are copied first and their inputs skipped.

Parquet schema (``PARQUET_SCHEMA_VERSION`` in the file's key-value metadata
``permaudit.schema_version``), one row per input, in the order the rows were written:

==================  ====================  =============================================
column              type                  meaning
==================  ====================  =============================================
path                string                the input path as given
kind                string                input kind (apk, aab, apks, xapk, ...); null
                                          for an error row
size                int64                 file size in bytes
sha256              string                only with ``--hash``
package             string                manifest package
label               string                the app label (``--locale``), null if none
version_code        int64
version_name        string
min_sdk, target_sdk int32                 null: unknown (source manifest without levels)
installable         bool                  min_sdk <= the device level; null when unknown
risk_score          int32                 0..100
risk_level          string
permissions         list<string>          requested permission names
capabilities        list<string>          capability ids reached
findings            list<string>          rule ids that fired (one per finding)
error               string                error class, null when the input was read
error_message       string                its one-line message
==================  ====================  =============================================
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

from permaudit.errors import PermauditError, UsageError

PARQUET_SCHEMA_VERSION = 1
_ROW_GROUP = 1024


def resume_key(entry: dict[str, Any], by_hash: bool) -> str | None:
    """What identifies an already-scanned input: path and size, or its SHA-256.

    Error entries have no key: failed inputs are tried again on resume.
    """
    if "error" in entry and entry.get("error"):
        return None
    info = entry.get("input", entry)
    if by_hash:
        digest = info.get("sha256")
        return f"sha256:{digest}" if digest else None
    return f"{info.get('path')}\0{info.get('size')}"


class _AtomicFile:
    """A temporary file beside ``target``, renamed over it on ``commit``."""

    def __init__(self, target: Path, binary: bool) -> None:
        self.target = target
        directory = target.parent if str(target.parent) else Path(".")
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
        except OSError as exc:
            raise PermauditError(f"cannot write: {exc.strerror}", path=str(target)) from None
        self.handle: IO[Any] = (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        )

    def commit(self) -> None:
        try:
            self.handle.close()
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)
            os.replace(self.tmp, self.target)
        except OSError as exc:
            self.abort()
            raise PermauditError(f"cannot write: {exc.strerror}", path=str(self.target)) from None

    def abort(self) -> None:
        if not self.handle.closed:
            self.handle.close()
        Path(self.tmp).unlink(missing_ok=True)


class JsonlSink:
    """JSON Lines to a file (atomically) or, when ``target`` is None, to stdout as it goes."""

    def __init__(self, target: Path | None) -> None:
        self._file = None if target is None else _AtomicFile(target, binary=False)

    def previous(self, target: Path) -> list[dict[str, Any]]:
        """The entries of an existing output, copied into the new one (for resume)."""
        entries = []
        with open(target, encoding="utf-8") as handle:
            for number, text in enumerate(handle, 1):
                if not text.strip():
                    continue
                try:
                    entries.append(json.loads(text))
                except ValueError:
                    raise UsageError(
                        f"{target}:{number}: not JSON Lines; cannot resume from it"
                    ) from None
        return entries

    def write(self, entry: dict[str, Any]) -> None:
        from permaudit.formatters.json.jsonl import line

        stream = sys.stdout if self._file is None else self._file.handle
        stream.write(line(entry))
        if self._file is None:
            stream.flush()

    def commit(self) -> None:
        if self._file is not None:
            self._file.commit()

    def abort(self) -> None:
        if self._file is not None:
            self._file.abort()


def _pyarrow() -> Any:
    import importlib

    try:  # by name: pyarrow is an optional extra without type information
        pyarrow = importlib.import_module("pyarrow")
        importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise UsageError(
            "Parquet output needs pyarrow: pip install 'permaudit[parquet]'"
        ) from None
    return pyarrow


def parquet_schema() -> Any:
    """The Arrow schema of a batch's Parquet file (see the module docstring)."""
    pa = _pyarrow()
    strings = pa.list_(pa.string())
    return pa.schema(
        [
            ("path", pa.string()), ("kind", pa.string()), ("size", pa.int64()),
            ("sha256", pa.string()), ("package", pa.string()), ("label", pa.string()),
            ("version_code", pa.int64()),
            ("version_name", pa.string()), ("min_sdk", pa.int32()), ("target_sdk", pa.int32()),
            ("installable", pa.bool_()), ("risk_score", pa.int32()), ("risk_level", pa.string()),
            ("permissions", strings), ("capabilities", strings), ("findings", strings),
            ("error", pa.string()), ("error_message", pa.string()),
        ],
        metadata={"permaudit.schema_version": str(PARQUET_SCHEMA_VERSION)},
    )


def parquet_row(entry: dict[str, Any]) -> dict[str, Any]:
    """One JSON entry (app or error) as a row of the Parquet schema."""
    if "package" not in entry:
        return {"path": entry.get("path"), "error": entry.get("error"),
                "error_message": entry.get("message")}
    info = entry["input"]
    return {
        "path": info["path"], "kind": info["kind"], "size": info["size"],
        "sha256": info["sha256"], "package": entry["package"], "label": entry.get("label"),
        "version_code": entry["version_code"], "version_name": entry["version_name"],
        "min_sdk": entry["min_sdk"], "target_sdk": entry["target_sdk"],
        "installable": entry["installable"], "risk_score": entry["risk"]["score"],
        "risk_level": entry["risk"]["level"],
        "permissions": [p["name"] for p in entry["permissions"]],
        "capabilities": [c["id"] for c in entry["capabilities"]],
        "findings": [f["rule"] for f in entry["findings"]],
    }


class ParquetSink:
    """Parquet, one row per input, written in row groups so memory stays bounded."""

    def __init__(self, target: Path) -> None:
        pa = _pyarrow()
        self._pa = pa
        self._schema = parquet_schema()
        self._file = _AtomicFile(target, binary=True)
        self._writer = pa.parquet.ParquetWriter(self._file.handle, self._schema)
        self._rows: list[dict[str, Any]] = []

    def previous(self, target: Path) -> list[dict[str, Any]]:
        table = self._pa.parquet.read_table(target)
        if table.schema.metadata.get(b"permaudit.schema_version") != str(
            PARQUET_SCHEMA_VERSION
        ).encode():
            raise UsageError(f"{target}: not a permaudit batch file of this schema version")
        return [
            {**row, "input": {"path": row["path"], "size": row["size"], "sha256": row["sha256"]},
             "_row": row}
            for row in table.to_pylist()
        ]

    def write(self, entry: dict[str, Any]) -> None:
        self._rows.append(entry["_row"] if "_row" in entry else parquet_row(entry))
        if len(self._rows) >= _ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(self._pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def commit(self) -> None:
        self._flush()
        self._writer.close()
        self._file.commit()

    def abort(self) -> None:
        self._file.abort()
