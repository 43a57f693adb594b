"""reconciler.core.changes: the kind of change the planner makes of each Glance image, what a
change may hold, and the order its steps run in."""

from __future__ import annotations

from dataclasses import replace

import pytest

from catalog.model import ImageState, MemberSpec, Visibility
from reconciler.core.actions import Action, ActionKind, FieldChange, Replacement
from reconciler.core.changes import ChangeKind, ImageChange, execution_order
from reconciler.core.planner import make_plan
from reconciler.executor import apply_plan
from tests.unit.builders import catalog, desired, observed_like, snapshot
from tests.unit.reconciler.core.test_versions import plan_for, versioned
from tests.unit.reconciler.test_executor import RecordingWriter
from tests.unit.report_plans import mixed_plan


def kinds(plan_changes: tuple[ImageChange, ...]) -> list[tuple[str, ChangeKind]]:
    return [(change.label, change.kind) for change in plan_changes]


def test_the_planner_makes_one_change_per_glance_image_with_its_kind() -> None:
    plan = mixed_plan()
    assert kinds(plan.changes) == [
        ("s", ChangeKind.CREATE),
        ("c", ChangeKind.UPDATE),
        ("g", ChangeKind.DELETE),
        ("r", ChangeKind.REPLACE),
    ]
    (replaced,) = [change for change in plan.changes if change.kind is ChangeKind.REPLACE]
    assert replaced.replacement is not None and replaced.replacement.old_id == "r"
    assert replaced.reason == replaced.replacement.why
    # Every step of the plan is in exactly one change, and the flat view holds them all.
    assert sorted(map(id, plan.actions)) == sorted(id(s) for c in plan.changes for s in c.steps)


def test_a_broken_image_is_remade_and_only_members_changing_is_a_members_change() -> None:
    image = desired("u")
    killed = replace(observed_like(image, "old"), status="killed")
    (remade,) = make_plan(catalog(image), snapshot(killed)).changes
    assert remade.kind is ChangeKind.REMAKE and remade.replacement == Replacement(
        "old", "Glance killed it (status killed)"
    )
    assert [step.kind for step in remade.steps] == [
        ActionKind.DISCARD,
        ActionKind.RESERVE,
        ActionKind.UPLOAD,
    ]
    shared = desired("s", visibility=Visibility.SHARED, members=(MemberSpec("a"),))
    held = replace(snapshot(observed_like(shared, "s")), projects={"a": "pa"})
    (members,) = make_plan(catalog(shared), held).changes
    assert members.kind is ChangeKind.MEMBERS
    assert [step.kind for step in members.steps] == [ActionKind.ADD_MEMBER]


def test_state_absent_of_a_protected_image_is_one_delete_change_of_two_steps() -> None:
    image = desired("p", state=ImageState.ABSENT)
    (deleted,) = make_plan(
        catalog(image), snapshot(observed_like(image, "p", protected=True))
    ).changes
    assert deleted.kind is ChangeKind.DELETE and deleted.reason == "state: absent"
    assert [step.kind for step in deleted.steps] == [ActionKind.UPDATE, ActionKind.DELETE]


def test_a_change_refuses_steps_it_cannot_hold() -> None:
    step = Action(ActionKind.DELETE, "x", "id")
    with pytest.raises(ValueError, match="a change has steps"):
        ImageChange(ChangeKind.DELETE, "x", None, "", ())
    with pytest.raises(ValueError, match="its steps are of another image"):
        ImageChange(ChangeKind.DELETE, "y", None, "", (step,))
    with pytest.raises(ValueError, match="its steps are of another image"):
        ImageChange(ChangeKind.DELETE, "x", "1", "", (step,))
    with pytest.raises(ValueError, match="a replacement belongs to replace and remake"):
        ImageChange(ChangeKind.REPLACE, "x", None, "", (step,))
    with pytest.raises(ValueError, match="a replacement belongs to replace and remake"):
        ImageChange(ChangeKind.DELETE, "x", None, "", (step,), Replacement("id", "why"))
    assert ImageChange(ChangeKind.DELETE, "x", None, "", (step,)).label == "x"


def rename(version: str, image_id: str, after: str) -> Action:
    changes = (FieldChange("name", "before", after),)
    return Action(ActionKind.RENAME, "x", image_id, changes, version=version)


def test_steps_run_by_the_order_table_then_image_and_the_name_is_taken_before_it_is_given_up() -> (
    None
):
    # Version 1 is planned first but gives the name to version 2: 2's rename runs first.
    gives = ImageChange(ChangeKind.UPDATE, "x", "1", "", (rename("1", "id-1", "x 1"),))
    takes = ImageChange(ChangeKind.UPDATE, "x", "2", "", (rename("2", "id-2", "x"),))
    delete = ImageChange(ChangeKind.DELETE, "a", None, "", (Action(ActionKind.DELETE, "a", "a"),))
    reserve = Action(ActionKind.RESERVE, "z", None)
    create = ImageChange(ChangeKind.CREATE, "z", None, "", (reserve,))
    order = execution_order([gives, delete, takes, create])
    assert [(step.kind.value, step.image, step.version) for _, step in order] == [
        ("reserve", "z", None),
        ("rename", "x", "2"),
        ("rename", "x", "1"),
        ("delete", "a", None),
    ]
    assert [change for change, _ in order] == [create, takes, gives, delete]


def test_each_change_works_on_the_image_its_own_reserve_made() -> None:
    plan = plan_for(versioned("20240601", "20240701"))
    assert [change.kind for change in plan.changes] == [ChangeKind.CREATE, ChangeKind.CREATE]
    writer = RecordingWriter()
    assert apply_plan(plan, writer).ok
    assert writer.calls == [
        ("reserve", "ubuntu 20240601"),
        ("reserve", "ubuntu 20240701"),
        ("upload", "id-ubuntu 20240601"),
        ("upload", "id-ubuntu 20240701"),
        ("update", "id-ubuntu 20240701"),
    ]
