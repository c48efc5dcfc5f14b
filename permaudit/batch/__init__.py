"""Corpus-scale runs: one input file at a time, streamed to JSONL or Parquet.

``work.scan_file`` is the per-file function (loader, engine, JSON object) that the local
process pool and the Dask path both run; ``sinks`` write its results atomically;
``run`` drives a batch (inputs, resume, jobs, progress, summary).
"""
