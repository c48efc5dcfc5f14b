"""``permaudit batch``: corpus runs, streamed to JSON Lines or Parquet."""

from __future__ import annotations

import os
from pathlib import Path

import click

from permaudit.batch.run import BatchRequest, run_batch
from permaudit.cli.options import (
    app_sdk_options,
    code_option,
    device_sdk_option,
    locale_option,
    recursive_option,
    rules_option,
)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inputs", nargs=-1, metavar="[APP...]")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
    metavar="FILE",
    help="results.jsonl or results.parquet (by suffix); default: JSON Lines on stdout.",
)
@click.option(
    "--from-list", metavar="FILE", default=None,
    help="Read input paths from FILE, one per line ('-': standard input).",
)
@recursive_option
@click.option(
    "--resume", is_flag=True,
    help="Keep the entries already in --output and skip their inputs (path and size; "
    "SHA-256 with --hash). Failed inputs are tried again.",
)
@click.option("--hash", "digest", is_flag=True, help="Report each file's SHA-256.")
@click.option(
    "-j", "--jobs", type=click.IntRange(1, None), default=None, metavar="N",
    help="Worker processes (default: the usable cores).",
)
@click.option(
    "--progress/--no-progress", default=None,
    help="Progress line on stderr (default: only when stderr is a terminal).",
)
@click.option(
    "--scheduler", metavar="ADDRESS", default=lambda: os.environ.get("PERMAUDIT_DASK_SCHEDULER"),
    help="Run on a Dask cluster (tcp://HOST:PORT; env PERMAUDIT_DASK_SCHEDULER). "
    "The input paths must be readable by every worker.",
)
@device_sdk_option
@app_sdk_options
@rules_option
@code_option
@locale_option
def batch(
    inputs: tuple[str, ...],
    output: Path | None,
    from_list: str | None,
    recursive: bool,
    resume: bool,
    digest: bool,
    jobs: int | None,
    progress: bool | None,
    scheduler: str | None,
    device_sdk: int | None,
    target_sdk: int | None,
    min_sdk: int | None,
    rules_files: tuple[Path, ...],
    no_code: bool,
    locale: str | None,
) -> int:
    """Scan many apps file by file and stream one entry per app to FILE.

    Each input file is one app (loose splits are not joined to their base). An input
    that cannot be read becomes an error entry ({"path", "error", "message"}) and the
    run goes on. Entries are in input order whatever --jobs. The output file is
    written to a temporary file and renamed at the end: it is never left partial.
    Exit code 0 when every input was read, 2 when some failed.
    """
    return run_batch(
        BatchRequest(
            inputs=inputs, output=output, from_list=from_list, recursive=recursive,
            resume=resume, digest=digest, jobs=jobs, progress=progress,
            device_sdk=device_sdk, rules_files=tuple(str(p) for p in rules_files),
            scheduler=scheduler or None, code=not no_code, target_sdk=target_sdk,
            min_sdk=min_sdk, locale=locale,
        )
    )
