"""``permaudit batch``: scan many inputs file by file, in parallel, streamed to one output.

Order: the output is deterministic. Entries are written in input order (arguments in
the order given, each directory's files sorted as ``scan`` sorts them, a ``--from-list``
file in its order), whatever ``--jobs``: the pool's results are consumed in order
(``imap``), so memory holds at most a few chunks per worker. With ``--resume`` the
previous file's entries come first (unchanged), then the new ones in input order.
Exit code: 0 when every input was read, 2 when some failed (the output is complete and
holds their error entries).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from permaudit._infra.records import record
from permaudit.batch.sinks import JsonlSink, ParquetSink, resume_key
from permaudit.batch.work import Settings, scan_files
from permaudit.errors import EXIT_INPUT_FAILED, EXIT_OK, InputError, UsageError
from permaudit.inputs.files import stream_sha256

#: Files per pool task: fewer round trips; small enough to keep both workers busy.
CHUNK = 16


@record
class BatchRequest:
    """One batch run (see the module docstring)."""

    inputs: tuple[str, ...] = ()
    output: Path | None = None
    from_list: str | None = None
    recursive: bool = False
    resume: bool = False
    digest: bool = False
    jobs: int | None = None
    progress: bool | None = None
    device_sdk: int | None = None
    #: Levels for source manifests without ``<uses-sdk>`` (``--target-sdk``/``--min-sdk``).
    target_sdk: int | None = None
    min_sdk: int | None = None
    rules_files: tuple[str, ...] = ()
    scheduler: str | None = None
    #: Read the DEX files (``--no-code`` turns it off).
    code: bool = True
    #: ``False`` (``scan --format jsonl`` without --keep-going): the first failure stops.
    keep_going: bool = True
    summary: bool = True
    #: ``--locale``: resource values (the label) for that locale.
    locale: str | None = None


class Sink(Protocol):
    def previous(self, target: Path) -> list[dict[str, Any]]: ...
    def write(self, entry: dict[str, Any]) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


def usable_cores() -> int:
    """The cores this process may run on (``os.process_cpu_count`` on 3.13+)."""
    count = getattr(os, "process_cpu_count", None)
    if count is not None:
        return int(count() or 1)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _locale(text: str | None) -> str | None:
    """``--locale`` checked and in Android's form (``ru-rRU``)."""
    if text is None:
        return None
    from permaudit.inputs.resources import normalise_locale

    return normalise_locale(text)


def batch_inputs(request: BatchRequest) -> list[str]:
    """The input files: arguments (directories expanded) then the ``--from-list`` lines."""
    from permaudit.inputs.loader import expand_inputs

    paths = list(request.inputs)
    if request.from_list is not None:
        if request.from_list == "-":
            lines = sys.stdin.read().splitlines()
        else:
            try:
                with open(request.from_list, encoding="utf-8") as handle:
                    lines = handle.read().splitlines()
            except OSError as exc:
                raise UsageError(f"--from-list: {exc.strerror}", path=request.from_list) from None
        paths.extend(line.strip() for line in lines if line.strip())
    if not paths:
        raise UsageError("no inputs: give APP arguments or --from-list FILE")
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(expand_inputs([path], recursive=request.recursive))
        else:
            files.append(path)
    return files


def _chunks(paths: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(paths), CHUNK):
        yield list(paths[start : start + CHUNK])


def local_results(
    paths: Sequence[str], settings: Settings, jobs: int
) -> Iterator[dict[str, Any]]:
    """Each path's entry, in order, from ``jobs`` processes (in this one when 1)."""
    if jobs <= 1 or len(paths) <= CHUNK:
        for chunk in _chunks(paths):
            yield from scan_files(chunk, settings)
        return
    import multiprocessing
    from functools import partial

    # fork where it exists (Linux): workers start with the scan code already imported;
    # spawn re-imports it per worker (measured slower on this machine, see bench_batch.py).
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(jobs) as pool:
        for entries in pool.imap(partial(scan_files, settings=settings), _chunks(paths)):
            yield from entries


class Progress:
    """A one-line progress display on stderr (count, rate, ETA, failures)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled
        self.done = self.failed = 0
        self.start = self._last = time.monotonic()
        self.levels: dict[str, int] = {}
        self.top: list[tuple[int, str]] = []
        self.failures: list[str] = []

    def add(self, entry: dict[str, Any]) -> None:
        self.done += 1
        if "package" in entry:
            level = entry["risk"]["level"]
            self.levels[level] = self.levels.get(level, 0) + 1
            self.top = sorted([*self.top, (entry["risk"]["score"], entry["package"])],
                              reverse=True)[:3]
        else:
            self.failed += 1
            self.failures.append(f"{entry['path']}: {entry['message']} ({entry['error']})")
        now = time.monotonic()
        if self.enabled and (now - self._last > 0.2 or self.done == self.total):
            self._last = now
            rate = self.done / max(now - self.start, 1e-9)
            eta = (self.total - self.done) / rate if rate else 0.0
            sys.stderr.write(
                f"\r{self.done}/{self.total} apps, {rate:.1f}/s, ETA {eta:.0f}s, "
                f"{self.failed} failed"
            )
            sys.stderr.flush()

    def summary(self, skipped: int) -> str:
        elapsed = time.monotonic() - self.start
        levels = ", ".join(f"{n} {level}" for level, n in sorted(self.levels.items()))
        top = ", ".join(f"{package} ({score})" for score, package in self.top)
        return (
            f"permaudit: batch: {self.done - self.failed} read, {self.failed} failed"
            + (f", {skipped} skipped (resume)" if skipped else "")
            + (f"; risk: {levels}" if levels else "")
            + (f"; top: {top}" if top else "")
            + f"; {elapsed:.1f} s"
        )


def _sink(output: Path | None) -> Sink:
    if output is not None and output.suffix.lower() == ".parquet":
        return ParquetSink(output)
    return JsonlSink(output)


def run_batch(request: BatchRequest) -> int:
    """Run a batch; exit code 0 (all read) or 2 (some failed, output still complete)."""
    files = batch_inputs(request)
    if request.resume and request.output is None:
        raise UsageError("--resume needs --output FILE")
    settings = Settings(
        device_sdk=request.device_sdk, rules_files=request.rules_files, digest=request.digest,
        code=request.code,
        target_sdk=request.target_sdk, min_sdk=request.min_sdk,
        locale=_locale(request.locale),
    )
    sink = _sink(request.output)
    try:
        done: set[str] = set()
        if request.resume and request.output is not None and request.output.exists():
            for entry in sink.previous(request.output):
                key = resume_key(entry, request.digest)
                if key is not None:
                    done.add(key)
                    sink.write(entry)
        todo = _unfinished(files, done, request.digest)
        enabled = request.progress if request.progress is not None else sys.stderr.isatty()
        progress = Progress(len(todo), enabled)
        for entry in _results(todo, settings, request):
            if not request.keep_going and "package" not in entry:
                raise InputError(entry["message"], path=entry["path"])
            sink.write(entry)
            progress.add(entry)
        sink.commit()
    except BaseException:
        sink.abort()
        raise
    if progress.enabled:
        sys.stderr.write("\n")
    if request.summary:
        sys.stderr.write(progress.summary(len(files) - len(todo)) + "\n")
    else:
        for failure in progress.failures:
            sys.stderr.write(f"permaudit: error: {failure}\n")
    return EXIT_INPUT_FAILED if progress.failed else EXIT_OK


def _unfinished(files: Sequence[str], done: set[str], by_hash: bool) -> list[str]:
    if not done:
        return list(files)
    todo = []
    for path in files:
        if by_hash:
            try:
                with open(path, "rb") as stream:
                    key = f"sha256:{stream_sha256(stream)}"
            except OSError:
                key = None
        else:
            key = f"{path}\0{os.path.getsize(path)}" if os.path.isfile(path) else None
        if key not in done:
            todo.append(path)
    return todo


def _results(
    todo: Sequence[str], settings: Settings, request: BatchRequest
) -> Iterator[dict[str, Any]]:
    if request.scheduler is not None:
        from permaudit.batch.dask import dask_results

        return dask_results(todo, settings, request.scheduler)
    jobs = request.jobs if request.jobs is not None else usable_cores()
    return local_results(todo, settings, jobs)
