"""reconciler.core.plan_legacy: the steps of a plan of format 2 or 3 grouped into the changes
the planner made them as. (test_plan_formats.py: saved plans of those formats read, rendered
and applied.)"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from reconciler.core.actions import Action, ActionKind, FieldChange, Replacement
from reconciler.core.changes import ChangeKind, ImageChange
from reconciler.core.plan_legacy import legacy_changes
from tests.unit.builders import desired

SOURCE = desired().source
MOVED = Replacement("old", "source checksum sha256:aa -> sha256:bb")


def step(kind: ActionKind, image_id: str | None, image: str = "ubuntu", **fields: object) -> Action:
    if kind.moves_data:
        fields.setdefault("source", SOURCE)
    if kind.is_member_change:
        fields.setdefault("member", "project-2")
    if kind is ActionKind.ACCEPT_MEMBER:
        fields.setdefault("accept_with", "member-cloud")
    return Action(kind, image, image_id, **fields)  # type: ignore[arg-type]


def rename(image_id: str | None, before: str, after: str, image: str = "ubuntu") -> Action:
    return step(ActionKind.RENAME, image_id, image, changes=(FieldChange("name", before, after),))


def read(*steps: Action | tuple[Action, Replacement]) -> tuple[ImageChange, ...]:
    marked: Sequence[tuple[Action, Replacement | None]] = [
        entry if isinstance(entry, tuple) else (entry, None) for entry in steps
    ]
    return legacy_changes(marked)


def shape(changes: tuple[ImageChange, ...]) -> list[tuple[str, ChangeKind, list[str | None]]]:
    return [(change.label, change.kind, [s.image_id for s in change.steps]) for change in changes]


def test_a_marked_replacement_is_one_change_of_the_new_image_and_the_old() -> None:
    changes = read(
        (step(ActionKind.RESERVE, None), MOVED),
        (step(ActionKind.UPLOAD, None), MOVED),
        (rename(None, "ubuntu (replacement)", "ubuntu"), MOVED),
        (rename("old", "ubuntu", "ubuntu (previous old)"), MOVED),
        (step(ActionKind.DELETE, "old"), MOVED),
    )
    (change,) = changes
    assert change.kind is ChangeKind.REPLACE and change.replacement == MOVED
    assert change.reason == MOVED.why
    assert [(s.kind, s.image_id) for s in change.steps] == [
        (ActionKind.RESERVE, None),
        (ActionKind.UPLOAD, None),
        (ActionKind.RENAME, None),
        (ActionKind.RENAME, "old"),
        (ActionKind.DELETE, "old"),
    ]


def test_a_marked_change_with_a_discard_is_a_remake() -> None:
    broken = Replacement("k", "Glance killed it (status killed)")
    (change,) = read(
        (step(ActionKind.DISCARD, "k"), broken),
        (step(ActionKind.RESERVE, None), broken),
        (step(ActionKind.UPLOAD, None), broken),
    )
    assert change.kind is ChangeKind.REMAKE and change.replacement == broken


def test_a_replacement_saved_before_marks_reads_as_a_creation_and_a_deletion() -> None:
    changes = read(
        step(ActionKind.RESERVE, None),
        step(ActionKind.UPLOAD, None),
        rename(None, "ubuntu (replacement)", "ubuntu"),
        rename("old", "ubuntu", "ubuntu (previous old)"),
        step(ActionKind.DELETE, "old"),
    )
    assert shape(changes) == [
        ("ubuntu", ChangeKind.CREATE, [None, None, None]),
        ("ubuntu", ChangeKind.DELETE, ["old", "old"]),
    ]
    assert all(change.replacement is None for change in changes)
    kept = read(
        step(ActionKind.RESERVE, None),
        rename(None, "ubuntu (replacement)", "ubuntu"),
        rename("old", "ubuntu", "ubuntu (previous old)"),
    )
    assert [change.kind for change in kept] == [ChangeKind.CREATE, ChangeKind.UPDATE]


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ([ActionKind.UPDATE, ActionKind.ADD_MEMBER], ChangeKind.UPDATE),
        ([ActionKind.ADD_MEMBER, ActionKind.ACCEPT_MEMBER], ChangeKind.MEMBERS),
        ([ActionKind.DEACTIVATE], ChangeKind.UPDATE),
        ([ActionKind.UPDATE, ActionKind.DELETE], ChangeKind.DELETE),
        ([ActionKind.RETIRE], ChangeKind.RETIRE),
    ],
)
def test_the_steps_of_one_existing_image_are_one_change_of_the_kind_they_make(
    kinds: list[ActionKind], expected: ChangeKind
) -> None:
    (change,) = read(*(step(kind, "id-1") for kind in kinds))
    assert change.kind is expected
    assert sorted(s.kind for s in change.steps) == sorted(kinds)


def test_changes_follow_their_first_step_and_keep_images_and_versions_apart() -> None:
    changes = read(
        step(ActionKind.RESERVE, None, "b"),
        step(ActionKind.UPDATE, "id-a", "a"),
        step(ActionKind.UPDATE, "id-v1", "v", version="1"),
        step(ActionKind.UPLOAD, None, "b"),
        step(ActionKind.UPDATE, "id-v2", "v", version="2"),
        step(ActionKind.ADD_MEMBER, "id-a", "a"),
        step(ActionKind.RETIRE, "id-v1", "v", version="1"),
    )
    assert shape(changes) == [
        ("b", ChangeKind.CREATE, [None, None]),
        ("a", ChangeKind.UPDATE, ["id-a", "id-a"]),
        ("v [1]", ChangeKind.RETIRE, ["id-v1", "id-v1"]),
        ("v [2]", ChangeKind.UPDATE, ["id-v2"]),
    ]
    # Within a change, its steps in the order they run (the retire last).
    assert [s.kind for s in changes[2].steps] == [ActionKind.UPDATE, ActionKind.RETIRE]
