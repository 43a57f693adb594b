"""Catalog + Snapshot -> Plan. Pure; the ordering rules live here and nowhere else.

Per image the steps are: reserve, then data (upload or import), then updates, then state
changes; across images, actions run phase by phase in ActionKind order, by image name within a
phase, so the order is deterministic.
"""

from __future__ import annotations

from catalog.model import Catalog, DesiredImage, ImageState, TransferMethod
from reconciler.actions import Action, ActionKind, FieldChange
from reconciler.diff import FORMAT_FIELDS, creation_changes, image_changes
from reconciler.observed import SOURCE_PROPERTY, ObservedImage, Snapshot
from reconciler.plan import Conflict, Plan

# Glance states in which an image is mid-transfer: wait rather than act on it.
BUSY_STATES = frozenset({"saving", "importing", "uploading"})


def make_plan(catalog: Catalog, snapshot: Snapshot) -> Plan:
    actions: list[Action] = []
    conflicts: list[Conflict] = []
    for desired in catalog.images:
        image_actions, image_conflicts = plan_image(desired, snapshot, catalog.marker)
        actions += image_actions
        conflicts += image_conflicts
    ordered = sorted(actions, key=lambda action: (action.kind.phase, action.image))
    return Plan(
        cloud=snapshot.cloud,
        project_id=snapshot.project_id,
        catalog=catalog.name,
        catalog_digest=catalog.digest,
        observed_fingerprint=snapshot.fingerprint(),
        actions=tuple(ordered),
        conflicts=tuple(sorted(conflicts, key=lambda c: (c.image, c.message))),
    )


def plan_image(
    desired: DesiredImage, snapshot: Snapshot, marker: str
) -> tuple[list[Action], list[Conflict]]:
    namesakes = snapshot.named(desired.name)
    managed = [image for image in namesakes if marker in image.tags]
    unmanaged = [image for image in namesakes if marker not in image.tags]
    if len(managed) > 1:
        ids = ", ".join(sorted(image.id for image in managed))
        return [], [
            Conflict(
                desired.name,
                f"several images carry this catalog's marker: {ids}",
                "delete the extra ones by hand; glance-catalog will not guess",
            )
        ]
    if desired.state is ImageState.ABSENT:
        return (_delete(desired.name, managed[0], "state: absent") if managed else []), []
    if not managed:
        if unmanaged:
            ids = ", ".join(sorted(image.id for image in unmanaged))
            return [], [
                Conflict(
                    desired.name,
                    f"an image with this name exists but is not managed by this catalog: {ids}",
                    "glance-catalog never touches it; rename one of them",
                )
            ]
        return _create(desired, marker), []
    return _converge(desired, managed[0], marker)


def _create(desired: DesiredImage, marker: str) -> list[Action]:
    actions = [
        Action(
            ActionKind.RESERVE,
            desired.name,
            None,
            tuple(creation_changes(desired, marker)),
            reason="not in Glance",
        )
    ]
    actions += _data_actions(desired, None)
    if desired.state is ImageState.DEACTIVATED:
        actions.append(
            Action(ActionKind.DEACTIVATE, desired.name, None, reason="state: deactivated")
        )
    return actions


def _data_actions(desired: DesiredImage, image_id: str | None) -> list[Action]:
    if desired.source is None:
        return []
    kind = (
        ActionKind.IMPORT
        if desired.source.method is TransferMethod.WEB_DOWNLOAD
        else ActionKind.UPLOAD
    )
    return [
        Action(
            kind, desired.name, image_id, source=desired.source, reason="the image has no data yet"
        )
    ]


def _converge(
    desired: DesiredImage, observed: ObservedImage, marker: str
) -> tuple[list[Action], list[Conflict]]:
    if observed.status in BUSY_STATES:
        return [], [
            Conflict(
                desired.name,
                f"image {observed.id} is busy (status {observed.status})",
                "run again once Glance has finished",
            )
        ]
    if observed.status not in ("queued", "active", "deactivated"):
        return [], [
            Conflict(
                desired.name,
                f"image {observed.id} has status {observed.status}",
                "glance-catalog does not repair it; delete it by hand",
            )
        ]
    has_data = observed.status != "queued"
    changes = image_changes(desired, observed, marker)
    conflicts: list[Conflict] = []
    if has_data:
        frozen = [change for change in changes if change.path in FORMAT_FIELDS]
        recorded = observed.properties.get(SOURCE_PROPERTY)
        wanted = (
            str(desired.source.checksum) if desired.source and desired.source.checksum else None
        )
        if recorded and wanted and recorded != wanted:
            conflicts.append(
                Conflict(
                    desired.name,
                    f"the source changed ({recorded} -> "
                    f"{wanted}) but image {observed.id} already has data",
                    "Glance cannot replace image data in place; give the new data a new image name",
                )
            )
        for change in frozen:
            conflicts.append(
                Conflict(
                    desired.name,
                    f"{change.path} cannot change from "
                    f"{change.before} to {change.after} once an image has data",
                    "give the image a new name",
                )
            )
        if conflicts:
            return [], conflicts
    actions: list[Action] = []
    if not has_data:
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
    actions += _state_actions(desired, observed, has_data)
    return actions, []


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


def _delete(name: str, observed: ObservedImage, reason: str) -> list[Action]:
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
