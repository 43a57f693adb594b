"""The README's promise "the whole run may spend at most N retries", with the real CLI and the
real local cloud: a run over two targets that read two checksum files each, through proxies
that fail every request, spends the run's budget once in total, not once per target or per
checksum file. (Checksum files are read before a target logs in, so nothing reaches Keystone
here; that a login's retries come from the same budget is test_clouds.py's.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faultproxy import FaultProxy
from tests.functional.support import make_disk, run_cli, serve_folder, sha256_of, write_manifest
from tests.functional.test_faults import faulty_clouds
from tests.localcloud import LocalCloud

pytestmark = pytest.mark.glance

# Far below what the run would spend with a budget per target or per fetch: each target's two
# checksum files take 4 retries each, 16 in all.
BUDGET = 3


def budget_manifest(folder: Path, catalog: str, base: str) -> Path:
    """Two targets, each reading the two checksum files at ``base``."""
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
          - {{name: b, cloud: faulty-b}}
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
        # Every request got its 503; none reached the mirror, and the run stopped before it
        # logged in.
        assert {entry.fault for entry in mirror.log} == {"503"}, result.output
        assert (keystone.log, glance.log) == ([], []), result.output
        return len(mirror.log), result.code


def test_a_run_over_two_targets_spends_one_retry_budget_in_total(
    tmp_path: Path, local_cloud: LocalCloud, catalog_name: str
) -> None:
    # Without retries the run sends each request once: each target its two checksum files.
    first_tries, code = requests_of_a_failing_run(tmp_path, local_cloud, catalog_name, 0)
    assert (first_tries, code) == (4, 1)
    # With a budget, every request beyond those is a retry, and the run may send BUDGET of
    # them over both targets and their checksum files together: it sends all
    # BUDGET (each fault is transient) and not one more.
    sent, code = requests_of_a_failing_run(tmp_path, local_cloud, catalog_name, BUDGET)
    assert code == 1
    assert sent - first_tries == BUDGET
