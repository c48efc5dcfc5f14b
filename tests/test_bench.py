"""bench/bench_hostile.py's generators at tiny sizes, against the current tree only.

Keeps the benchmark's inputs from rotting: every class of issue 10 is built and run through
``python -m permaudit`` (this tree) with the benchmark's own runner (timeout, RLIMIT_AS),
and must end as the class promises: the exit code it expects, no traceback, and on exit 2
exactly one ``permaudit: error:`` (or located ``file:line:col: error:``) line.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
import bench_hostile  # noqa: E402

PROGRAM = [sys.executable, "-m", "permaudit"]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[bench_hostile.Case,
                                                                       bench_hostile.Outcome]]:
    cases = bench_hostile.build(tmp_path_factory.mktemp("hostile"), small=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(
            lambda case: bench_hostile.run(PROGRAM, case, timeout=20, memory=2 * 2**30), cases))
    return list(zip(cases, results, strict=True))


def test_every_issue_10_class_is_built(
    outcomes: list[tuple[bench_hostile.Case, bench_hostile.Outcome]],
) -> None:
    classes = {case.cls for case, _ in outcomes}
    for expected in ("1 binary XML attributeCount", "1 App Bundle empty messages",
                     "1 text manifest", "1 risk score", "1 rules YAML", "1 policy YAML",
                     "1 baseline JSON", "1 rule message format", "1 special file",
                     "2 -o target", "2 stdout", "2 terminal escapes", "3 duplicate entries",
                     "3 zip64"):
        assert expected in classes


def test_current_tree_outcomes(
    outcomes: list[tuple[bench_hostile.Case, bench_hostile.Outcome]],
) -> None:
    failures = []
    for case, outcome in outcomes:
        errors = [line for line in outcome.stderr.splitlines() if "error:" in line]
        ok = (
            outcome.code in case.expect
            and "Traceback" not in outcome.stderr
            and "internal error" not in outcome.stderr
            and (outcome.code != 2 or len(errors) == 1)
            and "overwritten" not in outcome.note
            and "regular file" not in outcome.note
            and not outcome.note.startswith("raw ESC")
        )
        if not ok:
            failures.append(f"{case.cls}: {case.name}: {outcome.code} {outcome.note} "
                            f"{outcome.stderr[-300:]!r}")
    assert failures == []
