"""reconciler.core.members: the member steps of one shared image. Pure."""

from __future__ import annotations

from catalog.model import MemberSpec, Visibility
from reconciler.core.actions import ActionKind
from reconciler.core.members import member_steps
from tests.unit.builders import desired

PROJECTS = {"alpha": "a" * 32, "beta": "b" * 32}


def shared(*members: MemberSpec):  # type: ignore[no-untyped-def]
    return desired(visibility=Visibility.SHARED, members=members)


def test_a_new_member_is_added_and_accepted_with_its_cloud() -> None:
    image = shared(MemberSpec("alpha"), MemberSpec("beta", accept_with="cloud-b"))
    steps = member_steps(image, {}, "id-1", PROJECTS)
    assert [(a.kind, a.member) for a in steps.actions] == [
        (ActionKind.ADD_MEMBER, "a" * 32),
        (ActionKind.ADD_MEMBER, "b" * 32),
        (ActionKind.ACCEPT_MEMBER, "b" * 32),
    ]
    assert steps.conflicts == [] and steps.notes == []


def test_a_member_no_longer_named_is_removed_and_an_accepted_one_left_alone() -> None:
    image = shared(MemberSpec("alpha"))
    steps = member_steps(image, {"a" * 32: "accepted", "c" * 32: "pending"}, "id-1", PROJECTS)
    assert [(a.kind, a.member) for a in steps.actions] == [(ActionKind.REMOVE_MEMBER, "c" * 32)]


def test_a_pending_member_without_accept_with_is_a_note_not_a_step() -> None:
    steps = member_steps(shared(MemberSpec("alpha")), {"a" * 32: "pending"}, "id-1", PROJECTS)
    assert steps.actions == []
    (note,) = steps.notes
    assert "only that project can accept" in note.message


def test_an_unresolved_project_is_a_conflict_saying_why() -> None:
    image = shared(MemberSpec("gamma"))
    steps = member_steps(image, {}, "id-1", PROJECTS, {"gamma": "no such project"})
    assert steps.actions == []
    (conflict,) = steps.conflicts
    assert conflict.message == "no such project"


def test_an_image_that_is_not_shared_keeps_no_members() -> None:
    image = desired(visibility=Visibility.PRIVATE, members=(MemberSpec("alpha"),))
    steps = member_steps(image, {"a" * 32: "accepted"}, "id-1", PROJECTS)
    assert [a.kind for a in steps.actions] == [ActionKind.REMOVE_MEMBER]
