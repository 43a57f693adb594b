"""The release pairs of the local cloud: their pins, files and ports cannot collide."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.localcloud import install, releases
from tests.localcloud.procs import LocalCloudError


def pins(constraints: Path) -> dict[str, str]:
    found = {}
    for line in constraints.read_text().splitlines():
        if match := re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s;#]+)", line.strip()):
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


@pytest.mark.parametrize("release", releases.RELEASES.values(), ids=lambda r: r.name)
def test_each_constraints_file_pins_its_releases_glance_and_keystone(
    release: releases.Release,
) -> None:
    pinned = pins(release.constraints)
    assert pinned["glance"] == release.glance
    assert pinned["keystone"] == release.keystone
    assert "gunicorn" in pinned
    assert len(pinned) > 100  # a whole freeze, so installs are reproducible


def test_releases_keep_their_files_and_ports_apart(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GC_LOCAL_DIR", str(tmp_path))
    for var in ("GC_GLANCE_PORT", "GC_KEYSTONE_PORT"):
        monkeypatch.delenv(var, raising=False)
    seen_files: set[Path] = set()
    seen_ports: set[int] = set()
    for release in releases.RELEASES.values():
        monkeypatch.setenv("GLANCE_RELEASE", release.name)
        p = install.paths()
        files = {p.venv, p.run, p.clouds_yaml, p.lock}
        assert not files & seen_files
        seen_files |= files
        # the Glance port and the three after it (multi-store, single-store, RegionTwo)
        ports = {install.keystone_port(), *range(install.glance_port(), install.glance_port() + 4)}
        assert not ports & seen_ports
        seen_ports |= ports
    monkeypatch.delenv("GLANCE_RELEASE")
    assert install.paths().venv == tmp_path / "service-venv"  # the newest keeps its old names


def test_release_names_and_aliases_select_and_anything_else_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GLANCE_RELEASE", "Caracal")
    assert releases.selected() is releases.CARACAL
    assert releases.selected("2024.1") is releases.CARACAL
    assert releases.selected("") is releases.NEWEST
    with pytest.raises(LocalCloudError, match=r"GLANCE_RELEASE='2023.1' is not a release"):
        releases.selected("2023.1")
