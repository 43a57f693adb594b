"""Replacing an image whose data cannot serve the manifest: a new image under a temporary name
takes over the name once it is complete; the old one is renamed, then deleted or kept. Pure."""

from __future__ import annotations

from dataclasses import replace

from catalog.model import DesiredImage, ImageState, Visibility
from reconciler.core.actions import Action, ActionKind, FieldChange, Replacement
from reconciler.core.changes import ChangeKind, change_of
from reconciler.core.observed import PREVIOUS_PROPERTY, ObservedImage, Snapshot
from reconciler.core.plan import Note
from reconciler.core.steps import (
    BUSY_STATES,
    ImageSteps,
    create,
    delete,
    recorded_checksum,
    update_in_place,
    wanted_checksum,
)

NAME_LIMIT = 255
REPLACEMENT_SUFFIX = " (replacement)"


def replacement_name(name: str) -> str:
    """The temporary name a replacement image carries until it takes over ``name``."""
    return name[: NAME_LIMIT - len(REPLACEMENT_SUFFIX)] + REPLACEMENT_SUFFIX


def previous_name(name: str, old: ObservedImage) -> str:
    suffix = f" (previous {old.id[:8]})"
    return name[: NAME_LIMIT - len(suffix)] + suffix


def replace_image(
    desired: DesiredImage, old: ObservedImage, snapshot: Snapshot, marker: str, why: str
) -> ImageSteps:
    """Make a new image under a temporary name (or finish one an earlier run began), then have
    it take over the name; the old one is renamed, then deleted or kept (keep_previous)."""
    steps = ImageSteps(claimed={old.id})
    if desired.image_id is not None:
        return steps.conflict(
            desired.name,
            f"{why}, but image {old.id} has data and a fixed id",
            "Glance cannot replace data in place nor reuse an id; remove id: or keep the source",
        )
    if desired.source is None:
        return steps.conflict(
            desired.name,
            f"{why}, but image {old.id} has data and the manifest gives no source to replace it",
            "add a source, or give the image a new name",
        )
    temp_name = replacement_name(desired.name)
    staging = replace(desired, name=temp_name, hidden=True, state=ImageState.ACTIVE)
    candidates = [image for image in snapshot.named(temp_name) if marker in image.tags]
    steps.claimed |= {image.id for image in candidates}
    reusable = _reusable(candidates, staging)
    actions: list[Action] = []
    if reusable is None:
        for stale in candidates:
            if stale.status in BUSY_STATES:
                return steps.conflict(
                    desired.name,
                    f"replacement image {stale.id} is busy (status {stale.status})",
                    "run again once Glance has finished",
                )
            actions += delete(desired.name, stale, "an unusable earlier replacement")
        new_id = None
        staged = create(staging, snapshot, marker)
        made = staged.actions()
        made[0] = replace(made[0], reason=f"replacement: {why}")
    else:
        new_id = reusable.id
        staged = update_in_place(staging, reusable, snapshot, marker)
        made = staged.actions()
    # Filed under the manifest name: one image's steps share its fate in apply.
    actions += [replace(action, image=desired.name) for action in made]
    steps.conflicts += [replace(conflict, image=desired.name) for conflict in staged.conflicts]
    swap = [FieldChange("name", temp_name, desired.name)]
    if not desired.hidden:
        swap.append(FieldChange("hidden", True, False))
    actions.append(
        Action(
            ActionKind.RENAME,
            desired.name,
            new_id,
            tuple(swap),
            reason="the replacement takes over the name",
        )
    )
    # The mark lets a later run finish a replacement cut short after this step.
    retire = [
        FieldChange("name", old.name, previous_name(desired.name, old)),
        FieldChange(f"properties.{PREVIOUS_PROPERTY}", None, desired.name),
    ]
    if old.protected and not desired.keep_previous:
        retire.append(FieldChange("protected", True, False))
    actions.append(
        Action(
            ActionKind.RENAME,
            desired.name,
            old.id,
            tuple(retire),
            reason="keep_previous: kept under a new name"
            if desired.keep_previous
            else "replaced; deleted next",
        )
    )
    if not desired.keep_previous:
        actions.append(
            Action(ActionKind.DELETE, desired.name, old.id, reason="replaced by the new image")
        )
    if desired.state is ImageState.DEACTIVATED:
        actions.append(
            Action(ActionKind.DEACTIVATE, desired.name, new_id, reason="state: deactivated")
        )
    steps.changes.append(change_of(ChangeKind.REPLACE, actions, Replacement(old.id, why)))
    waiting = [spec.project for spec in desired.members if spec.accept_with is None]
    if desired.visibility is Visibility.SHARED and waiting:
        steps.notes.append(
            Note(
                desired.name,
                "the replacement is a new image: its membership is pending for "
                f"{', '.join(waiting)} until they accept it (give accept_with to accept it)",
            )
        )
    return steps


def _reusable(candidates: list[ObservedImage], staging: DesiredImage) -> ObservedImage | None:
    """An earlier replacement that a new run can finish: still without data, or holding
    exactly the wanted data in the wanted formats."""
    if len(candidates) != 1:
        return None
    (candidate,) = candidates
    if candidate.status == "queued":
        return candidate
    same_formats = (candidate.disk_format, candidate.container_format) == (
        staging.disk_format,
        staging.container_format,
    )
    wanted = wanted_checksum(staging)
    if (
        candidate.status == "active"
        and same_formats
        and recorded_checksum(candidate, wanted) == (wanted)
    ):
        return candidate
    return None
