"""catalog.schema_errors: JSON Schema errors as positioned diagnostics a person can act on."""

from __future__ import annotations

from catalog.schema_errors import schema_diagnostics
from catalog.yamldoc import parse_document

VALID = "version: 1\ncatalog: c\nimages:\n  - name: a\n    disk_format: raw\n"


def test_a_valid_document_has_no_schema_diagnostics() -> None:
    assert list(schema_diagnostics(parse_document(VALID, "c.yaml"))) == []


def test_a_misspelt_key_is_placed_at_the_key_and_names_the_image() -> None:
    document = parse_document(VALID + "    visibilty: public\n", "c.yaml")
    (problem,) = schema_diagnostics(document)
    assert (problem.file, problem.line, problem.column) == ("c.yaml", 6, 5)
    assert problem.image == "a"
    assert "visibilty" in problem.message
    assert problem.hint is not None and "visibility" in problem.hint
