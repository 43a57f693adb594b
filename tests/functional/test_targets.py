"""Runs over several targets against the real local Glance: two projects (clouds local-a and
local-b) as two targets, each with its own overrides, planned, applied and checked per target."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.faultproxy import FaultProxy
from tests.functional.support import GlanceProbe, make_disk, run_cli, sha256_of, write_manifest
from tests.functional.test_cloud_errors import silent_server
from tests.localcloud import LocalCloud
from tests.localcloud.multistore import ExtraGlance
from tests.localcloud.regions import REGION_TWO, REGION_TWO_CLOUD


@pytest.fixture
def fleet_catalog(local_cloud: LocalCloud) -> Iterator[str]:
    """A catalog name unique to one test; its images are deleted from both projects after."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    yield name
    for cloud in ("local-a", "local-b"):
        GlanceProbe(cloud).delete_tagged(f"glance-catalog:{name}")


def fleet_manifest(folder: Path, catalog: str, extra_target: str = "") -> Path:
    make_disk(folder / "d.raw", 64 * 1024, 5)
    checksum = sha256_of(folder / "d.raw")
    return write_manifest(
        folder,
        f"""
        version: 1
        catalog: {catalog}
        defaults: {{disk_format: raw}}
        targets:
          - {{name: a, cloud: local-a}}
          - name: b
            cloud: local-b
            overrides: {{min_ram: 256, properties: {{site: b}}}}
            images:
              {catalog}-tools: {{hidden: true}}
        {extra_target}
        images:
          - name: {catalog}-base
            source: {{file: d.raw, checksum: "{checksum}"}}
            properties: {{os_distro: debian, site: default}}
          - name: {catalog}-tools
            min_ram: 64
        """,
    )


def test_each_target_gets_the_catalog_with_its_overrides_and_converges(
    tmp_path: Path, fleet_catalog: str
) -> None:
    manifest = fleet_manifest(tmp_path, fleet_catalog)
    planned = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert planned.code == 2, planned.output
    assert "=== a (local-a) ===" in planned.stdout
    assert "=== b (local-b) ===" in planned.stdout
    assert (
        "2 targets: 4 to create, 0 to update, 0 to replace, 0 to delete, 0 member changes."
        in planned.stdout
    )

    applied = run_cli("apply", str(manifest), "--auto-approve")
    assert applied.code == 0, applied.output
    assert (
        "2 targets: 4 created, 0 updated, 0 replaced, 0 deleted, 0 member changes."
        in applied.stdout
    )
    a, b = GlanceProbe("local-a"), GlanceProbe("local-b")
    base_a, base_b = a.only(f"{fleet_catalog}-base"), b.only(f"{fleet_catalog}-base")
    assert (base_a["min_ram"], base_a["site"], base_a["status"]) == (0, "default", "active")
    assert (base_b["min_ram"], base_b["site"], base_b["os_distro"]) == (256, "b", "debian")
    assert base_a["owner"] != base_b["owner"]
    tools_a, tools_b = a.only(f"{fleet_catalog}-tools"), b.only(f"{fleet_catalog}-tools")
    assert (tools_a["min_ram"], tools_a["os_hidden"]) == (64, False)
    assert (tools_b["min_ram"], tools_b["os_hidden"]) == (256, True)

    replan = run_cli("plan", str(manifest), "--detailed-exitcode")
    assert replan.code == 0, replan.output
    drift = run_cli("drift", str(manifest))
    assert drift.code == 0, drift.output

    # Drift in one target alone: the run exits 2, and says which.
    b.patch(base_b["id"], [{"op": "replace", "path": "/min_disk", "value": 4}])
    drift = run_cli("drift", str(manifest), "--json")
    assert drift.code == 2, drift.output
    document = json.loads(drift.stdout)
    by_target = {entry["target"]["name"]: entry for entry in document["targets"]}
    assert document["in_sync"] is False
    assert by_target["a"]["drift"]["in_sync"] is True
    assert by_target["b"]["drift"]["drifted_images"] == 1


def test_a_failing_target_does_not_stop_the_others(tmp_path: Path, fleet_catalog: str) -> None:
    manifest = fleet_manifest(tmp_path, fleet_catalog, "  - {name: gone, cloud: no-such-cloud}")
    applied = run_cli("apply", str(manifest), "--auto-approve")
    assert applied.code == 1, applied.output
    assert "=== gone (no-such-cloud) ===" in applied.stdout
    assert "cloud 'no-such-cloud'" in applied.stdout
    assert "; 1 target failed (gone)." in applied.stdout
    assert GlanceProbe("local-a").only(f"{fleet_catalog}-base")["status"] == "active"
    assert GlanceProbe("local-b").only(f"{fleet_catalog}-base")["status"] == "active"


def test_target_and_cloud_choose_among_the_targets(tmp_path: Path, fleet_catalog: str) -> None:
    manifest = fleet_manifest(tmp_path, fleet_catalog)
    only_b = run_cli("apply", str(manifest), "--target", "b", "--auto-approve")
    assert only_b.code == 0, only_b.output
    assert "=== a" not in only_b.stdout
    assert GlanceProbe("local-a").named(f"{fleet_catalog}-base") == []
    assert len(GlanceProbe("local-b").named(f"{fleet_catalog}-base")) == 1
    by_cloud = run_cli("plan", str(manifest), "--cloud", "local-a", "--json")
    assert by_cloud.code == 0, by_cloud.output
    names = [entry["target"]["name"] for entry in json.loads(by_cloud.stdout)["targets"]]
    assert names == ["a"]
    unknown = run_cli("plan", str(manifest), "--target", "c")
    assert unknown.code == 1
    assert unknown.stderr.strip().splitlines() == [
        f"--target c: catalog '{fleet_catalog}' has no such target (it has a, b)"
    ]


def test_a_saved_plan_over_targets_is_checked_per_target(
    tmp_path: Path, fleet_catalog: str
) -> None:
    manifest = fleet_manifest(tmp_path, fleet_catalog)
    assert run_cli("apply", str(manifest), "--auto-approve").code == 0
    manifest.write_text(manifest.read_text().replace("min_ram: 64", "min_ram: 128"))
    plan_file = tmp_path / "plan.json"
    planned = run_cli("plan", str(manifest), "-o", str(plan_file))
    assert planned.code == 0, planned.output
    saved = json.loads(plan_file.read_text())
    assert saved["format_version"] == 4
    assert [entry["target"]["name"] for entry in saved["targets"]] == ["a", "b"]

    # Target b changes behind the plan's back: its part is refused, a's is applied.
    b = GlanceProbe("local-b")
    b.patch(b.only(f"{fleet_catalog}-base")["id"], [{"op": "add", "path": "/x", "value": "1"}])
    applied = run_cli("apply", str(plan_file))
    assert applied.code == 1, applied.output
    assert "plan is stale: the images in target 'b' (cloud 'local-b') changed" in applied.stdout
    assert GlanceProbe("local-a").only(f"{fleet_catalog}-tools")["min_ram"] == 128
    assert b.only(f"{fleet_catalog}-tools")["min_ram"] == 256


def test_several_clouds_without_targets_are_one_target_each(
    tmp_path: Path, fleet_catalog: str
) -> None:
    make_disk(tmp_path / "d.raw", 16 * 1024, 6)
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {fleet_catalog}
        images:
          - {{name: {fleet_catalog}-solo, disk_format: raw, min_ram: 32}}
        """,
    )
    applied = run_cli(
        "apply", str(manifest), "--cloud", "local-a", "--cloud", "local-b", "--auto-approve"
    )
    assert applied.code == 0, applied.output
    assert "=== local-a ===" in applied.stdout
    for cloud in ("local-a", "local-b"):
        assert GlanceProbe(cloud).only(f"{fleet_catalog}-solo")["min_ram"] == 32
    replan = run_cli(
        "plan", str(manifest), "--cloud", "local-a", "--cloud", "local-b", "--detailed-exitcode"
    )
    assert replan.code == 0, replan.output


def test_a_target_behind_a_failing_glance_and_one_behind_a_hung_keystone_fail_alone(
    tmp_path: Path, fleet_catalog: str, local_cloud: LocalCloud
) -> None:
    """Target b's Glance refuses every upload (503 through a proxy) and target c's Keystone
    never answers: both fail with their reason, a is applied; once the clouds are well again,
    a second apply converges everything."""
    manifest = fleet_manifest(
        tmp_path,
        fleet_catalog,
        "  - {name: c, cloud: hung}",
    ).read_text()
    faulty = tmp_path / "faulty.yaml"
    faulty.write_text(manifest.replace("cloud: local-b", "cloud: local-b-faulty"))
    with (
        FaultProxy(local_cloud.glance_url, rate={"upload": 1.0}, faults=("503",)) as glance,
        silent_server() as keystone,
    ):
        clouds = yaml.safe_load(local_cloud.clouds_yaml.read_text())["clouds"]
        clouds["local-b-faulty"] = {**clouds["local-b"], "image_endpoint_override": glance.url}
        clouds["hung"] = {**clouds["local-a"], "auth": {**clouds["local-a"]["auth"]}}
        clouds["hung"]["auth"]["auth_url"] = f"{keystone}/v3"
        clouds_yaml = tmp_path / "clouds.yaml"
        clouds_yaml.write_text(yaml.safe_dump({"clouds": clouds}))
        env = {"OS_CLIENT_CONFIG_FILE": str(clouds_yaml)}
        applied = run_cli("apply", str(faulty), "--auto-approve", "--timeout", "2", env=env)
        assert glance.injected > 0
    assert applied.code == 1, applied.output
    assert "did not answer within 2 s" in applied.stdout
    assert "; 2 targets failed (b, c)." in applied.stdout
    assert GlanceProbe("local-a").only(f"{fleet_catalog}-base")["status"] == "active"
    assert GlanceProbe("local-b").only(f"{fleet_catalog}-base")["status"] == "queued"

    healed = write_manifest(
        tmp_path, manifest.replace("  - {name: c, cloud: hung}\n", ""), "h.yaml"
    )
    again = run_cli("apply", str(healed), "--auto-approve")
    assert again.code == 0, again.output
    assert GlanceProbe("local-b").only(f"{fleet_catalog}-base")["status"] == "active"
    assert run_cli("plan", str(healed), "--detailed-exitcode").code == 0


def test_one_apply_feeds_the_first_region_and_the_second_pulls_from_it(
    tmp_path: Path, local_cloud: LocalCloud, region_two: ExtraGlance
) -> None:
    """Targets east (RegionOne) and west (RegionTwo, glance-download from RegionOne): one
    apply uploads to east, then west's Glance pulls from east's; the client reads the source
    once, and the next plan over both is empty."""
    catalog = f"t-{uuid.uuid4().hex[:8]}"
    make_disk(tmp_path / "r.raw", 96 * 1024, 8)
    checksum = sha256_of(tmp_path / "r.raw")
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog}
        targets:
          - {{name: east, cloud: local, region: RegionOne}}
          - name: west
            cloud: local
            region: {REGION_TWO}
            overrides: {{source: {{method: glance-download, region: RegionOne}}}}
        images:
          - name: {catalog}-pulled
            disk_format: raw
            source: {{file: r.raw, checksum: "{checksum}"}}
        """,
    )
    east, west = GlanceProbe("local"), GlanceProbe(REGION_TWO_CLOUD)
    try:
        planned = run_cli("plan", str(manifest))
        assert planned.code == 0, planned.output
        assert "data will be imported by Glance from region RegionOne" in planned.stdout
        applied = run_cli("apply", str(manifest), "--auto-approve")
        assert applied.code == 0, applied.output
        one, two = east.only(f"{catalog}-pulled"), west.only(f"{catalog}-pulled")
        assert one["status"] == two["status"] == "active"
        assert one["os_hash_value"] == two["os_hash_value"]
        replan = run_cli("plan", str(manifest), "--detailed-exitcode")
        assert replan.code == 0, replan.output
    finally:
        east.delete_tagged(f"glance-catalog:{catalog}")
        west.delete_tagged(f"glance-catalog:{catalog}")
