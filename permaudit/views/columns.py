"""The app columns of a side-by-side view: each app's header label, version, signer, network."""

from __future__ import annotations

from collections.abc import Sequence

from permaudit._infra.records import record
from permaudit.model import App, Report
from permaudit.views.network import network_summary


@record
class AppColumn:
    """One column: which app, labelled uniquely (by version when a package repeats)."""

    #: The column header: ``MAX (ru.oneme.app)``, with the version when a package repeats.
    label: str
    package: str
    version_name: str | None
    version_code: int | None
    path: str
    #: Who signed it, in a few words (see :func:`signer_summary`).
    signer: str = "-"
    #: Its network security config in a few lines (``views.network.network_summary``).
    network: tuple[str, ...] = ()
    #: The app's own label (``Manifest.label``), ``None`` when none resolves.
    app_label: str | None = None

    @property
    def title(self) -> str:
        """``Label (package)``, or the package name when no label resolves."""
        return f"{self.app_label} ({self.package})" if self.app_label else self.package

    @property
    def version(self) -> str:
        """``versionName (versionCode)``, or whichever is known, or ``?``."""
        if self.version_name and self.version_code is not None:
            return f"{self.version_name} ({self.version_code})"
        if self.version_name:
            return self.version_name
        return str(self.version_code) if self.version_code is not None else "?"



def signer_summary(app: App) -> str:
    """``v2+v3 1dbb8be012293e98`` (schemes, first 16 hex digits of each signer's SHA-256),
    ``unsigned``, or ``-`` for inputs without signatures; flags debug keys and ambiguity."""
    signing = app.signing
    if signing is None:
        return "-"
    if not signing.signers:
        return "unsigned"
    digests = dict.fromkeys(
        s.certificates[0].sha256[:16] for s in signing.signers if s.certificates
    )
    text = "+".join(signing.schemes) + " " + ", ".join(digests)
    if any(c.debug for s in signing.signers for c in s.certificates[:1]):
        text += " (debug key)"
    if signing.problems:
        text += " (AMBIGUOUS)"
    return text


def app_columns(reports: Sequence[Report]) -> tuple[AppColumn, ...]:
    """Columns labelled by label and package (``MAX (ru.oneme.app)``, the package alone
    when no label resolves); with the version where a package repeats."""
    packages = [r.app.manifest.package for r in reports]
    labels = []
    for report in reports:
        manifest = report.app.manifest
        label = manifest.title
        if packages.count(manifest.package) > 1:
            label = f"{label} {manifest.version_name or manifest.version_code or '?'}"
        labels.append(label)
    seen: dict[str, int] = {}
    unique = []
    for label in labels:
        if labels.count(label) > 1:
            seen[label] = seen.get(label, 0) + 1
            label = f"{label} #{seen[label]}"
        unique.append(label)
    return tuple(
        AppColumn(
            label=label,
            package=r.app.manifest.package,
            version_name=r.app.manifest.version_name,
            version_code=r.app.manifest.version_code,
            path=r.app.input.path,
            signer=signer_summary(r.app),
            network=network_summary(r.app),
            app_label=r.app.manifest.label,
        )
        for label, r in zip(unique, reports, strict=True)
    )
