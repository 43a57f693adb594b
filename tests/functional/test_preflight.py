"""Preflight against the real local Glance and Keystone: what apply will need is checked by
plan before any write, and only for what the plan touches."""

from __future__ import annotations

import functools
import http.server
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.support import GlanceProbe, make_disk, run_cli, sha256_of, write_manifest
from tests.localcloud import LocalCloud, serve_sources

pytestmark = pytest.mark.glance


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    seen: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append(f"{self.headers.get('Range', 'whole')} {self.path}")
        super().do_GET()


@pytest.fixture
def counted(tmp_path: Path) -> Iterator[tuple[Path, str, list[str]]]:
    folder = tmp_path / "served"
    folder.mkdir()
    make_disk(folder / "disk.raw", 100_000, 5)
    seen: list[str] = []
    handler = type("Handler", (CountingHandler,), {"seen": seen})
    with serve_sources(functools.partial(handler, directory=str(folder))) as base:
        yield folder, base, seen


def shared_manifest(tmp_path: Path, catalog: str, project: str, cloud: str) -> Path:
    return write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog}
        images:
          - name: {catalog}-s
            disk_format: raw
            visibility: shared
            members:
              - {{project: {project}, accept_with: {cloud}}}
        """,
    )


@pytest.mark.parametrize(
    ("cloud", "expected"),
    [
        ("no-such-cloud", "accept_with: cloud 'no-such-cloud'"),
        ("local-a", "accept_with: cloud 'local-a' is scoped to project"),
    ],
)
def test_an_accept_with_cloud_that_cannot_accept_is_a_conflict_before_any_change(
    tmp_path: Path,
    probe: GlanceProbe,
    catalog_name: str,
    local_cloud: LocalCloud,
    cloud: str,
    expected: str,
) -> None:
    path = shared_manifest(tmp_path, catalog_name, "project-b", cloud)
    planned = run_cli("plan", str(path), "--cloud", "local")
    assert planned.code == 1, planned.output
    # Listed first and repeated last (and on stderr, stdout not being a terminal).
    first, line = [line for line in planned.stdout.splitlines() if line.startswith("  ! ")]
    assert first == line and planned.stderr.splitlines()[0] == line.removeprefix("  ! ")
    assert line.startswith(f"  ! {path}:4:5: image '{catalog_name}-s': {expected}"), line
    assert "Traceback" not in planned.output
    applied = run_cli("apply", str(path), "--cloud", "local", "--auto-approve")
    assert applied.code == 1 and "nothing was changed" in applied.output
    assert probe.named(f"{catalog_name}-s") == []


def test_sources_are_probed_with_one_byte_and_only_when_the_plan_reads_them(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, counted: tuple[Path, str, list[str]]
) -> None:
    folder, base, seen = counted
    path = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images:
          - name: {catalog_name}-u
            disk_format: raw
            source: {{url: "{base}/disk.raw", checksum: "{sha256_of(folder / "disk.raw")}"}}
        """,
    )
    planned = run_cli("plan", str(path), "--cloud", "local")
    assert planned.code == 0, planned.output
    assert seen == ["bytes=0-0 /disk.raw"]
    applied = run_cli("apply", str(path), "--cloud", "local", "--auto-approve")
    assert applied.code == 0, applied.output
    seen.clear()
    replanned = run_cli("plan", str(path), "--cloud", "local", "--detailed-exitcode")
    assert replanned.code == 0, replanned.output
    assert seen == []  # a plan with nothing to do reads no source
