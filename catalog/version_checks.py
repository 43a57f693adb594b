"""Checks of a versioned image that need its merged fields (defaults applied)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from catalog.diagnostics import Diagnostic
from catalog.locate import diagnostic_at
from catalog.model import DEFAULT_VERSION_NAME
from catalog.yamldoc import ParsedDocument

NAME_LIMIT = 255
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# Fields that make no sense for an image that is several Glance images, one per version.
_NOT_WITH_VERSIONS = {
    "source": "each version has its own source; move it under versions:",
    "id": "each version is its own Glance image with its own id; remove id:",
    "adopt": "adopt the plain image first, then declare versions",
    "keep_previous": "versions rotate by retire:; remove keep_previous",
}
_VERSION = "{version}"
_ONLY_WITH_VERSIONS = ("current", "version_name", "retire")


def version_diagnostics(
    document: ParsedDocument,
    path: tuple[str | int, ...],
    image: dict[str, Any],
    fields: dict[str, Any],
) -> Iterator[Diagnostic]:
    """``image`` is the image as written, ``fields`` the image over the defaults."""
    versions = image.get("versions")
    track = image.get("track")
    if isinstance(track, dict):
        yield from _track_diagnostics(document, (*path, "track"), track)
        if versions is None:
            versions = []
    if not isinstance(versions, list):
        for key in _ONLY_WITH_VERSIONS:
            if key in image:
                yield diagnostic_at(
                    document,
                    (*path, key),
                    f"{key} is only for an image with versions",
                    "add versions:, or remove it",
                    key=True,
                )
        return
    for key, hint in _NOT_WITH_VERSIONS.items():
        if key in image and not (key in ("adopt", "keep_previous") and image[key] is False):
            yield diagnostic_at(
                document,
                (*path, key),
                f"{key} cannot be combined with versions",
                hint,
                key=True,
            )
    labels: dict[str, int] = {}
    for index, version in enumerate(versions):
        label = version.get("version") if isinstance(version, dict) else None
        if not isinstance(label, str):
            continue
        if label in labels:
            first = document.position((*path, "versions", labels[label], "version"))
            yield diagnostic_at(
                document,
                (*path, "versions", index, "version"),
                f"version '{label}' is listed twice (first at {first})",
                "version labels are unique within an image",
            )
        labels.setdefault(label, index)
    current = image.get("current")
    if isinstance(current, str) and labels and current not in labels:
        yield diagnostic_at(
            document,
            (*path, "current"),
            f"current names version '{current}', which is not listed",
            f"choose one of: {', '.join(labels)}",
        )
    template = fields.get("version_name", DEFAULT_VERSION_NAME)
    name = fields.get("name")
    if not isinstance(template, str) or not isinstance(name, str):
        return
    where = (*path, "version_name") if "version_name" in image else path
    unknown = sorted({p for p in _PLACEHOLDER.findall(template) if p not in ("name", "version")})
    if unknown:
        yield diagnostic_at(
            document,
            where,
            f"version_name has unknown placeholder {{{unknown[0]}}}",
            "only {name} and {version} are replaced",
        )
        return
    for label, index in labels.items():
        versioned = template.replace("{name}", name).replace("{version}", label)
        if len(versioned) > NAME_LIMIT:
            yield diagnostic_at(
                document,
                (*path, "versions", index, "version"),
                f"the name of version '{label}' would be {len(versioned)} characters",
                f"Glance allows {NAME_LIMIT}; shorten the name, the label or version_name",
            )
        elif versioned == name:
            yield diagnostic_at(
                document,
                where,
                "version_name gives the versions the image's own name",
                "include {version}, so that each version has a name of its own",
            )


def _track_diagnostics(
    document: ParsedDocument, path: tuple[str | int, ...], track: dict[str, Any]
) -> Iterator[Diagnostic]:
    checksum_url, file = track.get("checksum_url"), track.get("file")
    if not isinstance(checksum_url, str) or not isinstance(file, str):
        return
    per_folder = _VERSION in checksum_url
    if not per_folder and _VERSION not in file:
        yield diagnostic_at(
            document,
            (*path, "file"),
            "the track names no {version}: there is nothing to follow",
            "put {version} in file (one checksum file lists every build) or in checksum_url "
            "(one folder per build, with index_url)",
        )
    if per_folder and "index_url" not in track:
        yield diagnostic_at(
            document,
            (*path, "checksum_url"),
            "checksum_url holds {version}, so the builds must be listed somewhere",
            "add index_url: the page (a folder listing) whose links name the builds' folders",
        )
    for key in ("checksum_url", "url", "checksum_signature_url", "file"):
        value = track.get(key)
        if isinstance(value, str) and value.count(_VERSION) > 1:
            yield diagnostic_at(document, (*path, key), f"{key} holds {{version}} more than once")
    if ("checksum_signature_url" in track) != ("signing_key" in track):
        yield diagnostic_at(
            document,
            path,
            "checksum_signature_url and signing_key go together",
            "give both to verify the checksum file, or neither",
        )
