"""permaudit batch: JSON Lines and Parquet output, resume, jobs, progress, Dask."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from permaudit.app import ScanRequest, run_scan
from permaudit.batch.run import BatchRequest, run_batch, usable_cores
from permaudit.errors import EXIT_INPUT_FAILED, EXIT_OK, InputError
from tests.conftest import REPO

APKS = sorted((REPO / "fixtures" / "apk").glob("*.apk"))


def _tree(tmp_path: Path) -> Path:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for apk in APKS:
        shutil.copyfile(apk, inputs / apk.name)
    (inputs / "zz-broken.apk").write_bytes(b"PK\x03\x04 truncated")
    return inputs


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_jsonl_holds_the_json_contract_objects_and_error_entries(tmp_path: Path) -> None:
    inputs = _tree(tmp_path)
    out = tmp_path / "r.jsonl"
    assert run_batch(BatchRequest(inputs=(str(inputs),), output=out, jobs=1)) == EXIT_INPUT_FAILED
    lines = _lines(out)
    whole = tmp_path / "r.json"
    good = tuple(str(inputs / a.name) for a in APKS)
    run_scan(ScanRequest(inputs=good, fmt="json", output=whole))
    assert lines[:-1] == json.loads(whole.read_text())["apps"]
    assert lines[-1]["path"] == str(inputs / "zz-broken.apk")
    assert lines[-1]["error"] == "InputError"


def test_jobs_2_writes_the_same_file_in_input_order(tmp_path: Path) -> None:
    inputs = _tree(tmp_path)
    many = [str(p) for p in sorted(inputs.iterdir())] * 3  # more than one chunk
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    run_batch(BatchRequest(inputs=tuple(many), output=one, jobs=1))
    run_batch(BatchRequest(inputs=tuple(many), output=two, jobs=2))
    assert one.read_bytes() == two.read_bytes()
    assert [e.get("input", e)["path"] for e in _lines(one)] == many  # type: ignore[index]


def test_resume_skips_what_is_done_and_retries_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = _tree(tmp_path)
    out = tmp_path / "r.jsonl"
    first = [str(inputs / APKS[0].name), str(inputs / "zz-broken.apk")]
    run_batch(BatchRequest(inputs=tuple(first), output=out, jobs=1))
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(str(p) for p in sorted(inputs.iterdir())) + "\n")
    capsys.readouterr()
    run_batch(BatchRequest(from_list=str(listing), output=out, resume=True, jobs=1))
    assert f"{len(first) - 1} skipped (resume)" in capsys.readouterr().err
    paths = [e.get("input", e)["path"] for e in _lines(out)]  # type: ignore[index]
    assert sorted(paths) == sorted(str(p) for p in inputs.iterdir())  # each once


def test_without_keep_going_nothing_partial_is_left(tmp_path: Path) -> None:
    inputs = _tree(tmp_path)
    out = tmp_path / "r.jsonl"
    with pytest.raises(InputError):
        run_scan(ScanRequest(inputs=(str(inputs),), fmt="jsonl", output=out))
    assert list(tmp_path.iterdir()) == [inputs]


def test_summary_and_default_jobs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.jsonl"
    assert run_batch(BatchRequest(inputs=(str(APKS[0]),), output=out)) == EXIT_OK
    assert "permaudit: batch: 1 read, 0 failed" in capsys.readouterr().err
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)


def test_parquet_one_typed_row_per_input(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    inputs = _tree(tmp_path)
    out = tmp_path / "r.parquet"
    run_batch(BatchRequest(inputs=(str(inputs),), output=out, jobs=1))
    table = pq.read_table(out)
    assert table.schema.metadata[b"permaudit.schema_version"] == b"1"
    permissions = table.schema.field("permissions").type
    assert str(permissions.value_type) == "string" and "list" in str(permissions)
    assert str(table.schema.field("risk_score").type) == "int32"
    rows = table.to_pylist()
    jsonl = tmp_path / "r.jsonl"
    run_batch(BatchRequest(inputs=(str(inputs),), output=jsonl, jobs=1))
    for row, entry in zip(rows, _lines(jsonl), strict=True):
        if "package" in entry:
            assert row["label"] == entry["label"]
            assert row["risk_score"] == entry["risk"]["score"]  # type: ignore[index]
            names = [p["name"] for p in entry["permissions"]]  # type: ignore[attr-defined]
            assert row["permissions"] == names
        else:
            assert row["error"] == "InputError"


def test_dask_local_cluster_equals_the_local_run(tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    inputs = _tree(tmp_path)
    local, remote = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    run_batch(BatchRequest(inputs=(str(inputs),), output=local, jobs=1))
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        run_batch(BatchRequest(inputs=(str(inputs),), output=remote, scheduler=client))
    assert local.read_bytes() == remote.read_bytes()


def test_dask_worker_killed_mid_run_loses_no_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real worker processes; one is SIGKILLed while it scans: Dask re-runs its tasks."""
    import signal
    import threading
    import time

    distributed = pytest.importorskip("dask.distributed")
    from permaudit.batch import dask as batch_dask

    inputs = tmp_path / "in"
    inputs.mkdir()
    for copy in range(40):  # ~240 scans: seconds of work, so the kill lands mid-run
        for apk in APKS:
            shutil.copyfile(apk, inputs / f"{copy:02d}-{apk.name}")
    (inputs / "zz-broken.apk").write_bytes(b"PK\x03\x04 truncated")
    local, remote = tmp_path / "local.jsonl", tmp_path / "dask.jsonl"
    run_batch(BatchRequest(inputs=(str(inputs),), output=local, jobs=1))
    monkeypatch.setattr(batch_dask, "TASK_FILES", 6)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        codes: list[int] = []
        runner = threading.Thread(target=lambda: codes.append(run_batch(BatchRequest(
            inputs=(str(inputs),), output=remote, scheduler=client))))
        runner.start()
        deadline = time.monotonic() + 60
        busy: list[str] = []
        while not busy and time.monotonic() < deadline:
            busy = [worker for worker, tasks in client.processing().items() if tasks]
            time.sleep(0.01)
        assert busy, "no worker ever started a task"
        os.kill(pids[busy[0]], signal.SIGKILL)
        assert runner.is_alive(), "the batch ended before the kill: nothing was tested"
        runner.join(timeout=120)
        assert not runner.is_alive()
    assert codes == [EXIT_INPUT_FAILED]  # the output holds the broken files' entries
    assert local.read_bytes() == remote.read_bytes()


def test_no_code_reads_no_dex_in_batch_and_in_scan_jsonl(tmp_path: Path) -> None:
    from permaudit.cli import main

    with_code, without = tmp_path / "code.jsonl", tmp_path / "nocode.jsonl"
    apk = str(APKS[0])
    assert main(["batch", "--jobs", "1", "-o", str(with_code), apk]) == EXIT_OK
    assert main(["batch", "--no-code", "--jobs", "1", "-o", str(without), apk]) == EXIT_OK
    assert "code" in _lines(with_code)[0]
    assert "code" not in _lines(without)[0]  # absent: not read (the JSON contract)
    streamed = tmp_path / "scan.jsonl"
    assert main(["scan", "-f", "jsonl", "--no-code", "-o", str(streamed), apk]) == EXIT_OK
    assert "code" not in _lines(streamed)[0]


def test_parquet_label_column_for_the_locale(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    label = REPO / "fixtures" / "apk" / "edge" / "label-by-reference.apk"
    flags = REPO / "fixtures" / "apk" / "edge" / "flags-by-reference.apk"
    out = tmp_path / "r.parquet"
    inputs = (str(label), str(flags))
    assert run_batch(BatchRequest(inputs=inputs, output=out, jobs=1, progress=False)) == EXIT_OK
    assert pq.read_table(out).column("label").to_pylist() == ["Example Messenger", None]
    request = BatchRequest(inputs=inputs, output=out, jobs=1, progress=False, locale="ru")
    assert run_batch(request) == EXIT_OK
    assert pq.read_table(out).column("label").to_pylist() == ["Пример мессенджера", None]
