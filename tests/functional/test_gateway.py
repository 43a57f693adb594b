"""The gateway against the real local Glance, called directly: GlanceImages
(reconciler.gateway.glance_images) reads a Snapshot of the project's images and makes
repeatable changes; GlanceGateway (reconciler.gateway.glance_gateway) recreates an image
with the fields catalog.fields clones, and accepts a share through the member project's own
clouds.yaml entry."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from catalog.fields import CLONED_KEYS
from reconciler.core.actions import FieldChange
from reconciler.core.observed import SOURCE_PROPERTY
from reconciler.errors import CloudError
from reconciler.gateway.glance_gateway import GlanceGateway
from reconciler.gateway.glance_images import READ_CONCURRENCY, GlanceImages
from tests.functional.support import GlanceProbe
from tests.localcloud import LocalCloud

CHECKSUM = "sha256:" + "cd" * 32


@pytest.fixture
def gateway(local_cloud: LocalCloud) -> Iterator[GlanceGateway]:
    opened = GlanceGateway("local", concurrency=READ_CONCURRENCY)
    try:
        yield opened
    finally:
        opened.close()


def test_a_snapshot_reads_hidden_images_and_the_members_of_the_shared_images_asked_for(
    gateway: GlanceGateway, probe: GlanceProbe, catalog_name: str, local_cloud: LocalCloud
) -> None:
    assert isinstance(gateway, GlanceImages)
    marker = f"glance-catalog:{catalog_name}"
    project_a = local_cloud.project_ids["project-a"]
    project_b = local_cloud.project_ids["project-b"]
    seen = probe.create(name=f"{catalog_name}-seen", tags=[marker])
    hidden = probe.create(name=f"{catalog_name}-hidden", tags=[marker], os_hidden=True)
    shared = probe.create(name=f"{catalog_name}-shared", tags=[marker], visibility="shared")
    probe.add_member(shared["id"], project_a)
    # Shared but not the catalog's (cleaned up by hand: it carries no marker).
    other = probe.create(name=f"{catalog_name}-other", visibility="shared")
    try:
        probe.add_member(other["id"], project_b)
        before = time.time()
        snapshot = gateway.snapshot(marker, projects=["project-a"])
        after = time.time()
        assert (snapshot.cloud, snapshot.project_id) == ("local", probe.project_id)
        assert before - 1 <= snapshot.taken_at <= after
        assert snapshot.projects == {"project-a": project_a} and snapshot.unresolved == {}
        ours = {image.name: image for image in snapshot.images if catalog_name in image.name}
        assert sorted(ours) == sorted(
            f"{catalog_name}-{name}" for name in ("seen", "hidden", "shared", "other")
        )
        assert ours[f"{catalog_name}-hidden"].id == hidden["id"]
        assert ours[f"{catalog_name}-hidden"].fields["hidden"] is True
        assert ours[f"{catalog_name}-seen"].id == seen["id"]
        assert ours[f"{catalog_name}-seen"].tags == {marker}
        assert ours[f"{catalog_name}-shared"].members == {project_a: "pending"}
        # Members are read only for the shared images asked for: by marker, name or id.
        assert ours[f"{catalog_name}-other"].members == {}
        by_name = gateway.snapshot(marker, names=[f"{catalog_name}-other"])
        by_id = gateway.snapshot(marker, ids=[other["id"]])
        everything = gateway.snapshot(None)
        for again in (by_name, by_id, everything):
            (found,) = [image for image in again.images if image.id == other["id"]]
            assert found.members == {project_b: "pending"}
        # The images are in the order of their ids.
        ids = [image.id for image in snapshot.images]
        assert ids == sorted(ids)
    finally:
        probe.delete(other["id"])


def test_an_unknown_member_project_is_unresolved_in_a_snapshot_and_refused_when_resolved(
    gateway: GlanceGateway, local_cloud: LocalCloud
) -> None:
    snapshot = gateway.snapshot("glance-catalog:none", projects=["no-such-project"])
    assert snapshot.projects == {}
    assert list(snapshot.unresolved) == ["no-such-project"]
    assert gateway.resolve_projects(["project-b"]) == {
        "project-b": local_cloud.project_ids["project-b"]
    }
    with pytest.raises(CloudError, match="no-such-project"):
        gateway.resolve_projects(["project-b", "no-such-project"])


def test_recreate_makes_the_image_again_with_the_cloned_fields_properties_and_members(
    gateway: GlanceGateway, probe: GlanceProbe, catalog_name: str, local_cloud: LocalCloud
) -> None:
    marker = f"glance-catalog:{catalog_name}"
    name = f"{catalog_name}-broken"
    project_a = local_cloud.project_ids["project-a"]
    project_b = local_cloud.project_ids["project-b"]
    old = probe.create(
        name=name,
        disk_format="qcow2",
        container_format="ovf",
        visibility="shared",
        protected=True,
        os_hidden=True,
        min_disk=3,
        min_ram=256,
        tags=[marker, "lts"],
        os_distro="ubuntu",
        **{SOURCE_PROPERTY: CHECKSUM},
    )
    probe.add_member(old["id"], project_a)
    probe.add_member(old["id"], project_b)
    GlanceProbe("local-b").set_member_status(old["id"], project_b, "accepted")

    new_id = gateway.recreate(old["id"], name)

    assert new_id != old["id"]
    (new,) = probe.named(name)  # the old one is gone: one image under the name
    assert new["id"] == new_id and new["status"] == "queued"
    assert {key for key in CLONED_KEYS if key in old} == CLONED_KEYS
    for key in sorted(CLONED_KEYS - {"tags"}):
        assert new[key] == old[key], key
    assert set(new["tags"]) == {marker, "lts"}
    assert new["protected"] is True and new["os_hidden"] is True
    assert new["os_distro"] == "ubuntu"
    # The checksum of data verified into the old image says nothing of the new one.
    assert SOURCE_PROPERTY not in new
    # Members again, each to accept again (a new image is a new share).
    assert probe.members(new_id) == {project_a: "pending", project_b: "pending"}


def test_changes_glance_answers_as_done_already_are_safe_to_repeat(
    gateway: GlanceGateway, probe: GlanceProbe, catalog_name: str, local_cloud: LocalCloud
) -> None:
    marker = f"glance-catalog:{catalog_name}"
    project_a = local_cloud.project_ids["project-a"]
    image = probe.create(
        name=f"{catalog_name}-repeat",
        disk_format="raw",
        container_format="bare",
        visibility="shared",
        tags=[marker],
    )
    image_id = str(image["id"])
    probe.upload(image_id, b"repeatable bytes" * 64)
    for _ in range(2):
        gateway.add_member(image_id, project_a)
    assert probe.members(image_id) == {project_a: "pending"}
    for _ in range(2):
        gateway.remove_member(image_id, project_a)
    assert probe.members(image_id) == {}
    for _ in range(2):
        gateway.deactivate(image_id)
    assert probe.show(image_id)["status"] == "deactivated"
    gateway.reactivate(image_id)
    assert probe.show(image_id)["status"] == "active"
    tags = FieldChange("tags", [marker], [marker, "x"])
    gateway.update(image_id, (FieldChange("min_ram", 0, 128), tags))
    gateway.update(image_id, (FieldChange("properties.os_distro", None, "cirros"),))
    shown = probe.show(image_id)
    assert (shown["min_ram"], shown["os_distro"]) == (128, "cirros")
    assert sorted(shown["tags"]) == sorted([marker, "x"])
    for _ in range(2):
        gateway.delete(image_id)
    assert probe.named(f"{catalog_name}-repeat") == []


def test_a_share_is_accepted_only_through_the_member_projects_own_entry(
    gateway: GlanceGateway, probe: GlanceProbe, catalog_name: str, local_cloud: LocalCloud
) -> None:
    project_a = local_cloud.project_ids["project-a"]
    project_b = local_cloud.project_ids["project-b"]
    image = probe.create(
        name=f"{catalog_name}-share",
        visibility="shared",
        tags=[f"glance-catalog:{catalog_name}"],
    )
    image_id = str(image["id"])
    probe.add_member(image_id, project_b)
    assert gateway.accept_cloud_problem("local-b", project_b) is None
    assert gateway.accept_cloud_problem("local-a", project_b) == (
        f"accept_with: cloud 'local-a' is scoped to project {project_a}, not to the member "
        f"{project_b}"
    )
    missing = f"no-such-cloud-{uuid.uuid4().hex[:6]}"
    problem = gateway.accept_cloud_problem(missing, project_b)
    assert problem is not None and problem.startswith("accept_with: ") and missing in problem
    with pytest.raises(CloudError, match="is scoped to project"):
        gateway.accept_member(image_id, project_b, "local-a")
    assert probe.members(image_id) == {project_b: "pending"}
    gateway.accept_member(image_id, project_b, "local-b")
    assert probe.members(image_id) == {project_b: "accepted"}
