"""schemas/catalog-v1.json is a product: valid, documented field by field, and agreed on by both
validators glance-catalog runs."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from catalog.schema import is_valid, load_schema, validator


def documented_fields(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every field the schema defines: top-level properties, $defs, and their properties."""
    fields = dict(schema["properties"])
    for name, definition in schema["$defs"].items():
        fields[f"$defs/{name}"] = definition
        for key, sub in definition.get("properties", {}).items():
            if "$ref" not in sub:
                fields[f"$defs/{name}/{key}"] = sub
    return fields


def test_the_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(load_schema())
    assert load_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_field_has_a_title_and_a_description() -> None:
    undocumented = [
        name
        for name, field in documented_fields(load_schema()).items()
        if not field.get("title") or not field.get("description")
    ]
    assert undocumented == []


def test_the_fast_and_the_full_validator_agree_on_examples() -> None:
    valid = {"version": 1, "catalog": "c", "images": [{"name": "a", "disk_format": "raw"}]}
    invalid = {"version": 1, "catalog": "c", "images": [{"name": "a", "visibility": "x"}]}
    assert is_valid(valid) and not list(validator().iter_errors(valid))
    assert not is_valid(invalid) and list(validator().iter_errors(invalid))
