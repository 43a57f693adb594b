"""catalog.build: desired images built from checked documents, with defaults merged and the
position of each image kept."""

from __future__ import annotations

from catalog.build import build_images
from catalog.model import Visibility
from catalog.yamldoc import parse_document


def test_images_are_built_over_the_defaults_with_their_positions() -> None:
    text = (
        "version: 1\n"
        "catalog: c\n"
        "defaults: {disk_format: raw, visibility: public, tags: [os]}\n"
        "images:\n"
        "  - name: a\n"
        "    tags: [linux]\n"
        "  - name: b\n"
        "    visibility: private\n"
    )
    a, b = build_images([parse_document(text, "c.yaml")])
    assert (a.name, a.visibility, b.name, b.visibility) == (
        "a",
        Visibility.PUBLIC,
        "b",
        Visibility.PRIVATE,
    )
    assert set(a.tags) == {"os", "linux"}
    assert (a.position.file, a.position.line, b.position.line) == ("c.yaml", 5, 7)
