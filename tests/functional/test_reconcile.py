"""The reconcile engine against the real local Glance and Keystone: members and their
acceptance, drift, prune and --max-delete, adopt, fixed ids, replacement, saved plans."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.functional.support import (
    REPO,
    GlanceProbe,
    assert_converged,
    make_disk,
    run_cli,
    sha256_of,
    write_manifest,
)
from tests.localcloud import LocalCloud

pytestmark = pytest.mark.glance


def cli(*args: str) -> tuple[int, str]:
    """Exit code and stdout + stderr of glance-catalog ARGS --cloud local."""
    result = run_cli(*args, "--cloud", "local")
    return result.code, result.output


def cli_json(*args: str) -> tuple[int, Any]:
    """Exit code and parsed stdout of glance-catalog ARGS --cloud local."""
    result = run_cli(*args, "--cloud", "local")
    assert result.code in (0, 2), result.output
    return result.code, json.loads(result.stdout)


def apply(manifest: Path, *extra: str) -> str:
    code, output = cli("apply", str(manifest), "--auto-approve", *extra)
    assert code == 0, output
    return output


def test_members_are_added_accepted_through_the_member_cloud_and_removed(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, local_cloud: LocalCloud
) -> None:
    project_a = local_cloud.project_ids["project-a"]
    project_b = local_cloud.project_ids["project-b"]
    make_disk(tmp_path / "d.raw", 50_000, 1)
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images:
          - name: {catalog_name}-shared
            disk_format: raw
            source: {{file: d.raw, checksum: "{sha256_of(tmp_path / "d.raw")}"}}
            visibility: shared
            members:
              - project-a
              - {{project: project-b, accept_with: local-b}}
        """,
    )
    code, output = cli("plan", str(manifest))
    assert code == 0, output
    assert f"+ {catalog_name}-shared: project project-a ({project_a}) will be added" in output
    assert f"project project-b ({project_b}) will accept its membership (cloud 'local-b')" in output
    assert "Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 3 member changes." in output

    apply(manifest)
    image = probe.only(f"{catalog_name}-shared")
    assert probe.members(image["id"]) == {project_a: "pending", project_b: "accepted"}
    assert image["id"] in GlanceProbe("local-b").visible_ids()
    assert image["id"] not in GlanceProbe("local-a").visible_ids()
    code, output = cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0, output
    assert f"member project-a ({project_a}) has status pending" in output

    probe.remove_member(image["id"], project_b)
    code, report = cli_json("drift", str(manifest), "--json")
    assert code == 2, report
    (drifted,) = report["images"]
    assert [(d["action"], d["member"]) for d in drifted["drift"]] == [
        ("add_member", project_b),
        ("accept_member", project_b),
    ]
    apply(manifest)
    assert probe.members(image["id"])[project_b] == "accepted"
    assert_converged(manifest, says_no_changes=True)

    manifest.write_text(
        manifest.read_text()
        .replace("visibility: shared", "visibility: private")
        .split("    members:")[0]
    )
    _, planned = cli_json("plan", str(manifest), "--json")
    assert [a["action"] for a in planned["actions"]] == [
        "remove_member",
        "remove_member",
        "update",
    ]
    apply(manifest)
    assert probe.show(image["id"])["visibility"] == "private"
    assert_converged(manifest, says_no_changes=True)


def test_an_unknown_member_project_is_an_error_before_any_change(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str
) -> None:
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images:
          - {{name: {catalog_name}-x, disk_format: raw, visibility: shared, members: [nobody]}}
        """,
    )
    code, output = cli("apply", str(manifest), "--auto-approve")
    assert code == 1
    # A conflict at the member's entry in the manifest (line 4, the flow list's item).
    assert f"{manifest}:4:" in output and (
        "member project 'nobody' does not exist in Keystone" in output
    )
    assert output.splitlines()[-1] == "the plan has conflicts; nothing was changed"
    assert "Traceback" not in output
    assert probe.named(f"{catalog_name}-x") == []


def test_a_member_role_owner_names_members_by_id(
    tmp_path: Path, catalog_name: str, local_cloud: LocalCloud
) -> None:
    owner = GlanceProbe("local-a")
    project_b = local_cloud.project_ids["project-b"]
    image = f"{catalog_name}-from-a"
    text = f"""
        version: 1
        catalog: {catalog_name}
        images:
          - {{name: {image}, disk_format: raw, visibility: shared, members: [MEMBER]}}
        """
    manifest = write_manifest(tmp_path, text.replace("MEMBER", "project-b"))
    by_name = run_cli("plan", str(manifest), "--cloud", "local-a")
    assert by_name.code == 1
    assert "may not look projects up by name in Keystone; give the project id" in by_name.stderr
    manifest = write_manifest(tmp_path, text.replace("MEMBER", project_b))
    try:
        applied = run_cli("apply", str(manifest), "--cloud", "local-a", "--auto-approve")
        assert applied.code == 0, applied.output
        assert owner.members(owner.only(image)["id"]) == {project_b: "pending"}
        assert run_cli("plan", str(manifest), "--cloud", "local-a", "--detailed-exitcode").code == 0
    finally:
        owner.delete_named(image)


def test_hand_drift_is_reported_by_drift_and_reverted_by_apply(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str
) -> None:
    make_disk(tmp_path / "d.raw", 40_000, 2)
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images:
          - name: {catalog_name}-img
            disk_format: raw
            source: {{file: d.raw}}
            min_ram: 512
            tags: [lts]
            properties:
              hw_cpu_cores: "2"
              hw_video_ram: "64"
              hw_disk_bus: scsi
              hw_scsi_model: virtio-scsi
              hw_qemu_guest_agent: "yes"
              hw_machine_type: q35
              hw_firmware_type: uefi
              hw_rng_model: virtio
              os_distro: ubuntu
              os_version: "24.04"
              os_type: linux
              os_admin_user: ubuntu
              os_require_quiesce: "yes"
              architecture: x86_64
        """,
    )
    apply(manifest)
    assert_converged(manifest, says_no_changes=True)
    image = probe.only(f"{catalog_name}-img")
    image_id = image["id"]
    probe.patch(
        image_id,
        [
            {"op": "replace", "path": "/hw_cpu_cores", "value": "4"},
            {"op": "replace", "path": "/min_ram", "value": 1024},
            {"op": "replace", "path": "/tags", "value": [*image["tags"], "intruder"]},
        ],
    )
    probe.action(image_id, "deactivate")
    code, report = cli_json("drift", str(manifest), "--json")
    assert code == 2, report
    assert report["in_sync"] is False and report["drifted_images"] == 1
    changes = {
        change["path"]: (change["before"], change["after"])
        for step in report["images"][0]["drift"]
        for change in step["changes"]
    }
    assert changes["properties.hw_cpu_cores"] == ("4", "2")
    assert changes["min_ram"] == (1024, 512)
    assert "intruder" in changes["tags"][0] and "intruder" not in changes["tags"][1]
    assert "reactivate" in [step["action"] for step in report["images"][0]["drift"]]

    apply(manifest)
    image = probe.show(image_id)
    assert image["hw_cpu_cores"] == "2" and image["min_ram"] == 512
    assert "intruder" not in image["tags"] and image["status"] == "active"
    code, output = cli("drift", str(manifest))
    assert code == 0 and "In sync." in output, output


def test_images_left_out_of_the_manifest_are_deleted_only_with_prune(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str
) -> None:
    names = [f"{catalog_name}-{index}" for index in range(4)]
    listed = "\n".join(f"  - {{name: {name}, disk_format: raw, protected: true}}" for name in names)
    manifest = tmp_path / "catalog.yaml"
    manifest.write_text(f"version: 1\ncatalog: {catalog_name}\nimages:\n{listed}\n")
    apply(manifest)
    manifest.write_text(f"version: 1\ncatalog: {catalog_name}\nimages:\n{listed.splitlines()[0]}\n")

    code, output = cli("plan", str(manifest), "--detailed-exitcode")
    assert code == 0, output
    for name in names[1:]:
        assert f"image '{name}': image " in output and "not in the manifest; kept" in output
    code, output = cli("apply", str(manifest), "--auto-approve", "--prune", "--max-delete", "2")
    assert code == 1
    assert "the plan deletes 3 images, more than --max-delete 2 allows" in output
    assert all(probe.only(name)["protected"] for name in names)

    output = apply(manifest, "--prune")
    assert "Apply complete" in output
    assert [probe.named(name) for name in names[1:]] == [[], [], []]
    assert probe.only(names[0])["protected"] is True
    assert_converged(manifest, says_no_changes=True)


def test_adopt_takes_over_an_image_made_by_hand_with_its_members_in_one_run(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, local_cloud: LocalCloud
) -> None:
    name = f"{catalog_name}-legacy"
    by_hand = probe.create(
        name=name, disk_format="raw", container_format="bare", min_ram=1, visibility="shared"
    )
    probe.add_member(by_hand["id"], local_cloud.project_ids["project-a"])
    try:
        text = f"""
            version: 1
            catalog: {catalog_name}
            images:
              - name: {name}
                disk_format: raw
                min_ram: 256
                visibility: shared
                members: [project-b]ADOPT
            """
        manifest = write_manifest(tmp_path, text.replace("ADOPT", ""))
        code, output = cli("plan", str(manifest))
        assert code == 1
        assert f"not managed by this catalog: {by_hand['id']}" in output
        assert "set adopt: true to take it over" in output

        manifest = write_manifest(tmp_path, text.replace("ADOPT", "\n                adopt: true"))
        apply(manifest)
        adopted = probe.show(by_hand["id"])
        assert f"glance-catalog:{catalog_name}" in adopted["tags"]
        assert adopted["min_ram"] == 256
        assert probe.members(by_hand["id"]) == {local_cloud.project_ids["project-b"]: "pending"}
        assert_converged(manifest, says_no_changes=True)
    finally:
        probe.delete_named(name)


def test_an_image_with_an_id_is_created_with_that_id(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str
) -> None:
    image_id = str(uuid.uuid4())
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images:
          - {{name: {catalog_name}-fixed, id: "{image_id.upper()}", disk_format: raw}}
        """,
    )
    apply(manifest)
    assert probe.show(image_id)["name"] == f"{catalog_name}-fixed"
    assert_converged(manifest, says_no_changes=True)


@pytest.mark.parametrize("keep_previous", [False, True])
def test_a_new_source_replaces_the_image_and_the_name_moves_to_it(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str, keep_previous: bool
) -> None:
    name = f"{catalog_name}-os"
    text = f"""
        version: 1
        catalog: {catalog_name}
        images:
          - name: {name}
            disk_format: raw
            protected: true
            keep_previous: {str(keep_previous).lower()}
            source: {{file: DISK, checksum: "CHECKSUM"}}
        """

    def write(disk: str) -> Path:
        checksum = sha256_of(tmp_path / disk)
        return write_manifest(tmp_path, text.replace("DISK", disk).replace("CHECKSUM", checksum))

    make_disk(tmp_path / "v1.raw", 30_000, 1)
    make_disk(tmp_path / "v2.raw", 31_000, 2)
    apply(write("v1.raw"))
    old_id = probe.only(name)["id"]
    manifest = write("v2.raw")
    _, planned = cli_json("plan", str(manifest), "--json")
    steps = [(a["action"], a["image_id"]) for a in planned["actions"]]
    expected = [("reserve", None), ("upload", None), ("rename", None), ("rename", old_id)]
    assert steps == expected + ([] if keep_previous else [("delete", old_id)])

    output = apply(manifest)
    # Counted by image, as the plan counts: one replaced (its old image's delete included).
    assert "Apply complete: 0 created, 0 updated, 1 replaced, 0 deleted, 0 member changes;" in (
        output
    )
    new = probe.only(name)
    assert new["id"] != old_id and new["status"] == "active" and new["size"] == 31_000
    assert new["protected"] is True and new["os_hidden"] is False
    assert probe.named(f"{name} (replacement)") == []
    if keep_previous:
        previous = probe.show(old_id)
        assert previous["name"] == f"{name} (previous {old_id[:8]})"
        assert previous["glance_catalog_previous_of"] == name
    else:
        assert probe.named(f"{name} (previous {old_id[:8]})") == []
    assert_converged(manifest, says_no_changes=True)


def test_a_saved_plan_applies_exactly_and_a_stale_one_is_refused(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str
) -> None:
    name = f"{catalog_name}-saved"
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images:
          - {{name: {name}, disk_format: raw, min_ram: 64}}
        """,
    )
    plan_file = tmp_path / "plan.json"
    code, output = cli("plan", str(manifest), "-o", str(plan_file))
    assert code == 0, output
    assert probe.named(name) == []
    code, output = cli("apply", str(plan_file))
    assert code == 0, output
    image_id = probe.only(name)["id"]

    manifest.write_text(manifest.read_text().replace("min_ram: 64", "min_ram: 128"))
    code, output = cli("plan", str(manifest), "-o", str(plan_file))
    assert code == 0, output
    probe.patch(image_id, [{"op": "replace", "path": "/min_disk", "value": 3}])
    code, output = cli("apply", str(plan_file))
    assert code == 1
    assert "plan is stale: the images in cloud 'local' changed since it was made" in output
    assert probe.show(image_id)["min_ram"] == 64

    code, output = cli("plan", str(manifest), "-o", str(plan_file))
    assert code == 0, output
    manifest.write_text(manifest.read_text().replace("min_ram: 128", "min_ram: 256"))
    code, output = cli("apply", str(plan_file))
    assert code == 1 and "plan is stale: the manifests changed" in output
    assert probe.show(image_id)["min_ram"] == 64


def test_a_reserved_image_takes_new_formats_before_its_first_data(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str
) -> None:
    name = f"{catalog_name}-later"
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images: [{{name: {name}, disk_format: raw}}]
        """,
    )
    apply(manifest)
    qcow2 = REPO / "examples" / "images" / "cirros-0.6.2.qcow2"
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images:
          - name: {name}
            disk_format: qcow2
            source: {{file: {qcow2}, checksum: "{sha256_of(qcow2)}"}}
        """,
    )
    _, planned = cli_json("plan", str(manifest), "--json")
    assert [a["action"] for a in planned["actions"]] == ["prepare", "upload"]
    apply(manifest)
    image = probe.only(name)
    assert (image["status"], image["disk_format"]) == ("active", "qcow2")
    assert image["glance_catalog_source_checksum"] == sha256_of(qcow2)
    assert_converged(manifest, says_no_changes=True)


def test_data_whose_checksum_was_never_recorded_is_replaced(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str
) -> None:
    name = f"{catalog_name}-unsure"
    checksum = sha256_of(make_disk(tmp_path / "d.raw", 20_000, 4))
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images:
          - {{name: {name}, disk_format: raw, source: {{file: d.raw, checksum: "{checksum}"}}}}
        """,
    )
    apply(manifest)
    old_id = probe.only(name)["id"]
    probe.patch(old_id, [{"op": "remove", "path": "/glance_catalog_source_checksum"}])
    code, output = cli("plan", str(manifest))
    assert code == 0, output
    assert "its data was never verified against sha256:" in output
    apply(manifest)
    new = probe.only(name)
    assert new["id"] != old_id and new["status"] == "active"
    assert_converged(manifest, says_no_changes=True)


def test_a_fixed_id_once_deleted_is_refused_by_glance_with_a_clear_error(
    tmp_path: Path, probe: GlanceProbe, catalog_name: str
) -> None:
    image_id = str(uuid.uuid4())
    manifest = write_manifest(
        tmp_path,
        f"""
        version: 1
        catalog: {catalog_name}
        images: [{{name: {catalog_name}-gone, id: "{image_id}", disk_format: raw}}]
        """,
    )
    apply(manifest)
    probe.delete(image_id)
    code, output = cli("apply", str(manifest), "--auto-approve")
    assert code == 1
    assert f"Glance refuses id {image_id}: an image had it before" in output
    assert "Traceback" not in output
