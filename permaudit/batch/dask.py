"""The batch on a Dask distributed cluster: the same ``scan_files`` per chunk, as tasks.

Workers open the input paths themselves, so the paths must be visible to every worker
(shared storage, the same mount point). The client writes the output: results are
gathered chunk by chunk in input order, so the file equals a local ``--jobs`` run.
A task whose worker dies is re-run by Dask on another worker (``scan_files`` is pure).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from permaudit.batch.work import Settings, scan_files
from permaudit.errors import UsageError

#: Files per Dask task: large enough that scheduling costs little next to the scans.
TASK_FILES = 64


def _client(address: str | Any) -> Any:
    import importlib

    try:  # by name: an optional extra, untyped
        client_class: Any = importlib.import_module("dask.distributed").Client
    except ImportError:
        raise UsageError(
            "--scheduler needs dask.distributed: pip install 'permaudit[dask]'"
        ) from None
    if not isinstance(address, str):
        return address  # an existing Client (the Python API and the tests)
    try:
        return client_class(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise UsageError(
            f"--scheduler {address}: cannot reach the Dask scheduler ({exc})"
        ) from None


def dask_results(
    paths: Sequence[str], settings: Settings, scheduler: str | Any
) -> Iterator[dict[str, Any]]:
    """Each path's entry, in input order, computed on the cluster at ``scheduler``."""
    client = _client(scheduler)
    chunks = [list(paths[i : i + TASK_FILES]) for i in range(0, len(paths), TASK_FILES)]
    futures = client.map(scan_files, chunks, settings=settings, pure=False, retries=2)
    try:
        for future in futures:
            yield from future.result()
    finally:
        if isinstance(scheduler, str):
            client.close()
