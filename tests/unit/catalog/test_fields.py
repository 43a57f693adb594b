"""catalog.fields, the table of Glance's image fields: the JSON Schema (a static file) agrees
with it, and the code derived from it carries every field from a manifest to Glance and back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from catalog.checks import reserved_property_hint
from catalog.fields import (
    BASE_KEYS,
    CLONED_KEYS,
    FIELD_DEFAULTS,
    GLANCE_FIELDS,
    MANIFEST_FIELDS,
    SCALAR_KEYS,
    FieldKind,
    GlanceField,
    ReadOnly,
)
from catalog.schema import schema_path
from reconciler.core.diff import creation_changes, image_changes
from reconciler.core.glance_patch import create_body
from reconciler.core.observed import ObservedImage
from tests.unit.builders import MARKER, desired

# Read afresh: validators may resolve the cached schema's references in place.
SCHEMA = json.loads(schema_path().read_text(encoding="utf-8"))
DEFS = SCHEMA["$defs"]
IMAGE = DEFS["image"]["properties"]
DEFAULTS = SCHEMA["properties"]["defaults"]["properties"]
OVERRIDES = DEFS["target_overrides"]["properties"]
# What the schema says of a field Glance fixes once the image has data.
FIXED = "Fixed once data is uploaded."


def ref(key: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{key}"}


def declared(field: GlanceField) -> str:
    return field.manifest_key


FIELDS_BUT_NAME = [field for field in MANIFEST_FIELDS if field.kind is not FieldKind.NAME]


def test_glance_and_manifest_keys_are_unique() -> None:
    glance_keys = [field.glance_key for field in GLANCE_FIELDS]
    manifest_keys = [field.manifest_key for field in MANIFEST_FIELDS]
    assert len(set(glance_keys)) == len(glance_keys)
    assert len(set(manifest_keys)) == len(manifest_keys)


@pytest.mark.parametrize("field", GLANCE_FIELDS, ids=lambda field: field.glance_key)
def test_a_field_is_declared_in_a_manifest_or_written_by_glance_never_both(
    field: GlanceField,
) -> None:
    assert bool(field.manifest_key) != (field.read_only is not None)
    assert (field.kind is FieldKind.READ_ONLY) == (field.read_only is not None)
    if field.read_only is not None:
        assert not (field.compared or field.cloned or field.frozen_with_data)


@pytest.mark.parametrize("field", MANIFEST_FIELDS, ids=declared)
def test_every_manifest_field_is_an_image_property_of_the_schema(field: GlanceField) -> None:
    assert field.manifest_key in IMAGE
    if field.kind is not FieldKind.NAME:
        assert IMAGE[field.manifest_key] == ref(field.manifest_key)
        assert DEFAULTS[field.manifest_key] == ref(field.manifest_key)


def test_every_enum_flag_and_count_the_schema_lets_defaults_set_is_in_the_table() -> None:
    def is_scalar(key: str) -> bool:
        definition = DEFS.get(key, {})
        return "enum" in definition or definition.get("type") in ("boolean", "integer")

    assert {key for key in DEFAULTS if is_scalar(key)} <= set(SCALAR_KEYS)


@pytest.mark.parametrize("field", FIELDS_BUT_NAME, ids=declared)
def test_the_schema_types_each_field_as_its_kind(field: GlanceField) -> None:
    definition = DEFS[field.manifest_key]
    if field.kind is FieldKind.FLAG:
        assert definition["type"] == "boolean"
    elif field.kind is FieldKind.COUNT:
        assert (definition["type"], definition["minimum"]) == ("integer", 0)
    elif field.kind is FieldKind.TEXT and field.choices is not None:
        assert definition["enum"] == [member.value for member in field.choices]
    elif field.kind is FieldKind.TEXT:
        strings = "enum" in definition and all(isinstance(v, str) for v in definition["enum"])
        assert strings or definition["type"] == "string"
    else:
        assert field.kind is FieldKind.TAGS
        assert (definition["type"], definition["items"]["type"]) == ("array", "string")


@pytest.mark.parametrize("field", FIELDS_BUT_NAME, ids=declared)
def test_fields_fixed_with_the_data_say_so_and_no_target_overrides_them(
    field: GlanceField,
) -> None:
    description = DEFS[field.manifest_key]["description"]
    assert (FIXED in description) == field.frozen_with_data
    assert (field.manifest_key in OVERRIDES) == (not field.frozen_with_data)


@pytest.mark.parametrize("field", FIELDS_BUT_NAME, ids=declared)
def test_a_field_glance_names_otherwise_says_its_glance_name(field: GlanceField) -> None:
    description = DEFS[field.manifest_key]["description"]
    assert (f"Glance's {field.glance_key}" in description) == (
        field.glance_key != field.manifest_key
    )


@pytest.mark.parametrize(("key", "default"), FIELD_DEFAULTS.items())
def test_each_default_is_a_value_the_schema_accepts(key: str, default: Any) -> None:
    definition = DEFS[key]
    if "enum" in definition:
        assert default in definition["enum"]
    elif definition["type"] == "boolean":
        assert isinstance(default, bool)
    else:
        assert isinstance(default, int) and default >= definition["minimum"]


def test_an_image_made_again_takes_over_every_field_a_manifest_declares() -> None:
    assert {field.glance_key for field in MANIFEST_FIELDS} == CLONED_KEYS
    assert CLONED_KEYS <= BASE_KEYS


@pytest.mark.parametrize("field", GLANCE_FIELDS, ids=lambda field: field.glance_key)
def test_no_field_is_a_custom_property(field: GlanceField) -> None:
    hint = reserved_property_hint(field.glance_key)
    if field.manifest_key:
        assert hint == f"use the image field '{field.manifest_key}'"
    elif field.read_only is ReadOnly.DATA:
        assert hint is not None and "computes it from the data" in hint
    else:
        assert hint == "Glance manages it"


def test_a_manifest_key_that_is_no_glance_key_may_be_a_custom_property() -> None:
    renamed = [f.manifest_key for f in MANIFEST_FIELDS if f.manifest_key != f.glance_key]
    assert renamed
    assert all(reserved_property_hint(key) is None for key in renamed)


def glance_body(created: dict[str, Any]) -> dict[str, Any]:
    """The image Glance shows right after a POST of ``created`` (queued: the data step records
    the source checksum later)."""
    return {**created, "id": "i", "status": "queued", "owner": "p", "size": None}


def test_an_image_created_with_every_field_is_observed_with_no_change_left() -> None:
    image = desired(min_disk=3, min_ram=512, hidden=True, protected=True)
    created = create_body(creation_changes(image, MARKER))
    assert {field.glance_key for field in MANIFEST_FIELDS} <= created.keys()
    observed = ObservedImage.from_glance(glance_body(created))
    assert image_changes(image, observed, MARKER) == []


@pytest.mark.parametrize("field", FIELDS_BUT_NAME, ids=declared)
def test_a_field_changed_in_glance_is_a_change(field: GlanceField) -> None:
    image = desired()
    body = glance_body(create_body(creation_changes(image, MARKER)))
    if field.kind is FieldKind.TAGS:
        body["tags"] = [MARKER]
    elif field.kind is FieldKind.TEXT:
        body[field.glance_key] = "other"
    else:
        body[field.glance_key] = not body[field.glance_key] if field.kind is FieldKind.FLAG else 7
    changes = image_changes(image, ObservedImage.from_glance(body), MARKER)
    assert [change.path for change in changes] == [field.manifest_key]
