"""A Glance whose image API predates the image tasks API (2.12): the real local Glance behind a
proxy whose version document lists v2.11 as CURRENT and that answers 404 where 2.11 has no
endpoint (``/v2/images/{id}/tasks``). glance-catalog reads the version document, never asks for
tasks, and follows web-downloads by Glance's import lock alone: they converge, and a failed one
is an error that says Glance gave no reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.faultproxy import CannedAnswer, FaultProxy
from tests.functional.support import (
    GlanceProbe,
    raw_catalog,
    run_cli,
    served_disk,
    sha256_of,
    step_line,
)
from tests.localcloud import LocalCloud

pytestmark = pytest.mark.glance

TASKS = r"/v2/images/[^/?]+/tasks(\?.*)?"
VERSIONS_2_11 = {
    "versions": [
        {"id": f"v2.{minor}", "status": "CURRENT" if minor == 11 else "SUPPORTED", "links": []}
        for minor in range(11, -1, -1)
    ]
}


@pytest.fixture
def older_glance(local_cloud: LocalCloud, tmp_path: Path) -> Iterator[tuple[FaultProxy, Path]]:
    """The proxy that presents API 2.11, and a clouds.yaml whose cloud ``older`` reaches Glance
    through it (Keystone directly)."""
    answers = [
        CannedAnswer("GET", r"/(versions)?", 300, VERSIONS_2_11),
        CannedAnswer("GET", TASKS, 404, {"message": "The resource could not be found."}),
    ]
    with FaultProxy(local_cloud.glance_url, rate=0.0, answers=answers) as proxy:
        clouds = yaml.safe_load(local_cloud.clouds_yaml.read_text())["clouds"]
        older = yaml.safe_load(yaml.safe_dump(clouds["local"]))
        older["image_endpoint_override"] = proxy.url
        clouds["older"] = older
        path = tmp_path / "clouds.yaml"
        path.write_text(yaml.safe_dump({"clouds": clouds}))
        yield proxy, path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    with served_disk(tmp_path, 2 * 1024 * 1024 + 11, 23) as served:
        yield served


def run_older(clouds: Path, *args: str) -> tuple[int, str]:
    result = run_cli(*args, "--cloud", "older", env={"OS_CLIENT_CONFIG_FILE": str(clouds)})
    return result.code, result.output


def test_web_downloads_converge_without_the_image_tasks_api(
    tmp_path: Path,
    probe: GlanceProbe,
    catalog_name: str,
    served: tuple[Path, str],
    older_glance: tuple[FaultProxy, Path],
) -> None:
    proxy, clouds = older_glance
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    source = f'{{url: "{base}/disk.raw", checksum: "{checksum}", method: web-download}}'
    manifest = raw_catalog(
        tmp_path, catalog_name, {f"w{index}": f", source: {source}" for index in range(3)}
    )
    code, output = run_older(clouds, "apply", str(manifest), "--auto-approve", "--parallel", "3")
    assert code == 0, output
    for index in range(3):
        image = probe.only(f"{catalog_name}-w{index}")
        assert image["status"] == "active", image
        assert image["size"] == (folder / "disk.raw").stat().st_size
        assert not image.get("os_glance_import_task"), image
    # What the version document says was believed: the tasks were never asked for.
    assert proxy.canned[TASKS] == 0, proxy.canned
    assert proxy.canned[r"/(versions)?"] >= 1, proxy.canned
    replan_code, replan = run_older(clouds, "plan", str(manifest), "--detailed-exitcode")
    assert replan_code == 0, replan


def test_a_failed_web_download_without_the_image_tasks_api_says_glance_gave_no_reason(
    tmp_path: Path,
    probe: GlanceProbe,
    catalog_name: str,
    served: tuple[Path, str],
    older_glance: tuple[FaultProxy, Path],
) -> None:
    proxy, clouds = older_glance
    folder, base = served
    checksum = sha256_of(folder / "disk.raw")
    manifest = raw_catalog(
        tmp_path,
        catalog_name,
        {
            "gone": f', source: {{url: "{base}/vanishing/disk.raw", checksum: "{checksum}", '
            "method: web-download}",
            "right": f', source: {{url: "{base}/disk.raw", checksum: "{checksum}", '
            "method: web-download}",
        },
    )
    code, output = run_older(clouds, "apply", str(manifest), "--auto-approve", "--parallel", "2")
    assert code == 1, output
    gone = step_line(output, f"{catalog_name}-gone", "import")
    assert f"failed (Glance could not import {base}/vanishing/disk.raw" in gone, gone
    assert "Glance does not say why (its image API, 2.11, has no image tasks)" in gone, gone
    stored = probe.only(f"{catalog_name}-gone")
    assert stored["status"] == "queued" and not stored.get("os_glance_import_task"), stored
    assert probe.only(f"{catalog_name}-right")["status"] == "active"
    assert proxy.canned[TASKS] == 0, proxy.canned
    assert "Traceback" not in output
