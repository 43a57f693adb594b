"""reconciler.core.diff: only what the manifest declares and the tool owns is compared."""

from __future__ import annotations

from dataclasses import replace

from catalog.model import Visibility
from reconciler.core.actions import FieldChange
from reconciler.core.diff import image_changes
from reconciler.core.observed import MANAGED_KEYS_PROPERTY, ObservedImage
from tests.unit.builders import MARKER, desired, observed_like


def test_a_converged_image_has_no_changes() -> None:
    image = desired(properties={"hw_disk_bus": "virtio", "os_version": "24.04"})
    assert image_changes(image, observed_like(image), MARKER) == []


def test_scalar_fields_tags_and_properties_each_become_one_change() -> None:
    image = desired(
        visibility=Visibility.PUBLIC,
        min_ram=1024,
        tags=frozenset({"lts", "new"}),
        properties={"os_distro": "ubuntu", "os_version": "24.04"},
    )
    observed = observed_like(desired(), min_ram=512)
    changes = image_changes(image, observed, MARKER)
    assert changes == [
        FieldChange("min_ram", 512, 1024),
        FieldChange(f"properties.{MANAGED_KEYS_PROPERTY}", "os_distro", "os_distro,os_version"),
        FieldChange("properties.os_version", None, "24.04"),
        FieldChange("tags", sorted({"lts", MARKER}), sorted({"lts", "new", MARKER})),
        FieldChange("visibility", "private", "public"),
    ]


def test_a_property_the_tool_set_and_the_manifest_dropped_is_removed() -> None:
    before = desired(properties={"os_distro": "ubuntu", "hw_rng_model": "virtio"})
    after = desired(properties={"os_distro": "ubuntu"})
    changes = image_changes(after, observed_like(before), MARKER)
    assert FieldChange("properties.hw_rng_model", "virtio", None) in changes


def test_a_property_added_by_hand_is_left_alone() -> None:
    image = desired()
    observed = observed_like(image)
    hand_made = replace(observed, properties={**observed.properties, "owner_note": "x"})
    assert image_changes(image, hand_made, MARKER) == []


def test_properties_compare_as_the_strings_glance_stores() -> None:
    image = desired(properties={"hw_cpu_cores": "2"})
    body = {
        "id": "i",
        "name": "ubuntu",
        "status": "active",
        "visibility": "private",
        "protected": False,
        "os_hidden": False,
        "min_disk": 0,
        "min_ram": 0,
        "disk_format": "qcow2",
        "container_format": "bare",
        "tags": ["lts", MARKER],
        "hw_cpu_cores": "2",
        MANAGED_KEYS_PROPERTY: "hw_cpu_cores",
        "glance_catalog_source_checksum": str(image.source.checksum) if image.source else "",
        "os_hash_algo": "sha512",
        "os_hash_value": "ab",
        "checksum": "cd",
        "size": 3,
        "virtual_size": 3,
        "stores": "fs",
        "os_glance_importing_to_stores": "",
        "owner_specified.openstack.md5": "",
        "created_at": "t",
        "updated_at": "t",
        "self": "/v2/images/i",
        "file": "/v2/images/i/file",
        "schema": "/v2/schemas/image",
    }
    observed = ObservedImage.from_glance(body)
    assert "stores" not in observed.properties
    assert "os_glance_importing_to_stores" not in observed.properties
    assert image_changes(image, observed, MARKER) == []


def test_tag_order_never_makes_a_change() -> None:
    image = desired(tags=frozenset({"b", "a", "c"}))
    observed = observed_like(image)
    assert (
        image_changes(
            image, replace(observed, tags=frozenset(reversed(sorted(observed.tags)))), MARKER
        )
        == []
    )
