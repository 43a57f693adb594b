"""The steps of one versioned image's kept versions: make, converge, promote or demote. Pure;
the matching of Glance images to versions is in reconciler.core.versions, retiring versions
in reconciler.core.version_retire."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum

from catalog.model import DesiredImage, ImageState, ImageVersion, SupersededAction
from reconciler.core.actions import Action, ActionKind, FieldChange
from reconciler.core.changes import ChangeKind
from reconciler.core.converge import broken_reason, converge
from reconciler.core.diff import FORMAT_FIELDS
from reconciler.core.observed import (
    CURRENT_SINCE_PROPERTY,
    VERSION_OF_PROPERTY,
    VERSION_PROPERTY,
    ObservedImage,
    Snapshot,
)
from reconciler.core.plan import Conflict
from reconciler.core.steps import (
    BUSY_STATES,
    ImageSteps,
    create,
    recorded_checksum,
    wanted_checksum,
)
from reconciler.core.version_changes import Draft, FamilyChanges


class Role(Enum):
    CURRENT = "current"
    SUPERSEDED = "superseded"
    RETIRED = "retired"


class FamilyPlan:
    """Collects one versioned image's changes (``changes``), conflicts and notes (``steps``).
    ``now`` (ISO 8601, UTC) is recorded as the time a version takes the name."""

    def __init__(
        self,
        desired: DesiredImage,
        snapshot: Snapshot,
        marker: str,
        stuck_after: float,
        now: str,
        steps: ImageSteps,
    ) -> None:
        self.desired = desired
        self.snapshot = snapshot
        self.marker = marker
        self.stuck_after = stuck_after
        self.now = now
        self.steps = steps
        self.changes = FamilyChanges(desired.name)

    def finish(self) -> ImageSteps:
        """The steps planned; a conflict for each name a version would take from an image
        this catalog does not manage."""
        self.steps.changes += self.changes.finished()
        taken = {
            str(change.after)
            for action in self.steps.actions()
            for change in action.changes
            if change.path == "name" and change.after is not None
        }
        for name in sorted(taken - {self.desired.name}):
            strangers = [i for i in self.snapshot.named(name) if self.marker not in i.tags]
            if strangers:
                self.steps.conflict(
                    self.desired.name,
                    f"an image named '{name}' exists but is not managed by this catalog: "
                    f"{', '.join(sorted(image.id for image in strangers))}",
                    "rename or delete it by hand, or change version_name",
                )
        return self.steps

    def _conflict(self, version: ImageVersion, message: str, hint: str) -> None:
        self.steps.conflicts.append(
            Conflict(
                self.desired.name,
                f"version '{version.version}': {message}",
                hint,
                str(version.position),
            )
        )

    def instance(self, version: ImageVersion, role: Role) -> DesiredImage:
        """The Glance image ``version`` should be."""
        desired, policy = self.desired, self.desired.retire.superseded
        current = role is Role.CURRENT
        state = desired.state
        if not current and policy is SupersededAction.DEACTIVATE:
            state = ImageState.DEACTIVATED
        return replace(
            desired,
            name=desired.name if current else desired.versioned_name(version.version),
            source=version.source,
            hidden=desired.hidden or (not current and policy is SupersededAction.HIDE),
            state=state,
            versions=(),
            current=None,
            bookkeeping={VERSION_PROPERTY: version.version, VERSION_OF_PROPERTY: desired.name},
        )

    def keep(self, version: ImageVersion, role: Role, observed: ObservedImage | None) -> None:
        instance = self.instance(version, role)
        label = version.version
        conflicts = len(self.steps.conflicts)
        why = self._unfit(version, instance, observed) if observed is not None else ""
        if len(self.steps.conflicts) > conflicts:
            return
        if observed is not None and why:
            discard = Action(
                ActionKind.DISCARD,
                self.desired.name,
                observed.id,
                (FieldChange("protected", True, False),) if observed.protected else (),
                reason=f"will be recreated: {why}",
            )
            self.changes.add(ChangeKind.DELETE, label, [discard])
            observed = None
        if observed is None:
            self._make(version, role, instance)
            return
        renaming = observed.name != instance.name
        if role is Role.CURRENT and not renaming:
            since = observed.properties.get(CURRENT_SINCE_PROPERTY) or self.now
            instance = replace(
                instance, bookkeeping={**instance.bookkeeping, CURRENT_SINCE_PROPERTY: since}
            )
        base = (
            replace(instance, name=observed.name, hidden=observed.hidden) if renaming else instance
        )
        converged = converge(base, observed, self.snapshot, self.marker, self.stuck_after)
        draft = self.changes.take(label, converged.changes)
        self.steps.conflicts += [
            replace(
                conflict, image=self.desired.name, message=f"version '{label}': {conflict.message}"
            )
            for conflict in converged.conflicts
        ]
        self.steps.notes += [replace(note, image=self.desired.name) for note in converged.notes]
        if renaming:
            draft = draft or self.changes.add(ChangeKind.UPDATE, label, [])
            self._rename(draft, label, observed.id, role, observed.name, observed.hidden, instance)

    def _unfit(self, version: ImageVersion, instance: DesiredImage, observed: ObservedImage) -> str:
        """Why ``observed`` must be made again ("" when it can serve); a conflict is recorded
        when it cannot be made again."""
        if why := broken_reason(observed, self.snapshot, self.stuck_after):
            return why
        if observed.status == "queued" or observed.status in BUSY_STATES:
            return ""
        wanted = wanted_checksum(instance)
        recorded = recorded_checksum(observed, wanted)
        formats = [
            f"{path} {getattr(observed, path)} -> {getattr(instance, path)}"
            for path in sorted(FORMAT_FIELDS)
            if getattr(observed, path) != getattr(instance, path)
        ]
        if (wanted and recorded and recorded != wanted) or formats:
            what = f"the source changed ({recorded} -> {wanted})" if not formats else formats[0]
            self._conflict(
                version,
                f"image {observed.id} holds this version with other data or formats: {what}",
                "a version's data never changes: declare a new version (or delete the image "
                "by hand to upload it again)",
            )
            return ""
        if wanted and recorded is None:
            if observed.name == self.desired.name:
                self._conflict(
                    version,
                    f"image {observed.id} holds the name but its data was never verified",
                    "delete it by hand; the next run uploads the version again",
                )
                return ""
            return f"its data was never verified against {wanted}"
        return ""

    def _make(self, version: ImageVersion, role: Role, instance: DesiredImage) -> None:
        """Create the version under its versioned name; the current one then takes the name."""
        label = version.version
        staged_name = self.desired.versioned_name(label)
        current = role is Role.CURRENT
        staged = replace(instance, name=staged_name, hidden=True if current else instance.hidden)
        made = create(staged, self.snapshot, self.marker, reason=f"new version {label}")
        draft = self.changes.take(label, made.changes)
        self.steps.notes += [replace(note, image=self.desired.name) for note in made.notes]
        self.steps.conflicts += [
            replace(conflict, image=self.desired.name) for conflict in made.conflicts
        ]
        if current and draft is not None:
            self._rename(draft, label, None, role, staged_name, True, instance)

    def _rename(
        self,
        draft: Draft,
        label: str,
        image_id: str | None,
        role: Role,
        before: str,
        hidden: bool,
        instance: DesiredImage,
    ) -> None:
        """A version takes the name (the current one) or gives it up; the rename that takes it
        runs first (reconciler.core.changes.execution_order)."""
        changes = [FieldChange("name", before, instance.name)]
        if hidden != instance.hidden:
            changes.append(FieldChange("hidden", hidden, instance.hidden))
        if role is Role.CURRENT:
            changes.append(FieldChange(f"properties.{CURRENT_SINCE_PROPERTY}", None, self.now))
            reason = f"version {label} takes the name"
        else:
            reason = f"version {label} gives up the name"
        draft.steps.append(
            Action(
                ActionKind.RENAME,
                self.desired.name,
                image_id,
                tuple(changes),
                reason=reason,
                version=label,
            )
        )
