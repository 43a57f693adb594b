"""The steps for a versioned manifest image: one Glance image per version. Pure.

A version's image carries ``glance_catalog_version`` and ``glance_catalog_version_of`` and is
matched by them, never by its name. The current version holds the image's name; the others
carry ``version_name``. A new version is made under its versioned name (hidden until it
holds the name) and takes the name only once its data is verified: the new current is
renamed first and the old holder second, so the name never points at nothing. The ``keep``
newest versions (and a pinned current) are kept; the others, and versions Glance holds that
the manifest no longer lists, retire by ``beyond_keep``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from catalog.model import (
    DesiredImage,
    ImageState,
)
from catalog.track import version_key
from reconciler.core.observed import (
    VERSION_OF_PROPERTY,
    VERSION_PROPERTY,
    ObservedImage,
    Snapshot,
)
from reconciler.core.steps import (
    STUCK_AFTER_SECONDS,
    ImageSteps,
    deletion,
    recorded_checksum,
)
from reconciler.core.version_retire import hold, retire
from reconciler.core.version_steps import FamilyPlan, Role


def kept_versions(desired: DesiredImage, held: Iterable[str] = ()) -> set[str]:
    """The labels kept usable: the ``keep`` newest, and the current one in any case (a pinned
    rollback keeps the newer versions, so that rolling forward again costs no upload).
    ``held`` are versions Glance holds that a tracked image's manifest does not list (builds
    its track offered): they count in version order among the declared ones."""
    labels = [version.version for version in desired.versions]
    if desired.track is not None:
        labels = sorted(set(labels) | set(held), key=version_key)
    current = desired.current_version
    keep = desired.retire.keep
    kept = set(labels if keep is None else labels[-keep:])
    if current is not None:
        kept.add(current.version)
    return kept


def plan_versions(
    desired: DesiredImage,
    snapshot: Snapshot,
    marker: str,
    stuck_after: float = STUCK_AFTER_SECONDS,
) -> ImageSteps:
    family = [
        image
        for image in snapshot.images
        if marker in image.tags and image.properties.get(VERSION_OF_PROPERTY) == desired.name
    ]
    steps = ImageSteps(claimed={image.id for image in family})
    if not desired.versions:
        # A tracked image whose upstream was not read (or listed nothing) has no current
        # version; planning it would retire every version Glance holds.
        return steps.conflict(
            desired.name,
            "no version is declared and none was found upstream",
            "declare a version, or check that the track's checksum file lists the build",
        )
    by_label: dict[str, ObservedImage] = {}
    for image in family:
        label = image.properties.get(VERSION_PROPERTY, "")
        if label in by_label:
            return steps.conflict(
                desired.name,
                f"images {by_label[label].id} and {image.id} both hold version '{label}'",
                "delete one of them by hand; glance-catalog will not guess",
            )
        by_label[label] = image
    legacy = _legacy(desired, snapshot, marker, steps)
    if steps.conflicts:
        return steps
    if legacy is not None:
        steps.claimed.add(legacy.id)
        matching = _matching_label(desired, legacy, by_label)
        if matching is not None:
            by_label[matching] = legacy
            legacy = None
    if desired.state is ImageState.ABSENT:
        for image in [*by_label.values(), *([legacy] if legacy else [])]:
            steps.changes.append(deletion(desired.name, image, "state: absent"))
        return steps
    now = datetime.fromtimestamp(snapshot.taken_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    plan = FamilyPlan(desired, snapshot, marker, stuck_after, now, steps)
    declared = {version.version for version in desired.versions}
    kept = kept_versions(desired, (label for label in by_label if label and label not in declared))
    current = desired.current_version
    for version in desired.versions:
        observed = by_label.get(version.version)
        if version.version not in kept:
            if observed is not None:
                retire(plan, version.version, observed, "older than the versions kept")
        elif current is not None and version.version == current.version:
            plan.keep(version, Role.CURRENT, observed)
        else:
            plan.keep(version, Role.SUPERSEDED, observed)
    for label, observed in sorted(by_label.items()):
        if label in declared:
            continue
        if label in kept:
            hold(plan, label, observed)
        else:
            retire(plan, label, observed, "no longer among the manifest's versions")
    if legacy is not None:
        retire(plan, "", legacy, "held the name before the image had versions")
    return plan.finish()


def _legacy(
    desired: DesiredImage, snapshot: Snapshot, marker: str, steps: ImageSteps
) -> ObservedImage | None:
    """The managed image that held the name before the manifest declared versions."""
    namesakes = snapshot.named(desired.name)
    unmanaged = [image for image in namesakes if marker not in image.tags]
    if unmanaged:
        ids = ", ".join(sorted(image.id for image in unmanaged))
        steps.conflict(
            desired.name,
            f"an image with this name exists but is not managed by this catalog: {ids}",
            "glance-catalog never touches it; rename or delete it by hand",
        )
    legacy = [
        image
        for image in namesakes
        if marker in image.tags and VERSION_OF_PROPERTY not in image.properties
    ]
    if len(legacy) > 1:
        ids = ", ".join(sorted(image.id for image in legacy))
        steps.conflict(
            desired.name,
            f"several images carry this catalog's marker: {ids}",
            "delete the extra ones by hand; glance-catalog will not guess",
        )
    return legacy[0] if len(legacy) == 1 else None


def _matching_label(
    desired: DesiredImage, legacy: ObservedImage, by_label: dict[str, ObservedImage]
) -> str | None:
    """The declared version whose data the pre-versions image verifiably holds, if any."""
    for version in desired.versions:
        wanted = str(version.source.checksum) if version.source.checksum else None
        if (
            version.version not in by_label
            and wanted
            and recorded_checksum(legacy, wanted) == wanted
        ):
            return version.version
    return None
