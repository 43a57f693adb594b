"""Tracked images against the real local Glance: plan offers the newest upstream build as a
new version without a manifest edit, update-versions writes it in (other bytes kept), and a
release index with one folder per build is followed too."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.support import (
    GlanceProbe,
    apply_local,
    assert_converged,
    make_disk,
    run_cli,
    serve_folder,
    write_manifest,
)

pytestmark = pytest.mark.glance


def publish(folder: Path, *labels: str) -> None:
    """Builds ``distro-<label>.raw`` and a GNU SHA256SUMS listing them (and a stray entry)."""
    lines = ["0" * 64 + "  distro-unrelated.iso"]
    for seed, label in enumerate(labels):
        disk = make_disk(folder / f"distro-{label}.raw", 128 * 1024 + seed, seed + 40)
        lines.append(f"{hashlib.sha256(disk.read_bytes()).hexdigest()} *{disk.name}")
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n")


@pytest.fixture
def mirror(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    folder = tmp_path / "mirror"
    folder.mkdir()
    with serve_folder(folder) as base_url:
        yield folder, base_url


def test_plan_offers_the_newest_build_and_update_versions_writes_it(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, mirror: tuple[Path, str]
) -> None:
    folder, base = mirror
    publish(folder, "1.9", "1.10")
    path = write_manifest(
        tmp_path,
        f"""\
        version: 1
        catalog: {catalog_name}
        defaults: {{disk_format: raw}}
        images:
          # Followed from the mirror's SHA256SUMS.
          - name: {catalog_name}-distro
            retire: {{superseded: hide}}
            track:
              checksum_url: {base}/SHA256SUMS
              file: distro-{{version}}.raw
        """,
    )
    plan = run_cli("plan", str(path), "--cloud", "local")
    assert plan.code == 0, plan.output
    assert f"{catalog_name}-distro [1.10]: will be created" in plan.stdout
    assert "1.9" not in plan.stdout
    code, output = apply_local(path)
    assert code == 0, output
    assert_converged(path)
    assert probe.only(f"{catalog_name}-distro")["glance_catalog_version"] == "1.10"

    # A new release upstream: offered with no manifest edit, then written in.
    publish(folder, "1.9", "1.10", "1.11")
    plan = run_cli("plan", str(path), "--cloud", "local", "--detailed-exitcode")
    assert plan.code == 2 and "[1.11]: will be renamed" in plan.stdout, plan.output
    before = path.read_text()
    update = run_cli("update-versions", str(path), "--detailed-exitcode")
    assert update.code == 2, update.output
    assert "added version 1.11" in update.stdout
    after = path.read_text()
    assert after.startswith(before) and "# Followed from the mirror's SHA256SUMS." in after
    assert "- version: '1.11'" in after and f"url: {base}/distro-1.11.raw" in after
    again = run_cli("update-versions", str(path), "--detailed-exitcode")
    assert again.code == 0 and "declares its newest upstream build" in again.stdout
    code, output = apply_local(path)
    assert code == 0, output
    assert_converged(path)
    names = {
        image["glance_catalog_version"]: image["name"]
        for image in probe.tagged(f"glance-catalog:{catalog_name}")
    }
    assert names == {"1.10": f"{catalog_name}-distro 1.10", "1.11": f"{catalog_name}-distro"}


def test_a_release_index_with_a_folder_per_build_is_followed(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, mirror: tuple[Path, str]
) -> None:
    folder, base = mirror
    for label in ("20260101", "20260301"):
        (folder / f"release-{label}").mkdir()
        publish(folder / f"release-{label}", "amd64")
    (folder / "index.html").write_text(
        '<a href="release-20260101/">release-20260101/</a>\n'
        '<a href="release-20260301/">release-20260301/</a>\n<a href="../">up</a>\n'
    )
    path = write_manifest(
        tmp_path,
        f"""\
        version: 1
        catalog: {catalog_name}
        defaults: {{disk_format: raw}}
        images:
          - name: {catalog_name}-cloud
            track:
              index_url: {base}/index.html
              checksum_url: {base}/release-{{version}}/SHA256SUMS
              file: distro-amd64.raw
        """,
    )
    code, output = apply_local(path)
    assert code == 0, output
    assert_converged(path)
    image = probe.only(f"{catalog_name}-cloud")
    assert image["glance_catalog_version"] == "20260301"


def test_a_track_that_finds_nothing_stops_the_plan_in_one_line(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, mirror: tuple[Path, str]
) -> None:
    folder, base = mirror
    publish(folder, "1.0")
    path = write_manifest(
        tmp_path,
        f"""\
        version: 1
        catalog: {catalog_name}
        defaults: {{disk_format: raw}}
        images:
          - name: {catalog_name}-none
            track: {{checksum_url: "{base}/SHA256SUMS", file: "other-{{version}}.qcow2"}}
        """,
    )
    plan = run_cli("plan", str(path), "--cloud", "local")
    assert plan.code == 1, plan.output
    assert "lists no file like 'other-{version}.qcow2'" in plan.stderr
    assert "Traceback" not in plan.output
    assert probe.tagged(f"glance-catalog:{catalog_name}") == []
