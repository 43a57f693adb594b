"""catalog.merge: defaults merged under images (tags united, properties merged key by key, the
image's own value winning), and the checks that need the merged view."""

from __future__ import annotations

from catalog.merge import catalog_defaults, merged_diagnostics, merged_fields
from catalog.yamldoc import parse_document


def test_the_image_wins_over_defaults_tags_are_united_and_properties_merged() -> None:
    defaults = {"visibility": "public", "tags": ["os"], "properties": {"a": "1", "b": "2"}}
    image = {"name": "x", "visibility": "private", "tags": ["linux"], "properties": {"b": "3"}}
    fields = merged_fields(defaults, image)
    assert fields["visibility"] == "private"
    assert fields["tags"] == ["linux", "os"]
    assert fields["properties"] == {"a": "1", "b": "3"}
    assert fields["members"] == []


def test_the_defaults_are_those_of_the_first_document_that_has_them() -> None:
    documents = [
        parse_document("images: []\n", "a.yaml"),
        parse_document("defaults: {disk_format: qcow2}\n", "b.yaml"),
        parse_document("defaults: {disk_format: raw}\n", "c.yaml"),
    ]
    assert catalog_defaults(documents) == {"disk_format": "qcow2"}
    assert catalog_defaults(documents[:1]) == {}


def test_a_versioned_image_is_checked_with_its_merged_fields() -> None:
    text = (
        "images:\n"
        "  - name: img-{version}\n"
        "    versions: [{version: '1', source: {file: a.raw}}]\n"
        "    current: '2'\n"
    )
    problems = list(merged_diagnostics([parse_document(text, "c.yaml")]))
    assert problems, "a current version that is not listed is an error"
    assert all(problem.image == "img-{version}" for problem in problems)
