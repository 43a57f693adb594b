"""One cloud's observed images -> what a manifest that adopts them says. Pure.

``select_images`` decides, image by image, what ``glance-catalog export`` writes and why
(reconciler.export.manifest_text writes it): every image the project owns whose name matches an
``--include`` pattern, as a manifest image with ``adopt: true`` whose fields are Glance's, so
that the plan for it adds only the catalog's marker and glance-catalog's bookkeeping. An image
a manifest cannot declare that way is left out with the reason, which the manifest lists.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from catalog.checks import checksum_problem, reserved_property_hint
from catalog.model import MARKER_PREFIX, HashAlgorithm, Visibility
from catalog.schema import load_schema
from reconciler.core.observed import SOURCE_PROPERTY, ObservedImage, Snapshot

# A manifest holds at most this many tags and properties (the schema's maxItems and
# maxProperties: Glance's quota of 128 less what glance-catalog keeps on each image).
TAG_LIMIT = 127
PROPERTY_LIMIT = 122
BUSY = frozenset({"saving", "importing", "uploading"})
CATALOG_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
# The trailing version of a name: once or more, a - or a space, an optional v, a digit, then
# digits and dots ("ubuntu-24.04-20260101" -> "ubuntu"; "x86_64" is no version).
VERSION_SUFFIX = re.compile(r"(?:[- ]v?[0-9][0-9.]*)+$")


@cache
def _enum(name: str) -> frozenset[str]:
    return frozenset(load_schema()["$defs"][name]["enum"])


@dataclass(frozen=True)
class ExportContext:
    """What the manifest's header names besides the snapshot's cloud and project:
    ``catalog`` is a valid catalog name (CATALOG_NAME), ``region`` the region asked for (None:
    the clouds.yaml entry's own), ``exported_at`` the moment of the export as ISO 8601 UTC
    (the only line that differs between two exports of an unchanged cloud),
    ``tool_version`` glance-catalog's version, ``glance_endpoint`` Glance's v2 root
    (``https://host:9292/v2``), from which each image's data URL is made."""

    catalog: str
    exported_at: str
    tool_version: str
    glance_endpoint: str
    region: str | None = None


class ChecksumOrigin(StrEnum):
    """Where an exported checksum comes from."""

    RECORDED = "recorded"  # glance_catalog_source_checksum: verified by glance-catalog
    GLANCE = "glance"  # Glance's os_hash_value, with os_hash_algo sha256 or sha512


@dataclass(frozen=True)
class Skipped:
    """An image of the project that is not exported; ``reason`` says why and what to do."""

    id: str
    name: str
    reason: str


@dataclass(frozen=True)
class ExportedImage:
    """One image as the manifest declares it.

    ``tags`` are sorted, without glance-catalog's marker; ``properties`` are sorted (key,
    value) pairs that validate accepts as custom properties, and ``left_out`` the keys of the
    others (glance-catalog's bookkeeping); ``members`` are (project id, status) sorted, only
    for a shared image. ``checksum`` (``sha512:<hex>``) is set exactly when the manifest gives
    the image a source: an image with data whose digest is known; ``no_source`` says why an
    image has no source (it holds no data, or Glance has no usable digest of it).
    ``deactivated`` images always have a checksum (a manifest cannot deactivate an image
    without a source).
    """

    observed: ObservedImage
    tags: tuple[str, ...]
    properties: tuple[tuple[str, str], ...]
    left_out: tuple[str, ...]
    members: tuple[tuple[str, str], ...]
    checksum: str | None
    checksum_origin: ChecksumOrigin | None
    no_source: str
    data_url: str

    @property
    def name(self) -> str:
        return self.observed.name

    @property
    def deactivated(self) -> bool:
        return self.observed.status == "deactivated"


@dataclass(frozen=True)
class Export:
    """What one export writes: ``images`` sorted by name, names unique; ``skipped`` sorted by
    (name, id); ``unmatched`` the include patterns that matched no image of the project."""

    cloud: str
    project_id: str
    context: ExportContext
    images: tuple[ExportedImage, ...]
    skipped: tuple[Skipped, ...]
    unmatched: tuple[str, ...] = ()


def default_catalog_name(cloud: str) -> str | None:
    """The catalog name a cloud's name gives (lower case, other characters as ``-``), or None
    when nothing usable is left."""
    name = re.sub(r"[^a-z0-9-]+", "-", cloud.lower()).strip("-")[:40].strip("-")
    return name if CATALOG_NAME.fullmatch(name) else None


def family(name: str) -> str:
    """The family an image name belongs to: the name without its trailing version (see
    VERSION_SUFFIX), or the name itself when nothing else would be left."""
    return VERSION_SUFFIX.sub("", name) or name


def select_images(
    snapshot: Snapshot, context: ExportContext, include: Sequence[str] = ()
) -> Export:
    """Every image ``snapshot``'s project owns whose name matches one of the fnmatch
    ``include`` patterns (all without patterns), exported or skipped with its reason."""
    owned = [image for image in snapshot.images if image.owner == snapshot.project_id]
    chosen = [image for image in owned if _included(image.name, include)]
    unmatched = tuple(
        pattern
        for pattern in include
        if not any(fnmatch.fnmatchcase(image.name, pattern) for image in owned)
    )
    names: dict[str, int] = {}
    for image in chosen:
        names[image.name] = names.get(image.name, 0) + 1
    exported: list[ExportedImage] = []
    skipped: list[Skipped] = []
    for image in chosen:
        reason = _skip_reason(image, context.catalog, names[image.name])
        if reason:
            skipped.append(Skipped(image.id, image.name, reason))
        else:
            exported.append(_exported(image, context))
    return Export(
        cloud=snapshot.cloud,
        project_id=snapshot.project_id,
        context=context,
        images=tuple(sorted(exported, key=lambda image: image.name)),
        skipped=tuple(sorted(skipped, key=lambda image: (image.name, image.id))),
        unmatched=unmatched,
    )


def _included(name: str, include: Sequence[str]) -> bool:
    return not include or any(fnmatch.fnmatchcase(name, pattern) for pattern in include)


def _skip_reason(image: ObservedImage, catalog: str, namesakes: int) -> str:
    """Why ``image`` cannot be exported as an adopted manifest image ("" when it can)."""
    if not image.name:
        return "it has no name, and a manifest names every image; name it in Glance"
    if namesakes > 1:
        return (
            f"{namesakes} images of the project have this name and a catalog holds one "
            "image per name; rename or delete the others, then export again"
        )
    others = sorted(
        tag.removeprefix(MARKER_PREFIX)
        for tag in image.tags
        if tag.startswith(MARKER_PREFIX) and tag != MARKER_PREFIX + catalog
    )
    if others:
        return f"catalog '{others[0]}' manages it; two catalogs must not manage one image"
    if image.status in BUSY:
        return f"status {image.status}: Glance is taking its data; export again once it is active"
    if image.status not in ("active", "queued", "deactivated"):
        return f"status {image.status}: it holds no usable data; delete it by hand"
    if image.disk_format not in _enum("disk_format"):
        return f"disk_format {image.disk_format or 'unset'}: a manifest needs one of the schema's"
    if image.container_format not in _enum("container_format"):
        return (
            f"container_format {image.container_format or 'unset'}: a manifest needs one of "
            "the schema's"
        )
    if image.visibility not in set(Visibility):
        return f"visibility {image.visibility} is not one a manifest knows"
    if image.status == "deactivated" and _checksum(image) is None:
        return (
            "deactivated, and Glance has no sha256 or sha512 digest of its data: a manifest "
            "declares a deactivated image only with a source checksum"
        )
    if len(_tags(image, catalog)) > TAG_LIMIT:
        return f"more than {TAG_LIMIT} tags, which a manifest cannot hold"
    if len(_properties(image)[0]) > PROPERTY_LIMIT:
        return f"more than {PROPERTY_LIMIT} custom properties, which a manifest cannot hold"
    return ""


def _tags(image: ObservedImage, catalog: str) -> tuple[str, ...]:
    return tuple(sorted(tag for tag in image.tags if tag != MARKER_PREFIX + catalog))


def _properties(image: ObservedImage) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """(the properties a manifest may declare, the keys of the others)."""
    kept = tuple(
        (key, value)
        for key, value in sorted(image.properties.items())
        if reserved_property_hint(key) is None
    )
    left_out = tuple(key for key in sorted(image.properties) if reserved_property_hint(key))
    return kept, left_out


def _checksum(image: ObservedImage) -> tuple[str, ChecksumOrigin] | None:
    """The checksum the planner will find the data to have (steps.recorded_checksum): the
    one glance-catalog recorded when it verified the data, else Glance's own digest when its
    algorithm is one a manifest takes."""
    if image.status == "queued":
        return None
    recorded = image.properties.get(SOURCE_PROPERTY, "")
    if recorded and checksum_problem(recorded) is None:
        return recorded.lower(), ChecksumOrigin.RECORDED
    algorithm = (image.hash_algo or "").lower()
    if algorithm in set(HashAlgorithm) and image.hash_value:
        checksum = f"{algorithm}:{image.hash_value.lower()}"
        if checksum_problem(checksum) is None:
            return checksum, ChecksumOrigin.GLANCE
    return None


def _exported(image: ObservedImage, context: ExportContext) -> ExportedImage:
    properties, left_out = _properties(image)
    found = _checksum(image)
    if image.status == "queued":
        no_source = "no data in Glance (status queued): a reservation; add a source to upload"
    elif found is None:
        no_source = (
            f"Glance has no sha256 or sha512 digest of its data (os_hash_algo "
            f"{image.hash_algo or 'unset'}): adopted without a checksum, its data trusted"
        )
    else:
        no_source = ""
    members = image.members if image.visibility == Visibility.SHARED.value else {}
    return ExportedImage(
        observed=image,
        tags=_tags(image, context.catalog),
        properties=properties,
        left_out=left_out,
        members=tuple(sorted(members.items())),
        checksum=found[0] if found else None,
        checksum_origin=found[1] if found else None,
        no_source=no_source,
        data_url=f"{context.glance_endpoint.rstrip('/')}/images/{image.id}/file",
    )
