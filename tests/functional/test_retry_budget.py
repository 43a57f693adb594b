"""The README's promise "the whole run may spend at most N retries", against the real local
Keystone: a run over two targets, one reading two checksum files and the other logging in,
through proxies that fail every request, spends the run's budget once in total, not once per
target, per checksum file or per login."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faultproxy import FaultProxy
from tests.functional.support import make_disk, run_cli, serve_folder, sha256_of, write_manifest
from tests.functional.test_faults import faulty_clouds
from tests.localcloud import LocalCloud

pytestmark = pytest.mark.glance

# Far below what the run would spend with a budget per target or per fetch: target a's two
# checksum files take 4 retries each, target b's login 3.
BUDGET = 3


def budget_manifest(folder: Path, catalog: str, base: str) -> Path:
    """Target a resolves two checksum files at ``base``; target b gets both images absent,
    so it reads no checksum file and goes straight to Keystone."""
    disk = make_disk(folder / "disk.raw", 4096, 3)
    (folder / "SHA256SUMS").write_text(f"{sha256_of(disk)} *disk.raw\n")
    (folder / "OTHERSUMS").write_text(f"{sha256_of(disk)} *disk.raw\n")
    return write_manifest(
        folder,
        f"""
        version: 1
        catalog: {catalog}
        defaults: {{disk_format: raw}}
        targets:
          - {{name: a, cloud: faulty}}
          - name: b
            cloud: faulty-b
            images:
              {catalog}-one: {{state: absent}}
              {catalog}-two: {{state: absent}}
        images:
          - name: {catalog}-one
            source: {{url: "{base}/disk.raw", checksum_url: "{base}/SHA256SUMS"}}
          - name: {catalog}-two
            source: {{url: "{base}/disk.raw", checksum_url: "{base}/OTHERSUMS"}}
        """,
    )


def requests_of_a_failing_run(
    tmp_path: Path, local_cloud: LocalCloud, catalog: str, budget: int
) -> tuple[int, int]:
    """The requests one ``plan`` sent through proxies that answer every request with a 503
    (checksum files, Keystone, Glance) under a retry budget of ``budget``, and its exit code."""
    folder = tmp_path / f"budget-{budget}"
    folder.mkdir()
    with (
        serve_folder(folder) as served,
        FaultProxy(served, rate=1.0, faults=("503",)) as mirror,
        FaultProxy(local_cloud.keystone_url, rate=1.0, faults=("503",)) as keystone,
        FaultProxy(local_cloud.glance_url, rate=1.0, faults=("503",)) as glance,
    ):
        clouds = faulty_clouds(local_cloud.clouds_yaml, folder, glance.url, keystone.url)
        manifest = budget_manifest(folder, catalog, mirror.url)
        result = run_cli(
            "plan",
            str(manifest),
            env={"OS_CLIENT_CONFIG_FILE": str(clouds), "GLANCE_CATALOG_RETRY_BUDGET": str(budget)},
        )
        # Every request got its 503, none reached a server.
        assert {entry.fault for entry in mirror.log + keystone.log + glance.log} == {"503"}
        assert len(mirror.log) >= 2 and len(keystone.log) >= 1, result.output
        return len(mirror.log) + len(keystone.log) + len(glance.log), result.code


def test_a_run_over_two_targets_spends_one_retry_budget_in_total(
    tmp_path: Path, local_cloud: LocalCloud, catalog_name: str
) -> None:
    # Without retries the run sends each request once: its first tries.
    first_tries, code = requests_of_a_failing_run(tmp_path, local_cloud, catalog_name, 0)
    assert code == 1
    # With a budget, every request beyond those is a retry, and the run may send BUDGET of
    # them over both targets, both checksum files and the login together: it sends all
    # BUDGET (each fault is transient) and not one more.
    sent, code = requests_of_a_failing_run(tmp_path, local_cloud, catalog_name, BUDGET)
    assert code == 1
    assert sent - first_tries == BUDGET
