"""glance_patch.patch_against: what a retried update still has to send."""

from __future__ import annotations

from reconciler.core.actions import FieldChange
from reconciler.core.glance_patch import patch_against

CHANGES = (
    FieldChange("visibility", "private", "shared"),
    FieldChange("tags", ["a"], ["a", "b"]),
    FieldChange("properties.os_distro", "debian", "ubuntu"),
    FieldChange("properties.hw_disk_bus", None, "virtio"),
    FieldChange("properties.old", "x", None),
    FieldChange("hidden", False, True),
)


def test_nothing_is_sent_once_glance_carries_every_change() -> None:
    body = {
        "visibility": "shared",
        "tags": ["b", "a"],
        "os_distro": "ubuntu",
        "hw_disk_bus": "virtio",
        "os_hidden": True,
    }
    assert patch_against(CHANGES, body) == []


def test_only_what_is_missing_is_sent_and_properties_are_added_not_replaced() -> None:
    body = {"visibility": "shared", "tags": ["a"], "os_distro": "debian", "old": "x"}
    assert patch_against(CHANGES, body) == [
        {"op": "replace", "path": "/tags", "value": ["a", "b"]},
        {"op": "add", "path": "/os_distro", "value": "ubuntu"},
        {"op": "add", "path": "/hw_disk_bus", "value": "virtio"},
        {"op": "remove", "path": "/old"},
        {"op": "replace", "path": "/os_hidden", "value": True},
    ]
