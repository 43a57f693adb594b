"""reconciler.sources.resolve: the catalog as its sources say it is now: upstream builds of
tracked images added (looked up only when an image is tracked), checksums read."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.load import load_catalog
from catalog.model import Catalog
from reconciler.retry import Retrier
from reconciler.settings import RunSettings
from reconciler.sources import resolve
from reconciler.sources.resolve import resolve_sources
from tests.unit.reconciler.sources.test_upstream import tracked, upstream

SETTINGS = RunSettings(timeout=5.0, parallel=2)


def test_a_catalog_without_tracked_images_or_checksum_files_is_resolved_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unexpected(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("no image is tracked: no upstream to look up")

    monkeypatch.setattr(resolve, "find_upstream", unexpected)
    (tmp_path / "m.yaml").write_text(
        "version: 1\ncatalog: c\nimages:\n  - {name: a, disk_format: raw, source: {file: m.yaml}}\n"
    )
    catalog = load_catalog([tmp_path / "m.yaml"])
    assert resolve_sources(catalog, SETTINGS, Retrier()) == catalog


def test_a_tracked_image_gets_its_upstream_build_looked_up_with_the_runs_timeout_and_retrier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[float, Retrier]] = []

    def found(catalog: Catalog, *, timeout: float, retrier: Retrier) -> tuple[object, ...]:
        asked.append((timeout, retrier))
        return (upstream("41"),)

    monkeypatch.setattr(resolve, "find_upstream", found)
    runs_retrier = Retrier()
    resolved = resolve_sources(load_catalog([tracked(tmp_path)]), SETTINGS, runs_retrier)
    # The run's own timeout and retrier (its retry budget), not new ones.
    assert asked == [(5.0, runs_retrier)]
    assert [version.version for version in resolved.images[0].versions] == ["41"]
