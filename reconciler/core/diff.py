"""Desired image vs observed image -> field changes. Pure; deepdiff stays inside this module."""

from __future__ import annotations

from enum import Enum
from typing import Any

from deepdiff import DeepDiff

# FORMAT_FIELDS: re-exported for the planner's steps, which replace an image to change them.
from catalog.fields import FORMAT_FIELDS as FORMAT_FIELDS
from catalog.fields import SCALAR_KEYS
from catalog.model import DesiredImage
from reconciler.core.actions import FieldChange
from reconciler.core.observed import MANAGED_KEYS_PROPERTY, SOURCE_PROPERTY, ObservedImage


def desired_properties(image: DesiredImage) -> dict[str, str]:
    """The custom properties glance-catalog keeps on ``image``, its own bookkeeping included."""
    properties = dict(image.properties)
    if properties:
        properties[MANAGED_KEYS_PROPERTY] = ",".join(sorted(image.properties))
    if image.source is not None and image.source.checksum is not None:
        properties[SOURCE_PROPERTY] = str(image.source.checksum)
    properties.update(image.bookkeeping)
    return properties


def desired_scalars(image: DesiredImage) -> dict[str, Any]:
    """The image's scalar fields (catalog.fields.SCALAR_KEYS) as Glance holds them."""
    return {name: _plain(getattr(image, name)) for name in SCALAR_KEYS}


def desired_fields(image: DesiredImage, marker: str) -> dict[str, Any]:
    return {
        **desired_scalars(image),
        "tags": frozenset(image.tags | {marker}),
        "properties": desired_properties(image),
    }


def _plain(value: Any) -> Any:
    """A model value as Glance holds it: an enum member as its string."""
    return value.value if isinstance(value, Enum) else value


def observed_fields(observed: ObservedImage, desired_keys: frozenset[str]) -> dict[str, Any]:
    """The observed image restricted to what glance-catalog owns: declared fields, declared
    properties, and properties it recorded as its own (so removals show)."""
    owned = (
        desired_keys | observed.managed_property_keys() | {MANAGED_KEYS_PROPERTY, SOURCE_PROPERTY}
    )
    return {
        **{name: observed.fields[name] for name in SCALAR_KEYS},
        "tags": observed.tags,
        "properties": {k: v for k, v in observed.properties.items() if k in owned},
    }


def image_changes(desired: DesiredImage, observed: ObservedImage, marker: str) -> list[FieldChange]:
    """Every change that makes ``observed`` match ``desired``, sorted by path. The source
    checksum of an image without data is left out: the data step records it once verified."""
    want = desired_fields(desired, marker)
    have = observed_fields(observed, frozenset(want["properties"]))
    if observed.status in ("queued", "importing"):
        want["properties"].pop(SOURCE_PROPERTY, None)
        have["properties"].pop(SOURCE_PROPERTY, None)
    if have == want:
        # Most images of a converged catalog: skip DeepDiff, which costs ~1 ms even then.
        return []
    changes: dict[str, FieldChange] = {}
    for report in DeepDiff(have, want, verbose_level=2).tree.values():
        for level in report:
            path = level.path(output_format="list")
            top = str(path[0])
            if top == "tags":
                changes["tags"] = FieldChange("tags", sorted(have["tags"]), sorted(want["tags"]))
            elif top == "properties" and len(path) > 1:
                key = str(path[1])
                changes[f"properties.{key}"] = FieldChange(
                    f"properties.{key}", have["properties"].get(key), want["properties"].get(key)
                )
            elif top in SCALAR_KEYS:
                changes[top] = FieldChange(top, have[top], want[top])
    return [changes[path] for path in sorted(changes)]


def creation_changes(desired: DesiredImage, marker: str) -> list[FieldChange]:
    """The fields a new image is created with, as changes from nothing."""
    fields = desired_fields(desired, marker)
    changes = [FieldChange("name", None, desired.name)]
    changes += [FieldChange(name, None, fields[name]) for name in SCALAR_KEYS]
    changes.append(FieldChange("tags", None, sorted(fields["tags"])))
    changes += [
        FieldChange(f"properties.{key}", None, value)
        for key, value in sorted(fields["properties"].items())
        if key != SOURCE_PROPERTY  # recorded by the data step, once verified
    ]
    return changes
