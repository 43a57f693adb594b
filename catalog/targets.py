"""The ``targets:`` of a catalog: where it goes, and the fields that differ per target.

A target's overrides lie over an image's own fields (after defaults): scalars and lists
replace (members and stores included), tags are united, properties merged key by key with the
target's value winning, and source keys replace the image's in its source and every version's.
The target's per-image overrides lie over its overrides. Tolerates documents that failed the
schema, so that these errors are reported in the same pass as the others.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from catalog.diagnostics import Diagnostic
from catalog.locate import diagnostic_at
from catalog.merge import catalog_defaults, image_diagnostics, merged_fields
from catalog.yamldoc import ParsedDocument


def targets_document(documents: Sequence[ParsedDocument]) -> ParsedDocument | None:
    """The document that gives the catalog's targets, if any does."""
    for document in documents:
        if isinstance(document.value, dict) and isinstance(document.value.get("targets"), list):
            return document
    return None


def target_entries(document: ParsedDocument | None) -> list[tuple[int, dict[str, Any]]]:
    """The target mappings of ``document`` with their index in its ``targets`` list."""
    if document is None:
        return []
    entries = document.value.get("targets") or []
    return [(index, entry) for index, entry in enumerate(entries) if isinstance(entry, dict)]


def overridden(fields: dict[str, Any], *layers: Any) -> dict[str, Any]:
    """``fields`` with each override layer laid over it in turn (see the module)."""
    result = dict(fields)
    for layer in layers:
        if not isinstance(layer, dict):
            continue
        for key, value in layer.items():
            if key == "tags" and isinstance(value, list):
                result["tags"] = sorted(set(result.get("tags") or []) | set(value))
            elif key == "properties" and isinstance(value, dict):
                result["properties"] = {**(result.get("properties") or {}), **value}
            elif key == "source" and isinstance(value, dict):
                result.update(_sources_overridden(result, value))
            else:
                result[key] = value
    return result


def _sources_overridden(fields: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    if isinstance(fields.get("source"), dict):
        changed["source"] = {**fields["source"], **override}
    versions = fields.get("versions")
    if isinstance(versions, list):
        changed["versions"] = [
            {**version, "source": {**version["source"], **override}}
            if isinstance(version, dict) and isinstance(version.get("source"), dict)
            else version
            for version in versions
        ]
    return changed


def target_fields(
    defaults: dict[str, Any], image: dict[str, Any], target: dict[str, Any]
) -> dict[str, Any]:
    """The merged fields of ``image`` as ``target`` gets it."""
    per_image = target.get("images")
    own = per_image.get(image.get("name")) if isinstance(per_image, dict) else None
    return overridden(merged_fields(defaults, image), target.get("overrides"), own)


def target_diagnostics(documents: Sequence[ParsedDocument]) -> Iterator[Diagnostic]:
    """Targets given once, named uniquely, each going somewhere no other goes; per-image
    overrides naming images of the catalog; and every image as each target gets it passing
    the checks of the merged view."""
    given = [d for d in documents if isinstance(d.value, dict) and "targets" in d.value]
    for document in given[1:]:
        yield diagnostic_at(
            document,
            ("targets",),
            f"targets are already given in {given[0].file}",
            "keep targets in one file of the catalog",
            key=True,
        )
    holder = targets_document(documents)
    if holder is None:
        return
    document = holder
    names = _image_names(documents)
    seen_names: dict[str, int] = {}
    seen_places: dict[tuple[Any, Any], str] = {}
    for index, target in target_entries(document):
        name = target.get("name")
        if isinstance(name, str):
            if name in seen_names:
                yield diagnostic_at(
                    document,
                    ("targets", index, "name"),
                    f"target '{name}' is named twice (first at "
                    f"{document.position(('targets', seen_names[name], 'name'))})",
                    "target names are unique",
                )
            seen_names.setdefault(name, index)
        place = (target.get("cloud"), target.get("region"))
        if isinstance(place[0], str) and place in seen_places:
            region = f", region {place[1]}" if place[1] else ""
            yield diagnostic_at(
                document,
                ("targets", index),
                f"target '{name}' goes to cloud {place[0]}{region} as target "
                f"'{seen_places[place]}' does",
                "two targets in one place would undo each other's changes; give each its own "
                "cloud or region",
            )
        seen_places.setdefault(place, str(name))
        per_image = target.get("images")
        for image in per_image if isinstance(per_image, dict) else {}:
            if image not in names:
                yield diagnostic_at(
                    document,
                    ("targets", index, "images", image),
                    f"target '{name}' overrides image '{image}', which the catalog does not "
                    "declare",
                    f"name one of its images: {', '.join(sorted(names)) or 'none'}",
                    key=True,
                )
        yield from _source_override(document, index, target)
        yield from _as_target_gets_them(documents, target, str(name))


def _source_override(
    document: ParsedDocument, index: int, target: dict[str, Any]
) -> Iterator[Diagnostic]:
    layers = [("overrides",)] + [
        ("images", image) for image in target.get("images") or {} if isinstance(image, str)
    ]
    for layer in layers:
        node: Any = target
        for part in layer:
            node = node.get(part) if isinstance(node, dict) else None
        source = node.get("source") if isinstance(node, dict) else None
        if not isinstance(source, dict):
            continue
        path = ("targets", index, *layer, "source")
        if source.get("method") == "glance-download" and "region" not in source:
            yield diagnostic_at(
                document,
                path,
                "method glance-download needs the region whose Glance holds the image",
                "add region: NAME (e.g. the first target's region)",
                key=True,
            )
        if "region" in source and source.get("method") != "glance-download":
            yield diagnostic_at(
                document,
                (*path, "region"),
                "a source region is where glance-download takes the data from",
                "add method: glance-download, or remove region",
                key=True,
            )


def _as_target_gets_them(
    documents: Sequence[ParsedDocument], target: dict[str, Any], name: str
) -> Iterator[Diagnostic]:
    if not isinstance(target.get("overrides"), dict | None) or not isinstance(
        target.get("images"), dict | None
    ):
        return  # the schema says what is wrong with them
    defaults = catalog_defaults(documents)
    for document in documents:
        images = document.value.get("images") if isinstance(document.value, dict) else None
        for index, image in enumerate(images if isinstance(images, list) else []):
            if not isinstance(image, dict):
                continue
            # What the image has wrong everywhere is reported once, without the target.
            everywhere = set(
                image_diagnostics(document, ("images", index), merged_fields(defaults, image))
            )
            fields = target_fields(defaults, image, target)
            for problem in image_diagnostics(document, ("images", index), fields):
                if problem not in everywhere:
                    yield replace(problem, message=f"in target '{name}': {problem.message}")


def _image_names(documents: Sequence[ParsedDocument]) -> set[str]:
    names: set[str] = set()
    for document in documents:
        images = document.value.get("images") if isinstance(document.value, dict) else None
        for image in images if isinstance(images, list) else []:
            if isinstance(image, dict) and isinstance(image.get("name"), str):
                names.add(image["name"])
    return names
