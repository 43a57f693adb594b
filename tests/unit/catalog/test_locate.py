"""catalog.locate: the image and the dotted path a diagnostic names, from a document path."""

from __future__ import annotations

from catalog.locate import diagnostic_at, dotted, image_name
from catalog.yamldoc import parse_document

TEXT = "images:\n  - name: cirros\n    source: {url: x}\n  - disk_format: raw\n"


def test_dotted_paths_quote_keys_that_are_not_plain() -> None:
    assert dotted(("images", 3, "source", "url")) == "images[3].source.url"
    assert dotted(("properties", "a b")) == "properties['a b']"
    assert dotted(()) == ""


def test_an_image_is_named_by_its_name_else_by_its_place() -> None:
    document = parse_document(TEXT, "c.yaml")
    assert image_name(document, ("images", 0, "source")) == "cirros"
    assert image_name(document, ("images", 1, "disk_format")) == "#2"
    assert image_name(document, ("defaults", "visibility")) is None


def test_a_diagnostic_names_the_image_and_the_path_inside_it_at_the_value() -> None:
    document = parse_document(TEXT, "c.yaml")
    problem = diagnostic_at(document, ("images", 0, "source", "url"), "bad url", "fix it")
    assert (problem.file, problem.line) == ("c.yaml", 3)
    assert (problem.image, problem.path) == ("cirros", "source.url")
    assert (problem.message, problem.hint) == ("bad url", "fix it")
