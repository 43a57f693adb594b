"""reconciler.core.glance_patch: field changes -> Glance JSON patch and create body."""

from __future__ import annotations

from reconciler.core.actions import FieldChange
from reconciler.core.glance_patch import create_body, json_patch


def test_properties_are_added_replaced_and_removed_never_nulled() -> None:
    patch = json_patch(
        [
            FieldChange("properties.a", None, "1"),
            FieldChange("properties.b", "1", "2"),
            FieldChange("properties.c", "1", None),
            FieldChange("properties.x/y~z", None, "v"),
        ]
    )
    assert patch == [
        {"op": "add", "path": "/a", "value": "1"},
        {"op": "replace", "path": "/b", "value": "2"},
        {"op": "remove", "path": "/c"},
        {"op": "add", "path": "/x~1y~0z", "value": "v"},
    ]


def test_fields_map_to_glance_names_and_tags_are_replaced_whole() -> None:
    patch = json_patch([FieldChange("hidden", False, True), FieldChange("tags", ["a"], ["a", "b"])])
    assert patch == [
        {"op": "replace", "path": "/os_hidden", "value": True},
        {"op": "replace", "path": "/tags", "value": ["a", "b"]},
    ]


def test_create_body_flattens_properties() -> None:
    body = create_body(
        [
            FieldChange("name", None, "u"),
            FieldChange("hidden", None, False),
            FieldChange("properties.os_distro", None, "ubuntu"),
        ]
    )
    assert body == {"name": "u", "os_hidden": False, "os_distro": "ubuntu"}
