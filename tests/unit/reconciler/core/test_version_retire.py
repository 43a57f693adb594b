"""reconciler.core.version_retire: a version beyond ``keep`` retires by ``beyond_keep``; a kept
version the manifest does not list is held by ``superseded``. Called directly on one family.
(test_versions.py: rotation through the planner.)"""

from __future__ import annotations

from dataclasses import replace

from catalog.model import RetireAction, RetirePolicy, SupersededAction
from reconciler.core.actions import ActionKind, FieldChange
from reconciler.core.changes import ChangeKind, ImageChange
from reconciler.core.observed import RETIRE_REFUSED_PROPERTY, VERSION_OF_PROPERTY, ObservedImage
from reconciler.core.replacement import previous_name
from reconciler.core.steps import ImageSteps
from reconciler.core.version_retire import hold, retire
from reconciler.core.version_steps import FamilyPlan
from tests.unit.builders import MARKER, observed_like, snapshot
from tests.unit.reconciler.core.test_versions import NOW, held, versioned

WHY = "older than the versions kept"


def family(**policy: object) -> FamilyPlan:
    image = versioned("a", "b", retire=RetirePolicy(**policy))  # type: ignore[arg-type]
    return FamilyPlan(image, snapshot(), MARKER, 3600.0, NOW, ImageSteps())


def old_a(plan: FamilyPlan, **fields: object) -> ObservedImage:
    """Version a as a converged run left it while it did not hold the name."""
    return held(plan.desired, "a", "id-a", current=False, **fields)


def planned(plan: FamilyPlan) -> list[ImageChange]:
    return plan.changes.finished()


def steps_of(change: ImageChange) -> list[tuple[ActionKind, tuple[FieldChange, ...]]]:
    return [(step.kind, step.changes) for step in change.steps]


# retire: beyond_keep


def test_delete_retires_an_unprotected_version_glance_never_refused() -> None:
    plan = family(keep=1, beyond_keep=RetireAction.DELETE)
    retire(plan, "a", old_a(plan), WHY)
    (change,) = planned(plan)
    assert (change.kind, change.label) == (ChangeKind.RETIRE, "ubuntu [a]")
    assert steps_of(change) == [(ActionKind.RETIRE, ())]
    assert change.steps[0].image_id == "id-a"
    assert change.reason == f"version a is {WHY}"
    assert plan.steps.claimed == {"id-a"} and plan.steps.notes == []


def test_delete_hides_a_protected_version_instead_and_says_why() -> None:
    plan = family(keep=1, beyond_keep=RetireAction.DELETE)
    retire(plan, "a", old_a(plan, protected=True), WHY)
    (change,) = planned(plan)
    assert change.kind is ChangeKind.UPDATE
    assert steps_of(change) == [(ActionKind.UPDATE, (FieldChange("hidden", False, True),))]
    (note,) = plan.steps.notes
    assert note.message == (
        f"version a (id-a) is {WHY} but is kept hidden: it is protected; unprotect it to let "
        "rotation delete it"
    )


def test_delete_is_not_tried_again_once_glance_refused_it() -> None:
    plan = family(keep=1, beyond_keep=RetireAction.DELETE)
    refused = old_a(plan, hidden=True)
    refused = replace(
        refused, properties={**refused.properties, RETIRE_REFUSED_PROPERTY: "HTTP 409: in use"}
    )
    retire(plan, "a", refused, WHY)
    # Hidden already: nothing left to do, and no retire step.
    assert planned(plan) == []
    assert "Glance refused to delete it (HTTP 409: in use); delete it by hand" in (
        plan.steps.notes[0].message
    )
    assert plan.steps.claimed == {"id-a"}


def test_hide_and_deactivate_set_a_version_aside_under_its_versioned_name() -> None:
    hiding = family(keep=1)  # beyond_keep hide: the default
    retire(hiding, "a", old_a(hiding), WHY)
    (hidden,) = planned(hiding)
    assert steps_of(hidden) == [(ActionKind.UPDATE, (FieldChange("hidden", False, True),))]
    deactivating = family(keep=1, beyond_keep=RetireAction.DEACTIVATE)
    retire(deactivating, "a", old_a(deactivating), WHY)
    (deactivated,) = planned(deactivating)
    assert steps_of(deactivated) == [(ActionKind.DEACTIVATE, ())]
    # Deactivated already: nothing to do.
    again = family(keep=1, beyond_keep=RetireAction.DEACTIVATE)
    retire(again, "a", replace(old_a(again), status="deactivated"), WHY)
    assert planned(again) == []


def test_the_image_from_before_versions_gives_up_the_name_and_is_marked() -> None:
    plan = family(keep=1)
    before = observed_like(replace(plan.desired, versions=(), source=None), "0123456789")
    assert VERSION_OF_PROPERTY not in before.properties
    retire(plan, "", before, "from before versions")
    (change,) = planned(plan)
    assert change.version is None
    (rename,) = change.steps
    assert rename.kind is ActionKind.RENAME and rename.image_id == "0123456789"
    assert rename.changes == (
        FieldChange("name", "ubuntu", previous_name("ubuntu", before)),
        FieldChange("hidden", False, True),
        FieldChange(f"properties.{VERSION_OF_PROPERTY}", None, "ubuntu"),
    )
    assert rename.reason == "version 01234567 is from before versions"


# hold: superseded


def test_a_kept_version_follows_superseded() -> None:
    expected = {
        SupersededAction.KEEP: [],
        SupersededAction.HIDE: [(ActionKind.UPDATE, (FieldChange("hidden", False, True),))],
        SupersededAction.DEACTIVATE: [(ActionKind.DEACTIVATE, ())],
    }
    for policy, steps in expected.items():
        plan = family(superseded=policy)
        hold(plan, "a", old_a(plan))
        assert [steps_of(change) for change in planned(plan)] == ([steps] if steps else [])
        assert plan.steps.claimed == {"id-a"}


def test_a_kept_version_under_another_name_takes_its_versioned_name() -> None:
    plan = family()
    current_a = held(plan.desired, "a", "id-a", current=True)
    hold(plan, "a", current_a)
    (change,) = planned(plan)
    (rename,) = change.steps
    assert rename.kind is ActionKind.RENAME
    assert rename.changes == (FieldChange("name", "ubuntu", plan.desired.versioned_name("a")),)
    assert rename.reason == "version a is kept, not current"
