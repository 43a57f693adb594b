"""reconciler.update_versions: each tracked image's newest upstream build written into its
manifest as a version, and every file put back when the result would not load. (Against a
served mirror, through the CLI: tests/functional/test_track.py.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from catalog.errors import GlanceCatalogError
from catalog.load import load_catalog
from reconciler import update_versions
from reconciler.settings import RunSettings
from reconciler.update_versions import update_manifests
from tests.unit.reconciler.sources.test_upstream import SUMS, tracked, upstream


def test_the_newest_build_is_written_in_and_reported_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tracked(tmp_path)
    before = path.read_text()
    monkeypatch.setattr(update_versions, "find_upstream", lambda *_a, **_k: (upstream("41"),))
    (line,) = update_manifests([path], RunSettings())
    assert line == (f"{path}: image 'fedora': added version 41 (sha256:{'ab' * 32}, from {SUMS})")
    # Only inserted lines: every line of the file as it was is still there, in order.
    kept = [line for line in path.read_text().splitlines() if line in before.splitlines()]
    assert kept == before.splitlines()
    assert [v.version for v in load_catalog([path]).images[0].versions] == ["41"]


def test_nothing_new_upstream_changes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tracked(tmp_path)
    before = path.read_text()
    monkeypatch.setattr(update_versions, "find_upstream", lambda *_a, **_k: ())
    assert update_manifests([path], RunSettings()) == []
    assert path.read_text() == before


def test_files_are_put_back_when_the_edited_manifests_would_not_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tracked(tmp_path)
    before = path.read_text()
    good = upstream("41")
    broken = replace(good, version=replace(good.version, checksum="sha256:tooshort"))
    monkeypatch.setattr(update_versions, "find_upstream", lambda *_a, **_k: (broken,))
    with pytest.raises(GlanceCatalogError):
        update_manifests([path], RunSettings())
    assert path.read_text() == before
