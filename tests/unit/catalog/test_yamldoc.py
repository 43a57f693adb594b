"""catalog.yamldoc: one YAML document parsed into plain values, with the position of every key
and value, and its problems as diagnostics rather than exceptions."""

from __future__ import annotations

from catalog.yamldoc import parse_document


def test_values_come_back_plain_and_keys_and_values_have_their_positions() -> None:
    document = parse_document("version: 1\nimages:\n  - name: a\n    disk_format: raw\n", "c.yaml")
    assert document.diagnostics == []
    assert document.value == {"version": 1, "images": [{"name": "a", "disk_format": "raw"}]}
    value = document.position(("images", 0, "disk_format"))
    key = document.position(("images", 0, "disk_format"), key=True)
    assert (value.file, value.line, value.column) == ("c.yaml", 4, 18)
    assert (key.line, key.column) == (4, 5)


def test_a_duplicate_key_is_a_diagnostic_at_its_second_occurrence() -> None:
    document = parse_document("catalog: a\ncatalog: b\n", "c.yaml")
    (problem,) = document.diagnostics
    assert (problem.file, problem.line) == ("c.yaml", 2)
    assert "catalog" in problem.message


def test_an_empty_file_is_one_diagnostic_saying_so() -> None:
    document = parse_document("# only a comment\n\n", "empty.yaml")
    (problem,) = document.diagnostics
    assert problem.message == "the file is empty"
    assert document.value is None
