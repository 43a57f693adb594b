"""The steps for one manifest image against the Glance image that holds it. Pure.

Three shapes: create (reserve, data, members, state), converge (data if none yet, update,
members, state) and replace (a new image under a temporary name takes over the name once it
is complete; the old one is renamed, then deleted or kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from catalog.model import DesiredImage, ImageState, Visibility
from reconciler.core.actions import Action, ActionKind, FieldChange, Replacement
from reconciler.core.diff import (
    FORMAT_FIELDS,
    creation_changes,
    desired_properties,
    image_changes,
)
from reconciler.core.members import MemberSteps, member_steps
from reconciler.core.observed import (
    BOOKKEEPING_PROPERTIES,
    MANAGED_KEYS_PROPERTY,
    PREVIOUS_PROPERTY,
    SOURCE_PROPERTY,
    ObservedImage,
    Snapshot,
)
from reconciler.core.placement import copies_after_data, first_store, store_steps
from reconciler.core.plan import Conflict, Note

# Glance states in which an image is mid-transfer: wait rather than act on it.
BUSY_STATES = frozenset({"saving", "importing", "uploading"})
USABLE_STATES = frozenset({"queued", "active", "deactivated"})
NAME_LIMIT = 255
# How long an image may stay saving/importing before it is taken for stuck (--stuck-after):
# past Glance's own import lock expiry (60 minutes for a processing task).
STUCK_AFTER_SECONDS = 3600.0
REPLACEMENT_SUFFIX = " (replacement)"


def replacement_name(name: str) -> str:
    """The temporary name a replacement image carries until it takes over ``name``."""
    return name[: NAME_LIMIT - len(REPLACEMENT_SUFFIX)] + REPLACEMENT_SUFFIX


def previous_name(name: str, old: ObservedImage) -> str:
    suffix = f" (previous {old.id[:8]})"
    return name[: NAME_LIMIT - len(suffix)] + suffix


@dataclass
class ImageSteps:
    """What planning one manifest image produced; ``claimed`` are the ids of the Glance images
    it accounts for (so they are not reported as orphans)."""

    actions: list[Action] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)

    def conflict(self, image: str, message: str, hint: str = "") -> ImageSteps:
        self.conflicts.append(Conflict(image, message, hint))
        return self

    def extend(self, members: MemberSteps) -> None:
        self.actions += members.actions
        self.conflicts += members.conflicts
        self.notes += members.notes


def recorded_checksum(observed: ObservedImage, wanted: str | None) -> str | None:
    """The source checksum the image's data is known to have: the one glance-catalog recorded,
    else Glance's own hash when it uses the manifest's algorithm."""
    recorded = observed.properties.get(SOURCE_PROPERTY)
    if recorded:
        return recorded
    algorithm = wanted.partition(":")[0] if wanted else None
    if algorithm and observed.hash_value and algorithm == observed.hash_algo:
        return f"{observed.hash_algo}:{observed.hash_value}"
    return None


def wanted_checksum(desired: DesiredImage) -> str | None:
    if desired.source is None or desired.source.checksum is None:
        return None
    return str(desired.source.checksum)


def create(
    desired: DesiredImage, snapshot: Snapshot, marker: str, reason: str = "not in Glance"
) -> ImageSteps:
    steps = ImageSteps()
    changes = creation_changes(desired, marker)
    if desired.image_id is not None:
        changes.insert(0, FieldChange("id", None, desired.image_id))
    steps.actions.append(
        Action(ActionKind.RESERVE, desired.name, None, tuple(changes), reason=reason)
    )
    steps.actions += _data_actions(desired, None)
    steps.extend(member_steps(desired, {}, None, snapshot.projects, snapshot.unresolved))
    if desired.state is ImageState.DEACTIVATED:
        steps.actions.append(
            Action(ActionKind.DEACTIVATE, desired.name, None, reason="state: deactivated")
        )
    return steps


def converge(
    desired: DesiredImage,
    observed: ObservedImage,
    snapshot: Snapshot,
    marker: str,
    stuck_after: float = STUCK_AFTER_SECONDS,
) -> ImageSteps:
    steps = ImageSteps(claimed={observed.id})
    if why := broken_reason(observed, snapshot, stuck_after):
        return _remake(desired, observed, snapshot, marker, why)
    # An import still running (a run cut short after starting it) is followed, not started
    # again: the import step waits for the task Glance runs.
    following = observed.status == "importing" and _imports(desired)
    if not following and (problem := _unusable(observed)):
        return steps.conflict(desired.name, *problem)
    has_data = observed.status not in ("queued", "importing")
    changes = image_changes(desired, observed, marker)
    if observed.name != desired.name:
        changes.insert(0, FieldChange("name", observed.name, desired.name))
    if has_data and (why := _replacement_reason(desired, observed, changes)):
        return _replace(desired, observed, snapshot, marker, why)
    if not has_data:
        # Glance takes new formats only while an image has no data: before the data step.
        formats = tuple(change for change in changes if change.path in FORMAT_FIELDS)
        if formats:
            steps.actions.append(
                Action(
                    ActionKind.PREPARE,
                    desired.name,
                    observed.id,
                    formats,
                    reason="formats change before the data arrives",
                )
            )
            changes = [change for change in changes if change.path not in FORMAT_FIELDS]
        steps.actions += _data_actions(desired, observed.id)
    if changes:
        steps.actions.append(
            Action(
                ActionKind.UPDATE,
                desired.name,
                observed.id,
                tuple(changes),
                reason="differs from the manifest",
            )
        )
    if has_data:
        moves, stuck = store_steps(desired, observed)
        steps.actions += moves
        steps.conflicts += [stuck] if stuck else []
    members = observed.members if observed.visibility == Visibility.SHARED.value else {}
    steps.extend(
        member_steps(desired, members, observed.id, snapshot.projects, snapshot.unresolved)
    )
    steps.actions += _state_actions(desired, observed, has_data)
    _note_foreign_properties(steps, desired, observed)
    return steps


def _replacement_reason(
    desired: DesiredImage, observed: ObservedImage, changes: list[FieldChange]
) -> str:
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
        for change in changes
        if change.path in FORMAT_FIELDS
    )


def delete(name: str, observed: ObservedImage, reason: str) -> list[Action]:
    """Delete ``observed``, unprotecting it first in the same apply when it is protected."""
    actions = []
    if observed.protected:
        actions.append(
            Action(
                ActionKind.UPDATE,
                name,
                observed.id,
                (FieldChange("protected", True, False),),
                reason="a protected image must be unprotected to be deleted",
            )
        )
    actions.append(Action(ActionKind.DELETE, name, observed.id, reason=reason))
    return actions


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
    marked = Replacement(observed.id, why)
    steps.actions.append(
        Action(
            ActionKind.DISCARD,
            desired.name,
            observed.id,
            unprotect,
            reason=f"will be recreated: {why}",
        )
    )
    remade = create(desired, snapshot, marker, reason=f"recreated: {why}")
    steps.actions = [replace(action, replacement=marked) for action in steps.actions]
    steps.actions += [replace(action, replacement=marked) for action in remade.actions]
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


def _data_actions(desired: DesiredImage, image_id: str | None) -> list[Action]:
    if desired.source is None:
        return []
    kind = ActionKind.IMPORT if desired.source.method.imports else ActionKind.UPLOAD
    return [
        Action(
            kind,
            desired.name,
            image_id,
            source=desired.source,
            reason="the image has no data yet",
            recreatable=desired.image_id is None and not desired.adopt,
            stores=first_store(desired),
        ),
        *copies_after_data(desired, image_id),
    ]


def _state_actions(desired: DesiredImage, observed: ObservedImage, has_data: bool) -> list[Action]:
    deactivated = observed.status == "deactivated"
    if desired.state is ImageState.ACTIVE and deactivated:
        return [
            Action(
                ActionKind.REACTIVATE,
                desired.name,
                observed.id,
                reason="state: active, but the image is deactivated",
            )
        ]
    will_have_data = has_data or desired.source is not None
    if desired.state is ImageState.DEACTIVATED and not deactivated and will_have_data:
        return [
            Action(
                ActionKind.DEACTIVATE,
                desired.name,
                observed.id,
                reason="state: deactivated, but the image is active",
            )
        ]
    return []


def _note_foreign_properties(
    steps: ImageSteps, desired: DesiredImage, observed: ObservedImage
) -> None:
    ours = set(desired_properties(desired)) | observed.managed_property_keys()
    ours |= {MANAGED_KEYS_PROPERTY, SOURCE_PROPERTY, PREVIOUS_PROPERTY, *BOOKKEEPING_PROPERTIES}
    foreign = sorted(key for key in observed.properties if key not in ours)
    if foreign:
        steps.notes.append(
            Note(
                desired.name,
                f"properties set outside the catalog are kept: {', '.join(foreign)} "
                "(declare them to manage them)",
            )
        )


def _replace(
    desired: DesiredImage, old: ObservedImage, snapshot: Snapshot, marker: str, why: str
) -> ImageSteps:
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
    if reusable is None:
        for stale in candidates:
            if stale.status in BUSY_STATES:
                return steps.conflict(
                    desired.name,
                    f"replacement image {stale.id} is busy (status {stale.status})",
                    "run again once Glance has finished",
                )
            steps.actions += delete(desired.name, stale, "an unusable earlier replacement")
        new_id = None
        staged = create(staging, snapshot, marker)
        staged.actions[0] = replace(staged.actions[0], reason=f"replacement: {why}")
    else:
        new_id = reusable.id
        staged = converge(staging, reusable, snapshot, marker)
    # Filed under the manifest name: one image's steps share its fate in apply.
    steps.actions += [replace(action, image=desired.name) for action in staged.actions]
    steps.conflicts += [replace(conflict, image=desired.name) for conflict in staged.conflicts]
    swap = [FieldChange("name", temp_name, desired.name)]
    if not desired.hidden:
        swap.append(FieldChange("hidden", True, False))
    steps.actions.append(
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
    steps.actions.append(
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
        steps.actions.append(
            Action(ActionKind.DELETE, desired.name, old.id, reason="replaced by the new image")
        )
    if desired.state is ImageState.DEACTIVATED:
        steps.actions.append(
            Action(ActionKind.DEACTIVATE, desired.name, new_id, reason="state: deactivated")
        )
    marked = Replacement(old.id, why)
    steps.actions = [replace(action, replacement=marked) for action in steps.actions]
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
