"""The planner on versioned images: promotion, rotation, rollback, retire refusals. Pure."""

from __future__ import annotations

from dataclasses import replace

from catalog.model import (
    Checksum,
    ImageSource,
    ImageVersion,
    Position,
    RetireAction,
    RetirePolicy,
    SupersededAction,
)
from reconciler.core.actions import ActionKind, FieldChange
from reconciler.core.observed import (
    CURRENT_SINCE_PROPERTY,
    RETIRE_REFUSED_PROPERTY,
    VERSION_OF_PROPERTY,
    VERSION_PROPERTY,
    ObservedImage,
)
from reconciler.core.plan import Plan
from reconciler.core.planner import make_plan
from reconciler.core.versions import kept_versions
from reconciler.report.text import render_plan
from tests.unit.builders import catalog, desired, observed_like, snapshot

TAKEN_AT = 1_790_000_000.0  # 2026-09-21T14:13:20Z
NOW = "2026-09-21T14:13:20Z"


def version(label: str) -> ImageVersion:
    digest = label.encode().hex().ljust(64, "0")[:64]
    source = ImageSource(
        url=f"http://127.0.0.1:1/ubuntu-{label}.img",
        file=None,
        checksum=Checksum.parse(f"sha256:{digest}"),
    )
    return ImageVersion(label, source, Position("m.yaml", 10, 7))


def versioned(*labels: str, **fields: object):  # type: ignore[no-untyped-def]
    return desired(
        "ubuntu", source=None, versions=tuple(version(label) for label in labels), **fields
    )


def held(image, label: str, image_id: str, *, current: bool, **fields: object) -> ObservedImage:  # type: ignore[no-untyped-def]
    """The Glance image of ``label`` as a converged run leaves it."""
    chosen = next(v for v in image.versions if v.version == label)
    name = image.name if current else image.versioned_name(label)
    bookkeeping = {VERSION_PROPERTY: label, VERSION_OF_PROPERTY: image.name}
    if current:
        bookkeeping[CURRENT_SINCE_PROPERTY] = "2026-01-01T00:00:00Z"
    instance = replace(image, name=name, source=chosen.source, versions=(), bookkeeping=bookkeeping)
    return observed_like(instance, image_id, **fields)


def plan_for(image, *observed: ObservedImage) -> Plan:  # type: ignore[no-untyped-def]
    return make_plan(catalog(image), replace(snapshot(*observed), taken_at=TAKEN_AT))


def kinds(plan: Plan) -> list[tuple[str, str | None, str | None]]:
    return [(a.kind.value, a.version, a.image_id) for a in plan.actions]


def test_a_new_versioned_image_is_made_under_its_versioned_name_then_takes_the_name() -> None:
    image = versioned("20240601", "20240701")
    plan = plan_for(image)
    assert kinds(plan) == [
        ("reserve", "20240601", None),
        ("reserve", "20240701", None),
        ("upload", "20240601", None),
        ("upload", "20240701", None),
        ("rename", "20240701", None),
    ]
    newest = plan.actions[1]
    assert FieldChange("name", None, "ubuntu 20240701") in newest.changes
    assert FieldChange("hidden", None, True) in newest.changes
    assert FieldChange(f"properties.{VERSION_PROPERTY}", None, "20240701") in newest.changes
    assert plan.actions[-1].changes == (
        FieldChange("name", "ubuntu 20240701", "ubuntu"),
        FieldChange("hidden", True, False),
        FieldChange(f"properties.{CURRENT_SINCE_PROPERTY}", None, NOW),
    )
    older = plan.actions[0]
    assert FieldChange("name", None, "ubuntu 20240601") in older.changes
    assert FieldChange("hidden", None, False) in older.changes


def test_a_converged_family_plans_nothing() -> None:
    image = versioned("a", "b", retire=RetirePolicy(superseded=SupersededAction.HIDE))
    plan = plan_for(
        image,
        held(image, "a", "id-a", current=False, hidden=True),
        held(image, "b", "id-b", current=True),
    )
    assert plan.actions == () and plan.conflicts == () and plan.notes == ()


def test_promotion_renames_the_new_version_before_the_old_one_gives_up_the_name() -> None:
    image = versioned("a", "b", retire=RetirePolicy(superseded=SupersededAction.HIDE))
    plan = plan_for(image, held(versioned("a"), "a", "id-a", current=True))
    renames = [a for a in plan.actions if a.kind is ActionKind.RENAME]
    assert [(a.version, a.image_id) for a in renames] == [("b", None), ("a", "id-a")]
    assert renames[1].changes == (
        FieldChange("name", "ubuntu", "ubuntu a"),
        FieldChange("hidden", False, True),
    )
    assert kinds(plan)[:2] == [("reserve", "b", None), ("upload", "b", None)]
    assert plan.deletions == ()


def test_keep_rotates_older_versions_and_their_deletes_count() -> None:
    policy = RetirePolicy(keep=2, beyond_keep=RetireAction.DELETE)
    image = versioned("a", "b", "c", retire=policy)
    before = versioned("a", "b", retire=policy)
    plan = plan_for(
        image,
        held(before, "a", "id-a", current=False),
        held(before, "b", "id-b", current=True),
    )
    assert [(a.kind, a.image_id) for a in plan.deletions] == [(ActionKind.RETIRE, "id-a")]
    assert plan.actions[-1].kind is ActionKind.RETIRE  # after the renames
    assert "older than the versions kept" in plan.actions[-1].reason
    assert "hidden instead if Glance refuses" in render_plan(plan)


def test_versions_past_keep_are_hidden_by_default_never_deleted() -> None:
    image = versioned("a", "b", "c", retire=RetirePolicy(keep=1))
    plan = plan_for(
        image,
        held(image, "a", "id-a", current=False),
        held(image, "b", "id-b", current=False),
        held(image, "c", "id-c", current=True),
    )
    assert plan.deletions == ()
    assert {(a.kind, a.image_id) for a in plan.actions} == {
        (ActionKind.UPDATE, "id-a"),
        (ActionKind.UPDATE, "id-b"),
    }
    assert all(a.changes == (FieldChange("hidden", False, True),) for a in plan.actions)


def test_a_version_not_yet_in_glance_and_past_keep_is_never_uploaded() -> None:
    image = versioned("a", "b", "c", "d", retire=RetirePolicy(keep=2))
    plan = plan_for(image)
    assert {a.version for a in plan.actions} == {"c", "d"}
    assert kept_versions(image) == {"c", "d"}


def test_pinning_current_rolls_back_in_one_plan_and_keeps_the_newer_version() -> None:
    policy = RetirePolicy(keep=2, superseded=SupersededAction.HIDE, beyond_keep=RetireAction.DELETE)
    image = versioned("a", "b", "c", retire=policy)
    live = [
        held(image, "b", "id-b", current=False, hidden=True),
        held(image, "c", "id-c", current=True),
    ]
    plan = plan_for(replace(image, current="b"), *live)
    assert [(a.kind.value, a.image_id) for a in plan.actions] == [
        ("rename", "id-b"),
        ("rename", "id-c"),
    ]
    assert plan.actions[0].changes[0] == FieldChange("name", "ubuntu b", "ubuntu")
    assert plan.actions[1].changes == (
        FieldChange("name", "ubuntu", "ubuntu c"),
        FieldChange("hidden", False, True),
    )
    assert kept_versions(replace(image, current="a")) == {"a", "b", "c"}


def test_removing_the_newest_version_moves_the_name_back_and_retires_it() -> None:
    policy = RetirePolicy(beyond_keep=RetireAction.DELETE)
    image = versioned("a", "b", retire=policy)
    live = [held(image, "a", "id-a", current=False), held(image, "b", "id-b", current=True)]
    plan = plan_for(versioned("a", retire=policy), *live)
    assert [(a.kind.value, a.image_id) for a in plan.actions] == [
        ("rename", "id-a"),
        ("retire", "id-b"),
    ]
    assert "no longer among the manifest's versions" in plan.actions[1].reason


def test_a_protected_version_past_keep_is_hidden_instead_and_reported() -> None:
    policy = RetirePolicy(keep=1, beyond_keep=RetireAction.DELETE)
    image = versioned("a", "b", retire=policy, protected=True)
    plan = plan_for(
        image,
        held(image, "a", "id-a", current=False),
        held(image, "b", "id-b", current=True),
    )
    assert plan.deletions == ()
    assert [(a.kind, a.changes) for a in plan.actions] == [
        (ActionKind.UPDATE, (FieldChange("hidden", False, True),))
    ]
    assert "it is protected" in plan.notes[0].message


def test_a_version_glance_refused_to_delete_is_not_tried_again() -> None:
    policy = RetirePolicy(keep=1, beyond_keep=RetireAction.DELETE)
    image = versioned("a", "b", retire=policy)
    refused = held(image, "a", "id-a", current=False, hidden=True)
    refused = replace(
        refused, properties={**refused.properties, RETIRE_REFUSED_PROPERTY: "HTTP 409: in use"}
    )
    plan = plan_for(image, refused, held(image, "b", "id-b", current=True))
    assert plan.actions == ()
    assert "Glance refused to delete it (HTTP 409: in use)" in plan.notes[0].message


def test_a_version_whose_data_changed_is_a_conflict_at_its_position() -> None:
    image = versioned("a")
    live = held(image, "a", "id-a", current=True)
    edited = replace(image, versions=(replace(version("a"), source=version("zz").source),))
    plan = plan_for(edited, live)
    assert plan.actions == ()
    assert plan.conflicts[0].position == "m.yaml:10:7"
    assert "a version's data never changes" in plan.conflicts[0].hint


def test_an_image_from_before_versions_becomes_the_version_with_its_data() -> None:
    image = versioned("a", "b")
    plain = replace(versioned("a"), versions=(), source=version("a").source)
    legacy = observed_like(plain, "id-old")
    plan = plan_for(image, legacy)
    by_id = {(a.kind, a.image_id): a for a in plan.actions}
    update = by_id[(ActionKind.UPDATE, "id-old")]
    assert FieldChange(f"properties.{VERSION_PROPERTY}", None, "a") in update.changes
    assert (ActionKind.RENAME, "id-old") in by_id  # gives the name to b
    assert plan.deletions == ()


def test_an_unmanaged_image_under_a_versioned_name_is_a_conflict() -> None:
    image = versioned("a", "b")
    stranger = replace(observed_like(desired("ubuntu a")), id="id-x", tags=frozenset())
    plan = plan_for(image, stranger)
    assert any("'ubuntu a' exists but is not managed" in c.message for c in plan.conflicts)


def test_the_version_label_survives_the_plan_file() -> None:
    plan = plan_for(versioned("a", "b"))
    assert Plan.from_json(plan.to_json()) == plan
    assert '"version": "b"' in plan.to_json()


def test_a_build_a_track_offered_is_kept_in_version_order_though_never_written() -> None:
    from catalog.model import TrackSpec

    policy = RetirePolicy(keep=2, superseded=SupersededAction.HIDE, beyond_keep=RetireAction.DELETE)
    track = TrackSpec("http://127.0.0.1:1/SUMS", "u-{version}.img")
    before = versioned("1", "2", retire=policy, track=track)
    now = versioned("1", "3", retire=policy, track=track)  # 3 offered by the track
    plan = plan_for(
        now,
        held(before, "1", "id-1", current=False, hidden=True),
        held(before, "2", "id-2", current=True),
    )
    assert [(a.kind.value, a.version) for a in plan.actions if a.image_id] == [
        ("rename", "2"),
        ("retire", "1"),
    ]
    demoted = next(a for a in plan.actions if a.image_id == "id-2")
    assert demoted.changes == (
        FieldChange("name", "ubuntu", "ubuntu 2"),
        FieldChange("hidden", False, True),
    )
