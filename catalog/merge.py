"""Defaults merged under images, and the checks that need the merged view. Tolerates documents
that failed the schema, so that these errors are reported in the same pass as the others."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from catalog.diagnostics import Diagnostic
from catalog.fields import FIELD_DEFAULTS
from catalog.locate import diagnostic_at
from catalog.model import Compression, source_name
from catalog.version_checks import version_diagnostics
from catalog.yamldoc import ParsedDocument

# glance-catalog's own defaults: the Glance fields' (catalog.fields), then its own keys'.
BUILTIN_DEFAULTS: dict[str, Any] = {
    **FIELD_DEFAULTS,
    "state": "active",
    "adopt": False,
    "keep_previous": False,
}


def catalog_defaults(documents: Sequence[ParsedDocument]) -> dict[str, Any]:
    for document in documents:
        if isinstance(document.value, dict) and isinstance(document.value.get("defaults"), dict):
            defaults: dict[str, Any] = document.value["defaults"]
            return defaults
    return {}


def merged_fields(defaults: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
    """The image's fields over the defaults over the built-in defaults; tags united,
    properties merged key by key (the image's value wins)."""
    fields = {**BUILTIN_DEFAULTS, **defaults, **image}
    tags: set[str] = set()
    properties: dict[str, Any] = {}
    for layer in (defaults, image):
        if isinstance(layer.get("tags"), list):
            tags.update(tag for tag in layer["tags"] if isinstance(tag, str))
        if isinstance(layer.get("properties"), dict):
            properties.update(layer["properties"])
    fields["tags"] = sorted(tags)
    fields["properties"] = properties
    fields.setdefault("members", [])
    return fields


def merged_diagnostics(documents: Sequence[ParsedDocument]) -> Iterator[Diagnostic]:
    defaults = catalog_defaults(documents)
    for document in documents:
        images = document.value.get("images") if isinstance(document.value, dict) else None
        for index, image in enumerate(images if isinstance(images, list) else []):
            if isinstance(image, dict):
                fields = merged_fields(defaults, image)
                yield from image_diagnostics(document, ("images", index), fields)
                yield from version_diagnostics(document, ("images", index), image, fields)


def image_diagnostics(
    document: ParsedDocument, path: tuple[str | int, ...], fields: dict[str, Any]
) -> Iterator[Diagnostic]:
    state = fields["state"]
    if "disk_format" not in fields and state != "absent":
        yield diagnostic_at(
            document,
            path,
            "missing disk_format",
            "set disk_format on the image or in defaults (qcow2, raw, ...)",
        )
    if fields["members"] and fields["visibility"] != "shared":
        yield diagnostic_at(
            document,
            (*path, "members"),
            f"members need visibility: shared (this image is {fields['visibility']})",
            "set visibility: shared or remove members",
            key=True,
        )
    seen: set[str] = set()
    members = fields["members"] if isinstance(fields["members"], list) else []
    for index, member in enumerate(members):
        project = member.get("project") if isinstance(member, dict) else member
        if isinstance(project, str) and project in seen:
            yield diagnostic_at(document, (*path, "members", index), f"'{project}' is listed twice")
        if isinstance(project, str):
            seen.add(project)
    versions = fields.get("versions")
    sources = [((*path, "source"), fields.get("source"))] + [
        ((*path, "versions", index, "source"), version.get("source"))
        for index, version in enumerate(versions if isinstance(versions, list) else [])
        if isinstance(version, dict)
    ]
    for where, source in sources:
        if not isinstance(source, dict) or source.get("method") != "web-download":
            continue
        compression = _compression(source, fields["container_format"])
        if compression not in (None, Compression.NONE):
            yield diagnostic_at(
                document,
                (*where, "method"),
                f"web-download of a compressed source ({compression}): Glance would store the "
                "compressed bytes",
                "use method: upload, which decompresses while uploading (or decompress: none to "
                "store the compressed bytes)",
            )
    if state == "deactivated" and "source" not in fields and "versions" not in fields:
        yield diagnostic_at(
            document,
            (*path, "state"),
            "an image without a source cannot be deactivated",
            "Glance deactivates only images that have data; add a source",
        )


def _compression(source: dict[str, Any], container_format: Any) -> Compression | None:
    """The source's resolved compression, or None when a field it depends on is malformed (the
    schema reports that)."""
    decompress = source.get("decompress", "auto")
    url, file = source.get("url"), source.get("file")
    valid = (
        isinstance(decompress, str)
        and (decompress == "auto" or decompress in set(Compression))
        and isinstance(url, str | None)
        and isinstance(file, str | None)
        and isinstance(container_format, str)
    )
    if not valid:
        return None
    return Compression.resolve(decompress, source_name(url, file), container_format)
