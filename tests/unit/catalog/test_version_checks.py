"""catalog.version_checks: what only a versioned image may say, and what it may not."""

from __future__ import annotations

from catalog.merge import merged_fields
from catalog.version_checks import version_diagnostics
from catalog.yamldoc import parse_document


def diagnostics(image_yaml: str) -> list[str]:
    document = parse_document("images:\n  - " + image_yaml.replace("\n", "\n    ") + "\n", "c")
    image = document.value["images"][0]
    found = version_diagnostics(document, ("images", 0), image, merged_fields({}, image))
    return [f"{problem.path}: {problem.message}" for problem in found]


def test_current_is_only_for_an_image_with_versions() -> None:
    assert diagnostics("name: a\ncurrent: '1'") == [
        "current: current is only for an image with versions"
    ]


def test_a_plain_source_cannot_be_combined_with_versions() -> None:
    problems = diagnostics(
        "name: a-{version}\nsource: {file: x}\nversions: [{version: '1', source: {file: y}}]"
    )
    assert "source: source cannot be combined with versions" in problems
