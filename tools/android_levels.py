"""Regenerate permaudit/android/data/permission_levels.json from androguard's AOSP data.

``make android-data``: for every permission in androguard's per-level permission files, the
lowest API level whose file defines it. A development tool, never run at scan time;
tests/android/test_effective.py checks that the committed table is current.
"""

from __future__ import annotations

import json
from pathlib import Path

from permaudit.android.catalog import LEVELS_FILE, androguard_data_dir, available_levels


def first_levels_from(directory: Path) -> dict[str, int]:
    """For every permission in androguard's files, the lowest level whose file defines it."""
    first: dict[str, int] = {}
    for level in available_levels(directory):
        with (directory / f"permissions_{level}.json").open(encoding="utf-8") as handle:
            for name in json.load(handle)["permissions"]:
                first.setdefault(name, level)
    return dict(sorted(first.items()))


def write_first_levels(path: Path = LEVELS_FILE) -> None:
    """Regenerate ``permission_levels.json`` from the installed androguard data."""
    table = first_levels_from(androguard_data_dir())
    path.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n", encoding="utf-8")



if __name__ == "__main__":
    write_first_levels()
