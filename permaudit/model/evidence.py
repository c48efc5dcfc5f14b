"""Tamper evidence: a trick in a file that makes tools disagree with what Android installs."""

from __future__ import annotations

from permaudit._infra.records import record


@record
class TamperEvidence:
    """A trick found in the file that makes tools disagree with what Android installs."""

    #: Stable id, e.g. ``zip.duplicate_entry``, ``axml.string_pool_count``.
    id: str
    #: What was found, in one sentence, and what Android does with it.
    detail: str
    #: Archive member (for bundles) the evidence was found in; ``None`` for the input itself.
    member: str | None = None
