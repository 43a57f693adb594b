"""Catalog + Snapshot -> Plan. Pure; the ordering rules live here and in ActionKind only.

Each manifest image is matched to the Glance image that holds it (by ``id`` when the manifest
gives one, else by name among the images carrying the catalog's marker; an unmanaged namesake
is taken over only with ``adopt``). Managed images no manifest names are orphans: deleted with
prune, else listed as notes. The plan holds one change per Glance image, in the order they are
planned; its steps run in reconciler.core.changes.execution_order: deterministic.
"""

from __future__ import annotations

import hashlib
import json

from catalog.model import Catalog, DesiredImage, ImageState
from catalog.secrets import redact_url
from reconciler.core.converge import converge
from reconciler.core.observed import PREVIOUS_PROPERTY, ObservedImage, Snapshot
from reconciler.core.placement import checked_stores
from reconciler.core.plan import Note, Plan, ResolvedChecksum
from reconciler.core.replacement import replacement_name
from reconciler.core.steps import (
    STUCK_AFTER_SECONDS,
    ImageSteps,
    create,
    deletion,
)
from reconciler.core.versions import plan_versions


def make_plan(
    catalog: Catalog,
    snapshot: Snapshot,
    *,
    prune: bool = False,
    stuck_after: float = STUCK_AFTER_SECONDS,
) -> Plan:
    """The plan that makes Glance match ``catalog``; with ``prune`` (or the catalog's own
    ``prune: true``) managed images that are no longer in the manifest are deleted. An image
    without data that Glance killed, or that has been saving or importing for more than
    ``stuck_after`` seconds, is discarded and made again."""
    prune = prune or catalog.prune
    planned = ImageSteps()
    for listed in catalog.images:
        desired, unusable = checked_stores(listed, snapshot)
        steps = plan_image(desired, snapshot, catalog.marker, stuck_after)
        planned.changes += steps.changes
        planned.conflicts += steps.conflicts
        planned.conflicts += [unusable] if unusable else []
        planned.notes += steps.notes
        planned.claimed |= steps.claimed
    for previous in _previous_versions(catalog, snapshot, planned.claimed):
        planned.claimed.add(previous.id)
        planned.changes.append(
            deletion(
                previous.properties[PREVIOUS_PROPERTY],
                previous,
                f"a replaced version ({previous.name}); keep_previous is false",
            )
        )
    for orphan in _orphans(catalog, snapshot, planned.claimed):
        if prune:
            planned.changes.append(deletion(orphan.name, orphan, "not in the manifest (prune)"))
        else:
            planned.notes.append(
                Note(
                    orphan.name,
                    f"image {orphan.id} carries this catalog's marker but is not in the "
                    "manifest; kept (apply --prune deletes it)",
                )
            )
    return Plan(
        cloud=snapshot.cloud,
        project_id=snapshot.project_id,
        catalog=catalog.name,
        catalog_digest=catalog.digest,
        observed_fingerprint=observed_fingerprint(catalog, snapshot),
        changes=tuple(planned.changes),
        conflicts=tuple(sorted(planned.conflicts, key=lambda c: (c.image, c.message))),
        notes=tuple(sorted(planned.notes, key=lambda n: (n.image, n.message))),
        manifests=tuple(str(path) for path in catalog.files),
        checksums=resolved_checksums(catalog),
    )


def resolved_checksums(catalog: Catalog) -> tuple[ResolvedChecksum, ...]:
    """The checksums ``catalog`` read from checksum files, by image name (``name [version]``
    for a version)."""
    sources = [keyed for image in catalog.images for keyed in image.keyed_sources()]
    found = [
        ResolvedChecksum(key, str(source.checksum), redact_url(source.checksum_url))
        for key, source in sources
        if source.checksum_url is not None and source.checksum is not None
    ]
    return tuple(sorted(found, key=lambda resolved: resolved.image))


def plan_image(
    desired: DesiredImage,
    snapshot: Snapshot,
    marker: str,
    stuck_after: float = STUCK_AFTER_SECONDS,
) -> ImageSteps:
    if desired.versions or desired.track:
        return plan_versions(desired, snapshot, marker, stuck_after)
    if desired.image_id is not None:
        return _plan_by_id(desired, snapshot, marker, stuck_after)
    namesakes = snapshot.named(desired.name)
    managed = [image for image in namesakes if marker in image.tags]
    if len(managed) > 1:
        ids = ", ".join(sorted(image.id for image in managed))
        return ImageSteps(claimed={image.id for image in managed}).conflict(
            desired.name,
            f"several images carry this catalog's marker: {ids}",
            "delete the extra ones by hand; glance-catalog will not guess",
        )
    if managed:
        return _plan_existing(desired, managed[0], snapshot, marker, stuck_after)
    if desired.state is ImageState.ABSENT:
        return ImageSteps()
    if not namesakes:
        return create(desired, snapshot, marker)
    ids = ", ".join(sorted(image.id for image in namesakes))
    if not desired.adopt:
        return ImageSteps().conflict(
            desired.name,
            f"an image with this name exists but is not managed by this catalog: {ids}",
            "glance-catalog never touches it; rename one, or set adopt: true to take it over",
        )
    if len(namesakes) > 1:
        return ImageSteps().conflict(
            desired.name,
            f"adopt: true, but several unmanaged images have this name: {ids}",
            "delete or rename all but one by hand; glance-catalog will not guess",
        )
    return _plan_existing(desired, namesakes[0], snapshot, marker, stuck_after)


def _plan_by_id(
    desired: DesiredImage, snapshot: Snapshot, marker: str, stuck_after: float
) -> ImageSteps:
    assert desired.image_id is not None
    observed = snapshot.by_id(desired.image_id)
    if observed is None:
        namesakes = snapshot.named(desired.name)
        if namesakes:
            ids = ", ".join(sorted(image.id for image in namesakes))
            return ImageSteps(
                claimed={image.id for image in namesakes if marker in image.tags}
            ).conflict(
                desired.name,
                f"the manifest asks for id {desired.image_id}, but image {ids} has this name",
                "Glance cannot change an image's id; delete or rename that image, or remove id:",
            )
        if desired.state is ImageState.ABSENT:
            return ImageSteps()
        return create(desired, snapshot, marker)
    if marker not in observed.tags and not desired.adopt:
        return ImageSteps().conflict(
            desired.name,
            f"image {observed.id} exists but is not managed by this catalog",
            "set adopt: true to take it over",
        )
    return _plan_existing(desired, observed, snapshot, marker, stuck_after)


def _plan_existing(
    desired: DesiredImage,
    observed: ObservedImage,
    snapshot: Snapshot,
    marker: str,
    stuck_after: float,
) -> ImageSteps:
    if desired.state is ImageState.ABSENT:
        return ImageSteps(
            changes=[deletion(desired.name, observed, "state: absent")], claimed={observed.id}
        )
    return converge(desired, observed, snapshot, marker, stuck_after)


def _previous_versions(
    catalog: Catalog, snapshot: Snapshot, claimed: set[str]
) -> list[ObservedImage]:
    """Replaced images of manifest images without keep_previous that are still there: a
    replacement cut short after its name swap, or keep_previous turned off since."""
    discard = {
        image.name
        for image in catalog.images
        if not image.keep_previous and image.state is not ImageState.ABSENT
    }
    return [
        image
        for image in snapshot.images
        if catalog.marker in image.tags
        and image.id not in claimed
        and image.properties.get(PREVIOUS_PROPERTY) in discard
    ]


def _orphans(catalog: Catalog, snapshot: Snapshot, claimed: set[str]) -> list[ObservedImage]:
    """Managed images nothing in the manifest accounts for (kept previous versions aside)."""
    kept_previous = {image.name for image in catalog.images if image.keep_previous}
    return [
        image
        for image in snapshot.images
        if catalog.marker in image.tags
        and image.id not in claimed
        and image.properties.get(PREVIOUS_PROPERTY) not in kept_previous
    ]


def observed_fingerprint(catalog: Catalog, snapshot: Snapshot) -> str:
    """sha256 over what the plan depends on: the catalog's managed images, every image that
    shares a name or an id with a manifest image (or its replacement), and the member projects.
    Other images of the project may change without making a saved plan stale."""
    names = {image.name for image in catalog.images}
    names |= {replacement_name(image.name) for image in catalog.images}
    names |= {
        image.versioned_name(version.version)
        for image in catalog.images
        for version in image.versions
    }
    ids = {image.image_id for image in catalog.images if image.image_id}
    relevant = [
        image.to_json()
        for image in snapshot.images
        if catalog.marker in image.tags or image.name in names or image.id in ids
    ]
    canonical = json.dumps(
        {
            "cloud": snapshot.cloud,
            "project_id": snapshot.project_id,
            "projects": dict(sorted(snapshot.projects.items())),
            "stores": sorted(snapshot.stores),
            "images": sorted(relevant, key=lambda image: str(image["id"])),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
