"""The local Glance takes concurrent work: web-download imports and uploads applied in parallel
all end active on the first try, Glance never answers "database is locked" on the way (the
sqlite Glance's transactions take turns at the write lock: tests/localcloud/wsgi_glance.py),
and the next plan is empty."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.functional.support import (
    GlanceProbe,
    make_disk,
    run_cli,
    serve_folder,
    sha256_of,
    write_manifest,
)
from tests.localcloud import LocalCloud

pytestmark = pytest.mark.glance

WEB_DOWNLOADS = 6
UPLOADS = 6  # half from a file, half from a url
# Big enough that the imports' downloads, hashing and saves overlap with each other and with
# the uploads and creates, as they did when the sqlite Glance answered "database is locked".
DISK_SIZE = 2 * 1024 * 1024


def test_parallel_web_downloads_and_uploads_all_converge_on_the_first_try(
    tmp_path: Path, local_cloud: LocalCloud, probe: GlanceProbe, catalog_name: str
) -> None:
    served = tmp_path / "served"
    served.mkdir()
    # image name -> (its disk, how its data gets to Glance)
    images: dict[str, tuple[Path, str]] = {}
    for index in range(WEB_DOWNLOADS):
        disk = make_disk(served / f"web{index}.raw", DISK_SIZE + index, index)
        images[f"{catalog_name}-web{index}"] = (disk, "web-download")
    for index in range(UPLOADS):
        disk = make_disk(served / f"up{index}.raw", DISK_SIZE + 100 + index, 100 + index)
        images[f"{catalog_name}-up{index}"] = (disk, "url" if index % 2 else "file")
    glance_log = local_cloud.run_dir / "logs" / "glance.log"
    log_start = glance_log.stat().st_size

    with serve_folder(served) as base:
        lines = [f"version: 1\ncatalog: {catalog_name}\ndefaults: {{disk_format: raw}}\nimages:"]
        for name, (disk, how) in images.items():
            checksum = f'checksum: "{sha256_of(disk)}"'
            source = {
                "web-download": f'url: "{base}/{disk.name}", {checksum}, method: web-download',
                "url": f'url: "{base}/{disk.name}", {checksum}',
                "file": f"file: served/{disk.name}, {checksum}",
            }[how]
            lines.append(f"  - {{name: {name}, source: {{{source}}}}}")
        manifest = write_manifest(tmp_path, "\n".join(lines) + "\n")
        # --import-timeout: an import task that stays pending fails the test in 2 minutes, not
        # after the default 10.
        applied = run_cli(
            "apply",
            str(manifest),
            "--cloud",
            "local",
            "--auto-approve",
            "--parallel",
            "4",
            "--import-timeout",
            "120",
        )
        assert applied.code == 0, applied.output
        steps = 2 * len(images)  # a reserve and an upload or import each
        assert (
            f"Apply complete: {len(images)} created, 0 updated, 0 replaced, 0 deleted, "
            f"0 member changes; {steps} steps done."
        ) in applied.output
        replanned = run_cli("plan", str(manifest), "--cloud", "local", "--detailed-exitcode")
        assert replanned.code == 0, replanned.output
        assert "No changes. Glance matches the catalog." in replanned.output

    for name, (disk, how) in images.items():
        image = probe.only(name)
        data = disk.read_bytes()
        assert image["status"] == "active", (name, image["status"])
        assert image["size"] == len(data), name
        assert image["os_hash_value"] == hashlib.sha512(data).hexdigest(), name
        if how == "web-download":
            # One task, a success: no import failed and was started again by glance-catalog.
            tasks = probe.connection.image.get(f"/images/{image['id']}/tasks").json()["tasks"]
            assert [task["status"] for task in tasks] == ["success"], (name, tasks)

    # glance-catalog retries 5xx answers, so a clean apply alone does not prove that Glance
    # never failed a request: its log does.
    with glance_log.open("rb") as handle:
        handle.seek(log_start)
        logged = handle.read().decode(errors="replace").splitlines()
    locked = [line for line in logged if "database is locked" in line]
    assert locked == [], locked[:3]
