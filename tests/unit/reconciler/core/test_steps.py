"""reconciler.core.steps and the planner's matching: replacement, members, adopt, id, orphans."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from catalog.model import Checksum, DesiredImage, ImageState, MemberSpec, Position, Visibility
from reconciler.core.actions import ActionKind, FieldChange
from reconciler.core.observed import PREVIOUS_PROPERTY, SOURCE_PROPERTY
from reconciler.core.plan import Plan
from reconciler.core.planner import make_plan
from reconciler.core.replacement import replacement_name
from tests.unit.builders import MARKER, SHA, catalog, desired, observed_like, snapshot

NEW_SHA = Checksum.parse("sha256:" + "ab" * 32)
UUID = "6f1c2b1e-0d7a-4c57-9a55-3f0e6b1d2c3a"


def steps(plan: Plan) -> list[tuple[str, str | None]]:
    return [(action.kind.value, action.image_id) for action in plan.actions]


def with_new_source(**fields: Any) -> DesiredImage:
    image = desired(**fields)
    assert image.source is not None
    return replace(image, source=replace(image.source, checksum=NEW_SHA))


# Replacement


def test_a_new_source_replaces_the_image_and_the_name_never_points_at_nothing() -> None:
    old = observed_like(desired(), "old")
    plan = make_plan(catalog(with_new_source()), snapshot(old))
    assert steps(plan) == [
        ("reserve", None),
        ("upload", None),
        ("rename", None),
        ("rename", "old"),
        ("delete", "old"),
    ]
    reserve, _, swap, retire, _ = plan.actions
    created = {change.path: change.after for change in reserve.changes}
    assert created["name"] == replacement_name("ubuntu") == "ubuntu (replacement)"
    assert created["hidden"] is True
    # Recorded by the upload once Glance's copy is verified, never claimed up front.
    assert f"properties.{SOURCE_PROPERTY}" not in created
    assert plan.actions[1].source is not None and plan.actions[1].source.checksum == NEW_SHA
    assert "source checksum sha256:" in reserve.reason
    assert swap.changes == (
        FieldChange("name", "ubuntu (replacement)", "ubuntu"),
        FieldChange("hidden", True, False),
    )
    assert retire.changes == (
        FieldChange("name", "ubuntu", "ubuntu (previous old)"),
        FieldChange(f"properties.{PREVIOUS_PROPERTY}", None, "ubuntu"),
    )
    assert {action.image for action in plan.actions} == {"ubuntu"}


def test_keep_previous_renames_and_marks_the_old_image_and_never_deletes_it() -> None:
    old = observed_like(desired(protected=True), "old")
    image = with_new_source(keep_previous=True, protected=True)
    plan = make_plan(catalog(image), snapshot(old))
    assert [kind for kind, _ in steps(plan)] == ["reserve", "upload", "rename", "rename"]
    assert plan.actions[-1].changes == (
        FieldChange("name", "ubuntu", "ubuntu (previous old)"),
        FieldChange(f"properties.{PREVIOUS_PROPERTY}", None, "ubuntu"),
    )
    kept = replace(old, name="ubuntu (previous old)", properties={PREVIOUS_PROPERTY: "ubuntu"})
    again = make_plan(catalog(image), snapshot(kept))
    assert not any("not in the manifest" in note.message for note in again.notes)
    assert all(action.image_id != "old" for action in again.actions)


def test_a_protected_old_image_is_unprotected_in_its_rename_before_the_delete() -> None:
    old = observed_like(desired(protected=True), "old")
    plan = make_plan(catalog(with_new_source(protected=True)), snapshot(old))
    retire = plan.actions[3]
    assert FieldChange("protected", True, False) in retire.changes


def test_a_changed_disk_format_with_a_source_is_a_replacement() -> None:
    old = observed_like(desired(), "old", disk_format="raw")
    plan = make_plan(catalog(desired()), snapshot(old))
    assert plan.conflicts == ()
    assert "disk_format raw -> qcow2" in plan.actions[0].reason


def test_an_unfinished_replacement_is_resumed_not_duplicated() -> None:
    image = with_new_source()
    old = observed_like(desired(), "old")
    staged = replace(
        observed_like(replace(image, name="ubuntu (replacement)", hidden=True), "new"),
        status="queued",
    )
    plan = make_plan(catalog(image), snapshot(old, staged))
    assert steps(plan) == [
        ("upload", "new"),
        ("rename", "new"),
        ("rename", "old"),
        ("delete", "old"),
    ]
    finished = replace(staged, status="active")
    plan = make_plan(catalog(image), snapshot(old, finished))
    assert steps(plan) == [("rename", "new"), ("rename", "old"), ("delete", "old")]


def test_every_step_of_a_replacement_is_marked_with_the_old_image_and_what_changed() -> None:
    image = with_new_source(visibility=Visibility.SHARED, members=(MemberSpec("a"),))
    old = observed_like(desired(), "old")
    plan = make_plan(catalog(image), replace(snapshot(old), projects={"a": "pa"}))
    marks = {change.replacement for change, _ in plan.steps}
    (mark,) = marks
    assert mark is not None and mark.old_id == "old"
    assert mark.why == f"source checksum {SHA} -> {NEW_SHA}"
    assert "add_member" in [action.kind.value for action in plan.actions]
    # Saved and read back: the mark survives, and a plan without one keeps its old JSON.
    assert Plan.from_json(plan.to_json()) == plan
    assert '"old_id": "old"' in plan.to_json()
    converged = make_plan(catalog(desired(min_ram=64)), snapshot(old))
    assert {change.replacement for change, _ in converged.steps} == {None}
    assert '"replacement"' not in converged.to_json()


def test_a_broken_earlier_replacement_is_deleted_and_a_new_one_made() -> None:
    image = with_new_source()
    old = observed_like(desired(), "old")
    stale = replace(observed_like(desired(name="ubuntu (replacement)"), "stale"), status="killed")
    plan = make_plan(catalog(image), snapshot(old, stale))
    assert ("delete", "stale") in steps(plan) and ("reserve", None) in steps(plan)


def test_a_fixed_id_cannot_be_replaced() -> None:
    image = with_new_source(image_id=UUID)
    plan = make_plan(catalog(image), snapshot(observed_like(desired(), UUID)))
    assert plan.actions == ()
    assert "fixed id" in plan.conflicts[0].message


def test_an_adopted_image_whose_sha512_differs_is_replaced_and_one_that_matches_is_kept() -> None:
    sha512 = Checksum.parse("sha512:" + "ee" * 64)
    image = desired(adopt=True)
    assert image.source is not None
    image = replace(image, source=replace(image.source, checksum=sha512))
    theirs = replace(observed_like(image, "theirs"), tags=frozenset(), properties={})
    same = make_plan(catalog(image), snapshot(replace(theirs, hash_value="ee" * 64)))
    assert steps(same) == [("update", "theirs")]
    other = make_plan(catalog(image), snapshot(replace(theirs, hash_value="00" * 64)))
    assert ("reserve", None) in steps(other) and ("delete", "theirs") in steps(other)


# Members


def shared(*members: MemberSpec) -> DesiredImage:
    return desired(visibility=Visibility.SHARED, members=members)


PROJECTS = {"project-a": "pa", "project-b": "pb", "pc": "pc"}


def test_members_are_added_accepted_and_removed_and_status_drift_is_noted() -> None:
    image = shared(MemberSpec("project-a"), MemberSpec("project-b", "local-b"))
    observed = observed_like(image, "img", members={"pa": "rejected", "pc": "accepted"})
    plan = make_plan(
        catalog(image),
        replace(snapshot(observed), projects=PROJECTS),
    )
    assert [(a.kind.value, a.member) for a in plan.actions] == [
        ("remove_member", "pc"),
        ("add_member", "pb"),
        ("accept_member", "pb"),
    ]
    assert plan.actions[2].accept_with == "local-b"
    assert plan.actions[1].changes == (FieldChange("members.project-b", None, "pending"),)
    (note,) = plan.notes
    assert "member project-a (pa) has status rejected" in note.message


def test_an_image_becomes_shared_before_members_are_added() -> None:
    image = shared(MemberSpec("project-a"))
    observed = observed_like(desired(), "img")
    plan = make_plan(catalog(image), replace(snapshot(observed), projects=PROJECTS))
    assert [a.kind for a in plan.actions] == [ActionKind.UPDATE, ActionKind.ADD_MEMBER]


def test_members_are_removed_before_the_image_leaves_shared() -> None:
    was_shared = observed_like(shared(), "img", members={"pa": "accepted"})
    plan = make_plan(catalog(desired()), replace(snapshot(was_shared), projects=PROJECTS))
    assert [a.kind for a in plan.actions] == [ActionKind.REMOVE_MEMBER, ActionKind.UPDATE]


def test_a_new_shared_image_gets_its_members_after_it_is_reserved() -> None:
    image = shared(MemberSpec("project-a", "local-a"))
    plan = make_plan(catalog(image), replace(snapshot(), projects=PROJECTS))
    assert [a.kind.value for a in plan.actions] == [
        "reserve",
        "upload",
        "add_member",
        "accept_member",
    ]
    assert all(action.image_id is None for action in plan.actions)


def test_an_unresolved_member_project_is_a_conflict_at_its_entry_saying_why() -> None:
    plan = make_plan(catalog(shared(MemberSpec("nobody"))), snapshot())
    assert "member project 'nobody' was not resolved" in plan.conflicts[0].message
    assert plan.conflicts[0].position == "m.yaml:1:1"  # the image's, the entry's unknown
    entry = MemberSpec("nobody", position=Position("m.yaml", 7, 9))
    why = {"nobody": "member project 'nobody' does not exist in Keystone"}
    plan = make_plan(catalog(shared(entry)), replace(snapshot(), unresolved=why))
    (conflict,) = plan.conflicts
    assert conflict.as_text() == (
        "m.yaml:7:9: image 'ubuntu': member project 'nobody' does not exist in Keystone "
        "(hint: name an existing project, or give its id)"
    )


# Ownership: adopt, id, orphans


def test_adopt_takes_over_an_unmanaged_namesake_by_adding_the_marker() -> None:
    theirs = replace(observed_like(desired(), "theirs"), tags=frozenset({"lts"}))
    plan = make_plan(catalog(desired(adopt=True)), snapshot(theirs))
    (update,) = plan.actions
    assert update.image_id == "theirs"
    (tags,) = [change for change in update.changes if change.path == "tags"]
    assert tags.after == sorted({"lts", MARKER})
    two = make_plan(catalog(desired(adopt=True)), snapshot(theirs, replace(theirs, id="t2")))
    assert "several unmanaged images" in two.conflicts[0].message


def test_an_image_with_an_id_is_created_with_it_and_found_by_it_under_any_name() -> None:
    image = desired(image_id=UUID)
    created = make_plan(catalog(image), snapshot())
    assert created.actions[0].changes[0] == FieldChange("id", None, UUID)
    renamed = observed_like(image, UUID, name="old-name")
    plan = make_plan(catalog(image), snapshot(renamed))
    assert plan.actions[0].changes == (FieldChange("name", "old-name", "ubuntu"),)
    other = observed_like(desired(), "other-id")
    clash = make_plan(catalog(image), snapshot(other))
    assert "asks for id" in clash.conflicts[0].message


def test_orphans_are_noted_and_deleted_only_with_prune() -> None:
    orphan = observed_like(desired("retired", protected=True), "gone")
    kept = make_plan(catalog(desired()), snapshot(observe := observed_like(desired()), orphan))
    assert kept.actions == ()
    assert "not in the manifest; kept" in kept.notes[0].message
    pruned = make_plan(catalog(desired()), snapshot(observe, orphan), prune=True)
    assert steps(pruned) == [("update", "gone"), ("delete", "gone")]
    by_manifest = make_plan(replace(catalog(desired()), prune=True), snapshot(observe, orphan))
    assert steps(by_manifest) == steps(pruned)
    unmanaged = replace(orphan, tags=frozenset())
    assert make_plan(catalog(desired()), snapshot(observe, unmanaged), prune=True).actions == ()


def test_properties_set_by_hand_are_reported_not_removed() -> None:
    image = desired()
    observed = observed_like(image)
    by_hand = replace(observed, properties={**observed.properties, "hw_qemu_guest_agent": "yes"})
    plan = make_plan(catalog(image), snapshot(by_hand))
    assert plan.actions == ()
    assert "set outside the catalog are kept: hw_qemu_guest_agent" in plan.notes[0].message


def test_state_absent_with_a_replacement_pending_still_deletes_only_the_image() -> None:
    plan = make_plan(
        catalog(desired(state=ImageState.ABSENT)), snapshot(observed_like(desired(), "x"))
    )
    assert steps(plan) == [("delete", "x")]


def test_a_replacement_cut_short_after_the_swap_is_finished_by_the_next_run() -> None:
    image = desired()
    current = observed_like(image, "new")
    left = replace(
        observed_like(desired(), "old", name="ubuntu (previous old)", protected=True),
        properties={PREVIOUS_PROPERTY: "ubuntu"},
    )
    plan = make_plan(catalog(image), snapshot(current, left))
    assert steps(plan) == [("update", "old"), ("delete", "old")]
    assert "keep_previous is false" in plan.actions[1].reason
    kept = make_plan(catalog(replace(image, keep_previous=True)), snapshot(current, left))
    assert kept.actions == () and kept.notes == ()


def test_data_never_verified_is_replaced_unless_adopted() -> None:
    image = desired()
    unverified = replace(
        observed_like(image, "x"),
        properties={
            k: v for k, v in observed_like(image).properties.items() if k != SOURCE_PROPERTY
        },
    )
    plan = make_plan(catalog(image), snapshot(unverified))
    assert "its data was never verified against sha256:" in plan.actions[0].reason
    adopted = make_plan(catalog(replace(image, adopt=True)), snapshot(unverified))
    (update,) = adopted.actions
    assert update.changes == (FieldChange(f"properties.{SOURCE_PROPERTY}", None, str(SHA)),)


def test_a_queued_image_gets_new_formats_before_its_data_and_no_unverified_checksum() -> None:
    image = desired(min_ram=64)
    queued = observed_like(desired(source=None, disk_format="raw"), "q")
    plan = make_plan(catalog(image), snapshot(queued))
    assert [a.kind.value for a in plan.actions] == ["prepare", "upload", "update"]
    assert plan.actions[0].changes == (FieldChange("disk_format", "raw", "qcow2"),)
    assert all(
        change.path != f"properties.{SOURCE_PROPERTY}"
        for action in plan.actions
        for change in action.changes
    )


def test_an_id_whose_name_another_image_has_is_a_conflict() -> None:
    theirs = replace(observed_like(desired(), "theirs"), tags=frozenset())
    plan = make_plan(catalog(desired(image_id=UUID)), snapshot(theirs))
    assert plan.actions == ()
    assert f"asks for id {UUID}, but image theirs has this name" in plan.conflicts[0].message


def test_replacing_a_shared_image_notes_members_that_must_accept_again() -> None:
    image = with_new_source(
        visibility=Visibility.SHARED,
        members=(MemberSpec("project-a"), MemberSpec("project-b", "b")),
    )
    old = observed_like(image, "old", members={"pa": "accepted", "pb": "accepted"})
    old = replace(old, properties={**old.properties, SOURCE_PROPERTY: "sha256:" + "cd" * 32})
    plan = make_plan(catalog(image), replace(snapshot(old), projects=PROJECTS))
    (note,) = plan.notes
    assert "membership is pending for project-a until they accept it" in note.message
