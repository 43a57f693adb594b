"""reconciler.core.converge: what one manifest image needs from the Glance image that holds it,
called directly: made again when broken, a conflict when busy or unusable, replaced when its
data cannot serve, else updated in place. (test_steps.py and test_changes.py: the same
decisions through the planner.)"""

from __future__ import annotations

from dataclasses import replace

from catalog.model import ImageSource, TransferMethod
from reconciler.core.actions import ActionKind, FieldChange, Replacement
from reconciler.core.changes import ChangeKind
from reconciler.core.converge import broken_reason, converge
from reconciler.core.observed import SOURCE_PROPERTY, ObservedImage, Snapshot
from reconciler.core.steps import ImageSteps
from tests.unit.builders import MARKER, SHA, desired, observed_like, snapshot

TAKEN_AT = 1_790_000_000.0
HOUR = 3600.0
UUID = "6f1c2b1e-0d7a-4c57-9a55-3f0e6b1d2c3a"


def taken(*images: ObservedImage) -> Snapshot:
    return replace(snapshot(*images), taken_at=TAKEN_AT)


def kinds(steps: ImageSteps) -> list[tuple[ChangeKind, list[ActionKind]]]:
    return [(change.kind, [step.kind for step in change.steps]) for change in steps.changes]


def unverified(observed: ObservedImage) -> ObservedImage:
    """``observed`` without the checksum glance-catalog records once it verified the data."""
    properties = {k: v for k, v in observed.properties.items() if k != SOURCE_PROPERTY}
    return replace(observed, properties=properties)


# broken_reason


def test_a_killed_image_is_broken_whatever_its_age() -> None:
    killed = replace(observed_like(desired(), "k"), status="killed", updated_at=TAKEN_AT)
    assert broken_reason(killed, taken(killed), HOUR) == "Glance killed it (status killed)"


def test_a_busy_image_is_broken_only_once_older_than_stuck_after() -> None:
    image = desired()
    for status in ("saving", "importing", "uploading"):
        stuck = replace(observed_like(image), status=status, updated_at=TAKEN_AT - 2 * HOUR)
        assert broken_reason(stuck, taken(stuck), HOUR) == (
            f"stuck {status} for 120 minutes (--stuck-after)"
        )
        recent = replace(stuck, updated_at=TAKEN_AT - HOUR / 2)
        assert broken_reason(recent, taken(recent), HOUR) == ""
        # Nothing tells its age: never taken for stuck.
        unknown = replace(stuck, updated_at=None)
        assert broken_reason(unknown, taken(unknown), HOUR) == ""


def test_an_old_active_or_queued_image_is_not_broken() -> None:
    for status in ("active", "queued", "deactivated"):
        old = replace(observed_like(desired()), status=status, updated_at=TAKEN_AT - 100 * HOUR)
        assert broken_reason(old, taken(old), HOUR) == ""


# Broken: made again


def test_a_broken_image_is_discarded_then_made_again_as_one_remake() -> None:
    image = desired()
    killed = replace(observed_like(image, "old", protected=True), status="killed")
    steps = converge(image, killed, taken(killed), MARKER)
    assert kinds(steps) == [
        (ChangeKind.REMAKE, [ActionKind.DISCARD, ActionKind.RESERVE, ActionKind.UPLOAD])
    ]
    (change,) = steps.changes
    why = "Glance killed it (status killed)"
    assert change.replacement == Replacement("old", why)
    discard = change.steps[0]
    assert discard.image_id == "old"
    # A protected image is unprotected in its discard, so that Glance lets it go.
    assert discard.changes == (FieldChange("protected", True, False),)
    assert discard.reason == f"will be recreated: {why}"
    assert change.steps[1].reason == f"recreated: {why}"
    assert steps.claimed == {"old"} and steps.conflicts == []


def test_a_stuck_image_is_remade_once_past_the_given_stuck_after() -> None:
    image = desired()
    saving = replace(observed_like(image, "s"), status="saving", updated_at=TAKEN_AT - 600)
    waited = converge(image, saving, taken(saving), MARKER, stuck_after=HOUR)
    assert waited.changes == [] and "busy (status saving)" in waited.conflicts[0].message
    remade = converge(image, saving, taken(saving), MARKER, stuck_after=300)
    assert [change.kind for change in remade.changes] == [ChangeKind.REMAKE]
    assert remade.conflicts == []


def test_a_broken_image_with_a_fixed_id_or_adopted_is_a_conflict_never_a_remake() -> None:
    for image, says in (
        (desired(image_id=UUID), "Glance never gives an id out twice"),
        (desired(adopt=True), "it was adopted"),
    ):
        killed = replace(observed_like(image, "k"), status="killed")
        steps = converge(image, killed, taken(killed), MARKER)
        assert steps.changes == []
        (conflict,) = steps.conflicts
        assert conflict.image == "ubuntu"
        assert conflict.message.startswith("image k cannot take data: Glance killed it")
        assert says in conflict.message
        # Still accounted for: never reported as an orphan.
        assert steps.claimed == {"k"}


# Busy or unusable


def test_an_import_in_progress_is_followed_for_an_import_and_waited_for_otherwise() -> None:
    source = ImageSource(
        url="http://127.0.0.1:1/u.img", file=None, checksum=SHA, method=TransferMethod.WEB_DOWNLOAD
    )
    pulled = desired(source=source)
    importing = replace(observed_like(pulled, "i"), status="importing", updated_at=TAKEN_AT)
    followed = converge(pulled, importing, taken(importing), MARKER)
    assert followed.conflicts == []
    assert [step.kind for step in followed.actions()] == [ActionKind.IMPORT]
    assert followed.actions()[0].image_id == "i"
    uploaded = desired()
    waited = converge(uploaded, importing, taken(importing), MARKER)
    assert waited.changes == []
    assert [(c.message, c.hint) for c in waited.conflicts] == [
        ("image i is busy (status importing)", "run again once Glance has finished")
    ]


def test_an_image_in_a_state_glance_catalog_does_not_repair_is_a_conflict() -> None:
    image = desired()
    gone = replace(observed_like(image, "p"), status="pending_delete")
    steps = converge(image, gone, taken(gone), MARKER)
    assert steps.changes == [] and steps.claimed == {"p"}
    assert [(c.message, c.hint) for c in steps.conflicts] == [
        (
            "image p has status pending_delete",
            "glance-catalog does not repair it; delete it by hand",
        )
    ]


# Data that cannot serve: replaced; else updated in place


def test_an_image_whose_data_serves_is_updated_in_place() -> None:
    image = desired(min_ram=512)
    steps = converge(image, observed_like(image, "x", min_ram=0), taken(), MARKER)
    assert kinds(steps) == [(ChangeKind.UPDATE, [ActionKind.UPDATE])]
    assert steps.actions()[0].changes == (FieldChange("min_ram", 0, 512),)
    same = converge(image, observed_like(image, "x"), taken(), MARKER)
    assert same.changes == [] and same.claimed == {"x"}


def test_a_new_checksum_replaces_the_image_and_says_what_changed() -> None:
    before = observed_like(desired(), "old")
    new_sha = "sha256:" + "ab" * 32
    image = desired()
    assert image.source is not None
    moved = replace(image, source=replace(image.source, checksum=type(SHA).parse(new_sha)))
    steps = converge(moved, before, taken(before), MARKER)
    (change,) = steps.changes
    assert change.kind is ChangeKind.REPLACE
    assert change.replacement == Replacement("old", f"source checksum {SHA} -> {new_sha}")


def test_data_never_verified_is_replaced_unless_the_image_was_adopted() -> None:
    image = desired()
    never = unverified(observed_like(image, "u"))
    (change,) = converge(image, never, taken(never), MARKER).changes
    assert change.kind is ChangeKind.REPLACE
    assert change.replacement == Replacement("u", f"its data was never verified against {SHA}")
    adopted = converge(replace(image, adopt=True), never, taken(never), MARKER)
    assert kinds(adopted) == [(ChangeKind.UPDATE, [ActionKind.UPDATE])]


def test_new_formats_replace_an_image_with_data_and_prepare_one_without() -> None:
    image = desired(disk_format="raw")
    active = observed_like(desired(), "a")
    (change,) = converge(image, active, taken(active), MARKER).changes
    assert change.kind is ChangeKind.REPLACE
    assert change.replacement == Replacement("a", "disk_format qcow2 -> raw")
    queued = replace(observed_like(desired(), "q"), status="queued")
    steps = converge(image, queued, taken(queued), MARKER)
    assert [change.kind for change in steps.changes] == [ChangeKind.UPDATE]
    assert steps.actions()[0].kind is ActionKind.PREPARE
    assert steps.actions()[0].changes == (FieldChange("disk_format", "qcow2", "raw"),)
