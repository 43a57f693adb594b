"""The versions of a versioned image that are not current: a version beyond ``keep`` retires
by ``beyond_keep``; a kept version the manifest does not list is held by ``superseded``.
Pure."""

from __future__ import annotations

from catalog.model import RetireAction, SupersededAction
from reconciler.core.actions import Action, ActionKind, FieldChange
from reconciler.core.changes import ChangeKind
from reconciler.core.observed import RETIRE_REFUSED_PROPERTY, VERSION_OF_PROPERTY, ObservedImage
from reconciler.core.plan import Note
from reconciler.core.replacement import previous_name
from reconciler.core.version_steps import FamilyPlan


def retire(family: FamilyPlan, label: str, observed: ObservedImage, why: str) -> None:
    """Apply the beyond_keep policy to a version that is not kept (``label`` "" for the image
    that held the name before the image had versions)."""
    desired = family.desired
    family.steps.claimed.add(observed.id)
    policy = desired.retire.beyond_keep
    shown = label or observed.id[:8]
    name = desired.versioned_name(label) if label else previous_name(desired.name, observed)
    if policy is RetireAction.DELETE:
        refused = observed.properties.get(RETIRE_REFUSED_PROPERTY)
        if refused is None and not observed.protected:
            step = Action(
                ActionKind.RETIRE, desired.name, observed.id, reason=f"version {shown} is {why}"
            )
            family.changes.add(ChangeKind.RETIRE, label or None, [step])
            return
        family.steps.notes.append(
            Note(
                desired.name,
                f"version {shown} ({observed.id}) is {why} but is kept hidden: "
                + (
                    f"Glance refused to delete it ({refused}); delete it by hand"
                    if refused is not None
                    else "it is protected; unprotect it to let rotation delete it"
                ),
            )
        )
    deactivate = policy is RetireAction.DEACTIVATE
    _set_aside(
        family, label, observed, name, not deactivate, deactivate, f"version {shown} is {why}"
    )


def hold(family: FamilyPlan, label: str, observed: ObservedImage) -> None:
    """A kept version the manifest does not list (a build a track offered): it carries its
    versioned name and follows ``superseded``; it is not converged, its source being unknown
    here."""
    family.steps.claimed.add(observed.id)
    policy = family.desired.retire.superseded
    _set_aside(
        family,
        label,
        observed,
        family.desired.versioned_name(label),
        policy is SupersededAction.HIDE,
        policy is SupersededAction.DEACTIVATE,
        f"version {label} is kept, not current",
    )


def _set_aside(
    family: FamilyPlan,
    label: str,
    observed: ObservedImage,
    name: str,
    hide: bool,
    deactivate: bool,
    reason: str,
) -> None:
    """Give ``observed`` its versioned ``name`` and mark, hidden or deactivated as asked."""
    image = family.desired.name
    changes = []
    if hide and not observed.hidden:
        changes.append(FieldChange("hidden", False, True))
    if VERSION_OF_PROPERTY not in observed.properties:
        changes.append(FieldChange(f"properties.{VERSION_OF_PROPERTY}", None, image))
    steps = []
    if observed.name != name:
        # Renamed after the version that takes the name, as every rename that gives one up.
        renamed = (FieldChange("name", observed.name, name), *changes)
        steps.append(Action(ActionKind.RENAME, image, observed.id, renamed, reason=reason))
    elif changes:
        steps.append(Action(ActionKind.UPDATE, image, observed.id, tuple(changes), reason=reason))
    if deactivate and observed.status == "active":
        steps.append(Action(ActionKind.DEACTIVATE, image, observed.id, reason=reason))
    family.changes.add(ChangeKind.UPDATE, label or None, steps)
