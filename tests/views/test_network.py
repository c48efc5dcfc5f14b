"""The network security summary of compare columns."""

from __future__ import annotations

from pathlib import Path

from fixtures import resource_apks as ra
from permaudit.inputs.apk import load
from permaudit.views.network import network_summary


def test_summary_of_the_edge_apk(tmp_path: Path) -> None:
    path = tmp_path / "edge.apk"
    path.write_bytes(ra.build_apk(ra.manifest(target=34), ra.edge_files()))
    assert network_summary(load(str(path), code=False)) == (
        "cleartext: 10.0.2.2, api.example.ru", "user CAs trusted", "pins until 2018-01-01",
        "debug-overrides inactive",
    )


def test_summary_without_a_config(tmp_path: Path) -> None:
    path = tmp_path / "plain.apk"
    path.write_bytes(ra.build_apk(ra.manifest(target=23, nsc=False, backup=False), {}))
    assert network_summary(load(str(path), code=False)) == (
        "no config: defaults", "cleartext: every host", "user CAs trusted")
