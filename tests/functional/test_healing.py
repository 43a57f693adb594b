"""Images that heal, against the real local Glance: a reserved image whose store holds stray
data, an import Glance fails, an import that hangs (bounded by --import-timeout) and an image
stuck importing are made again; a killed apply is finished by the next one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.support import (
    GlanceProbe,
    apply_local,
    assert_converged,
    kill_apply_when,
    make_disk,
    raw_catalog,
    run_cli,
    served_disk,
    sha256_of,
)
from tests.localcloud import LocalCloud

pytestmark = pytest.mark.glance
ONE_AT_A_TIME = ("--auto-approve", "--parallel", "1")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    with served_disk(tmp_path, 2 * 1024 * 1024 + 3, 11) as served:
        yield served


def test_a_reserved_image_whose_store_holds_stray_data_is_made_again_in_one_run(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, local_cloud: LocalCloud
) -> None:
    disk = make_disk(tmp_path / "d.raw", 300_000, 3)
    reserved = raw_catalog(tmp_path, catalog_name, {"r": ", tags: [keep]"})
    assert apply_local(reserved)[0] == 0
    old = probe.only(f"{catalog_name}-r")
    # What a failed upload can leave in the file store: every later upload into this image
    # answers HTTP 500 (glance_store Duplicate).
    (local_cloud.run_dir / "glance" / "images" / old["id"]).write_bytes(b"stray")
    filled = raw_catalog(
        tmp_path,
        catalog_name,
        {"r": f', tags: [keep], source: {{file: d.raw, checksum: "{sha256_of(disk)}"}}'},
    )
    code, output = apply_local(filled)
    assert code == 0, output
    assert "after recreating the image as" in output
    new = probe.only(f"{catalog_name}-r")
    assert new["id"] != old["id"] and new["status"] == "active" and new["size"] == 300_000
    assert set(new["tags"]) == {"keep", f"glance-catalog:{catalog_name}"}
    assert_converged(filled)


def test_an_import_glance_keeps_failing_is_made_again_and_succeeds(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str]
) -> None:
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    path = raw_catalog(
        tmp_path,
        catalog_name,
        {
            "w": f', source: {{url: "{base}/short-once/disk.raw", checksum: "{checksum}", '
            "method: web-download}"
        },
    )
    code, output = apply_local(path, "--parallel", "1")
    assert code == 0, output
    image = probe.only(f"{catalog_name}-w")
    assert image["status"] == "active" and image["size"] == (folder / "disk.raw").stat().st_size
    assert_converged(path)


def test_an_import_from_a_hanging_source_is_bounded_and_the_next_run_starts_afresh(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str]
) -> None:
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    hanging = raw_catalog(
        tmp_path,
        catalog_name,
        {
            "w": f', source: {{url: "{base}/hang/disk.raw", checksum: "{checksum}", '
            "method: web-download}"
        },
    )
    started = time.monotonic()
    code, output = apply_local(hanging, "--import-timeout", "4")
    assert code == 1, output
    assert time.monotonic() - started < 30, output
    assert "still importing after 4 s (--import-timeout)" in output or "after 4 s" in output
    assert "deleted, so that the next run starts it afresh" in output
    assert output.rstrip().splitlines()[-1].startswith("Apply incomplete:")
    assert probe.named(f"{catalog_name}-w") == []


def test_an_image_stuck_importing_is_deleted_and_made_again(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, served: tuple[Path, str]
) -> None:
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    stuck = probe.create(
        name=f"{catalog_name}-w",
        disk_format="raw",
        container_format="bare",
        tags=[f"glance-catalog:{catalog_name}"],
    )
    probe.import_web_download(stuck["id"], f"{base}/hang/disk.raw")
    deadline = time.monotonic() + 10
    while probe.show(stuck["id"])["status"] != "importing" and time.monotonic() < deadline:
        time.sleep(0.2)
    path = raw_catalog(
        tmp_path,
        catalog_name,
        {
            "w": f', source: {{url: "{base}/disk.raw", checksum: "{checksum}", '
            "method: web-download}"
        },
    )
    # Glance stamps updated_at in whole seconds and refreshes it while the download runs:
    # wait past the second it last did, then call anything busy longer than 0 s stuck.
    time.sleep(1.5)
    planned = run_cli("plan", str(path), "--cloud", "local", "--stuck-after", "0")
    assert planned.code == 0, planned.output
    assert f"will be deleted and made again ({stuck['id']})" in planned.output
    assert "stuck importing" in planned.output
    code, output = apply_local(path, "--stuck-after", "0")
    assert code == 0, output
    image = probe.only(f"{catalog_name}-w")
    assert image["id"] != stuck["id"] and image["status"] == "active"
    assert_converged(path)


# Killed while streaming an upload, right after starting a web-download, and between the
# verified web-download and the shared image that follows it (killed at once: that image's
# create and member take a fraction of a second).
@pytest.mark.parametrize(
    ("kill_at", "delay"),
    [("a-up: upload started", 0.1), ("b-web: reserve", 0.1), ("b-web: import", 0.0)],
)
def test_a_killed_apply_is_finished_by_the_next_one(
    tmp_path: Path,
    probe: GlanceProbe,
    catalog_name: str,
    served: tuple[Path, str],
    kill_at: str,
    delay: float,
) -> None:
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    project_b = GlanceProbe("local-b").project_id
    path = raw_catalog(
        tmp_path,
        catalog_name,
        {
            "a-up": f', source: {{url: "{base}/slow/disk.raw", checksum: "{checksum}"}}',
            "b-web": f', source: {{url: "{base}/slow/disk.raw", checksum: "{checksum}", '
            "method: web-download}",
            "c-shared": f", visibility: shared, members: [{project_b}]",
        },
    )
    kill_apply_when(path, lambda line: kill_at in line, *ONE_AT_A_TIME, delay=delay)
    code, output = apply_local(path)
    assert code == 0, output
    for name in ("a-up", "b-web", "c-shared"):
        assert len(probe.named(f"{catalog_name}-{name}")) == 1
    assert_converged(path)
