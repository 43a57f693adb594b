"""reconciler.core.version_changes: the changes of one versioned image as its planning collects
them, one per Glance image a version holds. (test_versions.py: the same through the planner.)"""

from __future__ import annotations

from dataclasses import replace

from reconciler.core.actions import Action, ActionKind, FieldChange, Replacement
from reconciler.core.changes import ChangeKind, change_of
from reconciler.core.version_changes import Draft, FamilyChanges

HIDE = (FieldChange("hidden", False, True),)


def update(image_id: str, image: str = "step's own") -> Action:
    return Action(ActionKind.UPDATE, image, image_id, HIDE, reason="differs")


def add_member(image_id: str, image: str = "step's own") -> Action:
    return Action(ActionKind.ADD_MEMBER, image, image_id, member="project-2")


def rename(image_id: str, before: str, after: str, image: str = "ubuntu") -> Action:
    return Action(ActionKind.RENAME, image, image_id, (FieldChange("name", before, after),))


def test_add_files_the_steps_under_the_images_name_and_the_version_label() -> None:
    family = FamilyChanges("ubuntu")
    draft = family.add(ChangeKind.UPDATE, "2", [update("id-2"), add_member("id-2")])
    assert family.drafts == [draft]
    assert [(s.image, s.version, s.image_id) for s in draft.steps] == [
        ("ubuntu", "2", "id-2"),
        ("ubuntu", "2", "id-2"),
    ]
    # The image from before versions has no label: its steps carry no version.
    older = family.add(ChangeKind.RETIRE, None, [Action(ActionKind.RETIRE, "x", "id-0")])
    assert older.steps[0].version is None and older.steps[0].image == "ubuntu"


def test_take_drafts_each_change_planned_for_a_version_and_returns_the_last() -> None:
    family = FamilyChanges("ubuntu")
    moved = Replacement("id-1", "source checksum changed")
    planned = [
        change_of(ChangeKind.UPDATE, [update("id-1", "ubuntu 1")]),
        change_of(
            ChangeKind.REPLACE,
            [Action(ActionKind.RESERVE, "ubuntu 1", None, HIDE)],
            moved,
        ),
    ]
    last = family.take("1", planned)
    assert [(d.kind, d.replacement) for d in family.drafts] == [
        (ChangeKind.UPDATE, None),
        (ChangeKind.REPLACE, moved),
    ]
    assert last is family.drafts[-1]
    assert {(s.image, s.version) for d in family.drafts for s in d.steps} == {("ubuntu", "1")}
    assert family.take("2", []) is None
    assert len(family.drafts) == 2


def test_finished_drops_empty_drafts_and_keeps_the_order_versions_were_planned_in() -> None:
    family = FamilyChanges("ubuntu")
    family.add(ChangeKind.CREATE, "3", [Action(ActionKind.RESERVE, "u", None, HIDE)])
    family.add(ChangeKind.UPDATE, "2", [])
    family.add(ChangeKind.RETIRE, "1", [Action(ActionKind.RETIRE, "u", "id-1")])
    changes = family.finished()
    assert [(c.label, c.kind) for c in changes] == [
        ("ubuntu [3]", ChangeKind.CREATE),
        ("ubuntu [1]", ChangeKind.RETIRE),
    ]


def test_an_image_that_stays_is_members_only_while_every_step_is_a_member_step() -> None:
    family = FamilyChanges("ubuntu")
    members: Draft = family.add(ChangeKind.UPDATE, "1", [add_member("id-1")])
    joined = family.add(ChangeKind.MEMBERS, "2", [add_member("id-2")])
    # Once the version's place is known, a rename joins its draft.
    joined.steps.append(replace(rename("id-2", "ubuntu", "ubuntu 2"), version="2"))
    assert family.drafts[0] is members
    first, second = family.finished()
    assert first.kind is ChangeKind.MEMBERS
    assert second.kind is ChangeKind.UPDATE
    assert [s.kind for s in second.steps] == [ActionKind.ADD_MEMBER, ActionKind.RENAME]


def test_a_replacement_keeps_its_kind_and_mark_and_its_steps_run_in_order() -> None:
    family = FamilyChanges("ubuntu")
    moved = Replacement("id-1", "disk_format qcow2 -> raw")
    draft = family.add(
        ChangeKind.REPLACE,
        "1",
        [
            Action(ActionKind.DELETE, "u", "id-1"),
            rename("id-1", "ubuntu", "ubuntu (previous id-1)"),
            Action(ActionKind.RESERVE, "u", None, HIDE),
        ],
        moved,
    )
    assert draft.replacement == moved
    (change,) = family.finished()
    assert change.kind is ChangeKind.REPLACE and change.replacement == moved
    assert change.reason == moved.why
    assert [s.kind for s in change.steps] == [
        ActionKind.RESERVE,
        ActionKind.RENAME,
        ActionKind.DELETE,
    ]
