"""What one manifest image needs from the Glance image that holds it: made again when it is
broken, replaced when its data cannot serve, else updated in place. Pure."""

from __future__ import annotations

from catalog.model import DesiredImage
from reconciler.core.actions import Action, ActionKind, FieldChange, Replacement
from reconciler.core.changes import ChangeKind, change_of
from reconciler.core.diff import FORMAT_FIELDS, image_changes
from reconciler.core.observed import ObservedImage, Snapshot
from reconciler.core.replacement import replace_image
from reconciler.core.steps import (
    BUSY_STATES,
    STUCK_AFTER_SECONDS,
    USABLE_STATES,
    ImageSteps,
    create,
    recorded_checksum,
    update_in_place,
    wanted_checksum,
)


def converge(
    desired: DesiredImage,
    observed: ObservedImage,
    snapshot: Snapshot,
    marker: str,
    stuck_after: float = STUCK_AFTER_SECONDS,
) -> ImageSteps:
    if why := broken_reason(observed, snapshot, stuck_after):
        return _remake(desired, observed, snapshot, marker, why)
    # An import still running (a run cut short after starting it) is followed, not started
    # again: the import step waits for the task Glance runs.
    following = observed.status == "importing" and _imports(desired)
    if not following and (problem := _unusable(observed)):
        return ImageSteps(claimed={observed.id}).conflict(desired.name, *problem)
    has_data = observed.status not in ("queued", "importing")
    if has_data and (why := _replacement_reason(desired, observed, marker)):
        return replace_image(desired, observed, snapshot, marker, why)
    return update_in_place(desired, observed, snapshot, marker)


def _replacement_reason(desired: DesiredImage, observed: ObservedImage, marker: str) -> str:
    """Why the data of ``observed`` cannot serve ``desired`` ("" when it can)."""
    wanted = wanted_checksum(desired)
    recorded = recorded_checksum(observed, wanted)
    if wanted and recorded and recorded != wanted:
        return f"source checksum {recorded} -> {wanted}"
    if wanted and recorded is None and not desired.adopt:
        # Only verified data carries a recorded checksum (adopted images are trusted).
        return f"its data was never verified against {wanted}"
    return "; ".join(
        f"{change.path} {change.before} -> {change.after}"
        for change in image_changes(desired, observed, marker)
        if change.path in FORMAT_FIELDS
    )


def broken_reason(observed: ObservedImage, snapshot: Snapshot, stuck_after: float) -> str:
    """Why ``observed`` can never take data as it is ("" when it may): Glance killed it, or
    it has been saving or importing for longer than ``stuck_after`` seconds."""
    if observed.status == "killed":
        return "Glance killed it (status killed)"
    if observed.status in BUSY_STATES and observed.updated_at and snapshot.taken_at:
        age = snapshot.taken_at - observed.updated_at
        if age > stuck_after:
            return f"stuck {observed.status} for {age / 60:.0f} minutes (--stuck-after)"
    return ""


def _remake(
    desired: DesiredImage, observed: ObservedImage, snapshot: Snapshot, marker: str, why: str
) -> ImageSteps:
    """Discard a broken image and make it again under the same name: it holds no data, so
    nothing is lost; never an image with a fixed id (Glance never gives an id out twice) nor
    one taken over with adopt."""
    steps = ImageSteps(claimed={observed.id})
    if desired.image_id is not None:
        return steps.conflict(
            desired.name,
            f"image {observed.id} cannot take data: {why}; its id is fixed, and Glance never "
            "gives an id out twice",
            "delete the image by hand and give the manifest a new id: (or remove id:)",
        )
    if desired.adopt:
        return steps.conflict(
            desired.name,
            f"image {observed.id} cannot take data: {why}; it was adopted, so glance-catalog "
            "does not recreate it",
            "delete it by hand; the next run creates it",
        )
    unprotect = (FieldChange("protected", True, False),) if observed.protected else ()
    discard = Action(
        ActionKind.DISCARD,
        desired.name,
        observed.id,
        unprotect,
        reason=f"will be recreated: {why}",
    )
    remade = create(desired, snapshot, marker, reason=f"recreated: {why}")
    steps.changes.append(
        change_of(ChangeKind.REMAKE, [discard, *remade.actions()], Replacement(observed.id, why))
    )
    steps.conflicts += remade.conflicts
    steps.notes += remade.notes
    return steps


def _imports(desired: DesiredImage) -> bool:
    """Glance fetches the image's data itself (web-download, glance-download)."""
    return desired.source is not None and desired.source.method.imports


def _unusable(observed: ObservedImage) -> tuple[str, str] | None:
    if observed.status in BUSY_STATES:
        return (
            f"image {observed.id} is busy (status {observed.status})",
            "run again once Glance has finished",
        )
    if observed.status not in USABLE_STATES:
        return (
            f"image {observed.id} has status {observed.status}",
            "glance-catalog does not repair it; delete it by hand",
        )
    return None
