"""The steps that make or keep one Glance image: create (reserve, data, members, state), an
in-place update (data if none yet, update, stores, members, state) and delete. Pure. Which of
them an image needs, or whether it is replaced, is reconciler.core.converge's decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.model import DesiredImage, ImageState, Visibility
from reconciler.core.actions import Action, ActionKind, FieldChange
from reconciler.core.changes import ChangeKind, ImageChange, change_of, update_kind
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


@dataclass
class ImageSteps:
    """What planning one manifest image produced; ``claimed`` are the ids of the Glance images
    it accounts for (so they are not reported as orphans)."""

    changes: list[ImageChange] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    claimed: set[str] = field(default_factory=set)

    def conflict(self, image: str, message: str, hint: str = "") -> ImageSteps:
        self.conflicts.append(Conflict(image, message, hint))
        return self

    def members(self, members: MemberSteps) -> list[Action]:
        """The member steps; their conflicts and notes are kept here."""
        self.conflicts += members.conflicts
        self.notes += members.notes
        return members.actions

    def actions(self) -> list[Action]:
        """Every step of every change, change by change."""
        return [step for change in self.changes for step in change.steps]


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
    actions = [Action(ActionKind.RESERVE, desired.name, None, tuple(changes), reason=reason)]
    actions += _data_actions(desired, None)
    actions += steps.members(
        member_steps(desired, {}, None, snapshot.projects, snapshot.unresolved)
    )
    if desired.state is ImageState.DEACTIVATED:
        actions.append(
            Action(ActionKind.DEACTIVATE, desired.name, None, reason="state: deactivated")
        )
    steps.changes.append(change_of(ChangeKind.CREATE, actions))
    return steps


def update_in_place(
    desired: DesiredImage, observed: ObservedImage, snapshot: Snapshot, marker: str
) -> ImageSteps:
    """The steps that make ``observed`` match ``desired`` while it stays: its data when it has
    none yet (new formats before it), its fields, stores, members and state."""
    steps = ImageSteps(claimed={observed.id})
    actions: list[Action] = []
    has_data = observed.status not in ("queued", "importing")
    changes = image_changes(desired, observed, marker)
    if observed.name != desired.name:
        changes.insert(0, FieldChange("name", observed.name, desired.name))
    if not has_data:
        # Glance takes new formats only while an image has no data: before the data step.
        formats = tuple(change for change in changes if change.path in FORMAT_FIELDS)
        if formats:
            actions.append(
                Action(
                    ActionKind.PREPARE,
                    desired.name,
                    observed.id,
                    formats,
                    reason="formats change before the data arrives",
                )
            )
            changes = [change for change in changes if change.path not in FORMAT_FIELDS]
        actions += _data_actions(desired, observed.id)
    if changes:
        actions.append(
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
        actions += moves
        steps.conflicts += [stuck] if stuck else []
    members = observed.members if observed.visibility == Visibility.SHARED.value else {}
    actions += steps.members(
        member_steps(desired, members, observed.id, snapshot.projects, snapshot.unresolved)
    )
    actions += _state_actions(desired, observed, has_data)
    if actions:
        steps.changes.append(change_of(update_kind(actions), actions))
    _note_foreign_properties(steps, desired, observed)
    return steps


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


def deletion(name: str, observed: ObservedImage, reason: str) -> ImageChange:
    """The change that deletes ``observed`` (filed under ``name``)."""
    return change_of(ChangeKind.DELETE, delete(name, observed, reason), reason=reason)


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
