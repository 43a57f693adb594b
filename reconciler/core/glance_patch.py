"""Field changes -> the JSON-patch and create body Glance's v2 API takes. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from catalog.fields import GLANCE_KEY_BY_MANIFEST_KEY
from reconciler.core.actions import FieldChange


def _pointer(key: str) -> str:
    return "/" + key.replace("~", "~0").replace("/", "~1")


def _attribute(path: str) -> str:
    if path.startswith("properties."):
        return path.removeprefix("properties.")
    return GLANCE_KEY_BY_MANIFEST_KEY.get(path, path)


def json_patch(changes: Iterable[FieldChange]) -> list[dict[str, Any]]:
    """RFC 6902 operations for Glance's PATCH /v2/images/{id}; a property that appears is
    added, one that disappears is removed (never set to null: Glance rejects null)."""
    operations: list[dict[str, Any]] = []
    for change in changes:
        pointer = _pointer(_attribute(change.path))
        if change.path.startswith("properties."):
            if change.after is None:
                operations.append({"op": "remove", "path": pointer})
            elif change.before is None:
                operations.append({"op": "add", "path": pointer, "value": change.after})
            else:
                operations.append({"op": "replace", "path": pointer, "value": change.after})
        else:
            operations.append({"op": "replace", "path": pointer, "value": change.after})
    return operations


def create_body(changes: Iterable[FieldChange]) -> dict[str, Any]:
    """The POST /v2/images body that creates an image with exactly these fields."""
    return {_attribute(change.path): change.after for change in changes}


def _holds(body: Mapping[str, Any], change: FieldChange) -> bool:
    attribute = _attribute(change.path)
    if change.after is None:
        return attribute not in body
    current = body.get(attribute)
    if change.path == "tags":
        return sorted(current or ()) == sorted(change.after)
    return bool(current == change.after)


def patch_against(changes: Iterable[FieldChange], body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The JSON patch that still has to be applied to an image Glance shows as ``body`` to
    carry ``changes``: empty once it does. For a retried update whose first answer was lost
    (Glance refuses to remove a property that is gone, or to replace one that is missing)."""
    operations: list[dict[str, Any]] = []
    for change in changes:
        if _holds(body, change):
            continue
        pointer = _pointer(_attribute(change.path))
        if change.after is None:
            operations.append({"op": "remove", "path": pointer})
        elif change.path.startswith("properties."):
            # Glance's add replaces a property that exists.
            operations.append({"op": "add", "path": pointer, "value": change.after})
        else:
            operations.append({"op": "replace", "path": pointer, "value": change.after})
    return operations
