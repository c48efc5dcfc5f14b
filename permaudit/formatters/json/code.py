"""The ``code`` object of an app in the scan JSON: trackers, servers by owner, API evidence.

Present only when code was read (``Report.code_evidence`` is not ``None``), so manifest-only
documents are unchanged. Field meanings: docs/code-evidence.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from permaudit.model.code import CodeEvidence, NativeLibrary


def code_json(
    evidence: CodeEvidence, native: Sequence[NativeLibrary] = ()
) -> dict[str, Any]:
    """``evidence`` (and the app's ``lib/<abi>/*.so`` entries) as plain data."""
    return {
        "trackers": [
            {
                "id": t.tracker_id, "name": t.name, "categories": list(t.categories),
                "packages": list(t.packages), "class_count": t.class_count,
                "strength": t.strength, "source": t.source, "hosts": list(t.hosts),
                "owner": t.owner, "country": t.country,
            }
            for t in evidence.trackers
        ],
        "servers": [
            {
                "domain": h.domain, "hosts": list(h.hosts), "strings": h.strings,
                "owner": h.owner, "country": h.country, "source": h.source,
            }
            for h in evidence.hosts
        ],
        "api_references": [
            {
                "capability": a.capability, "references": list(a.references),
                "needs_permission": a.needs_permission,
            }
            for a in evidence.apis
        ],
        "checked_capabilities": list(evidence.checked_capabilities),
        "native_libraries": [
            {"path": lib.path, "abi": lib.abi, "size": lib.size} for lib in native
        ],
        "notes": list(evidence.notes),
    }
