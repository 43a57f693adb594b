"""reconciler.core.planner: catalog + snapshot -> ordered actions and conflicts. Pure."""

from __future__ import annotations

from dataclasses import replace

from catalog.model import ImageState
from reconciler.core.actions import ActionKind, FieldChange
from reconciler.core.observed import ObservedImage
from reconciler.core.planner import make_plan
from tests.unit.builders import MARKER, catalog, desired, observed_like, snapshot


def kinds(plan_actions: tuple[object, ...]) -> list[tuple[str, str]]:
    return [(a.kind.value, a.image) for a in plan_actions]  # type: ignore[attr-defined]


def test_a_new_image_is_reserved_then_uploaded_with_every_field() -> None:
    plan = make_plan(catalog(desired()), snapshot())
    assert kinds(plan.actions) == [("reserve", "ubuntu"), ("upload", "ubuntu")]
    reserve = plan.actions[0]
    paths = {change.path: change.after for change in reserve.changes}
    assert paths["name"] == "ubuntu"
    assert paths["visibility"] == "private"
    assert paths["tags"] == sorted({"lts", MARKER})
    assert paths["properties.os_distro"] == "ubuntu"
    assert all(change.before is None for change in reserve.changes)
    assert plan.actions[1].source == desired().source


def test_a_converged_catalog_plans_nothing() -> None:
    image = desired()
    plan = make_plan(catalog(image), snapshot(observed_like(image)))
    assert plan.actions == () and plan.conflicts == ()


def test_an_image_without_source_is_only_reserved() -> None:
    plan = make_plan(catalog(desired(source=None)), snapshot())
    assert kinds(plan.actions) == [("reserve", "ubuntu")]


def test_a_queued_managed_image_gets_its_data() -> None:
    image = desired()
    plan = make_plan(catalog(image), snapshot(observed_like(image, status="queued")))
    assert kinds(plan.actions) == [("upload", "ubuntu")]
    assert plan.actions[0].image_id == "id-1"


def test_state_changes_deactivate_and_reactivate() -> None:
    image = desired(state=ImageState.DEACTIVATED)
    plan = make_plan(catalog(image), snapshot(observed_like(image)))
    assert kinds(plan.actions) == [("deactivate", "ubuntu")]
    back = make_plan(catalog(desired()), snapshot(observed_like(image, status="deactivated")))
    assert kinds(back.actions) == [("reactivate", "ubuntu")]


def test_absent_deletes_and_unprotects_first() -> None:
    image = desired(state=ImageState.ABSENT)
    observed = observed_like(desired(protected=True))
    plan = make_plan(catalog(image), snapshot(observed))
    assert kinds(plan.actions) == [("update", "ubuntu"), ("delete", "ubuntu")]
    assert plan.actions[0].changes == (FieldChange("protected", True, False),)
    assert make_plan(catalog(image), snapshot()).actions == ()


def test_an_unmanaged_namesake_is_a_conflict_and_never_touched() -> None:
    unmanaged = replace(observed_like(desired()), tags=frozenset({"lts"}))
    plan = make_plan(catalog(desired()), snapshot(unmanaged))
    assert plan.actions == ()
    (conflict,) = plan.conflicts
    assert "not managed by this catalog: id-1" in conflict.message


def test_an_unmanaged_namesake_of_an_absent_image_is_not_deleted() -> None:
    unmanaged = replace(observed_like(desired()), tags=frozenset())
    plan = make_plan(catalog(desired(state=ImageState.ABSENT)), snapshot(unmanaged))
    assert plan.actions == () and plan.conflicts == ()


def test_two_managed_images_with_one_name_are_reported_not_guessed() -> None:
    image = desired()
    plan = make_plan(catalog(image), snapshot(observed_like(image, "a"), observed_like(image, "b")))
    assert plan.actions == ()
    assert "several images carry this catalog's marker: a, b" in plan.conflicts[0].message


def test_formats_of_an_active_image_without_a_source_cannot_change() -> None:
    image = desired(source=None)
    observed = observed_like(image, disk_format="raw", status="active")
    plan = make_plan(catalog(image), snapshot(observed))
    assert plan.actions == ()
    assert "disk_format raw -> qcow2" in plan.conflicts[0].message
    assert "gives no source" in plan.conflicts[0].message


def test_a_busy_image_is_a_conflict_to_retry() -> None:
    image = desired()
    plan = make_plan(catalog(image), snapshot(observed_like(image, status="saving")))
    assert "busy" in plan.conflicts[0].message


def test_actions_run_phase_by_phase_then_by_name() -> None:
    old = desired("old", state=ImageState.ABSENT)
    changed = desired("changed", min_ram=64)
    plan = make_plan(
        catalog(desired("zeta"), old, changed, desired("alpha")),
        snapshot(observed_like(desired("old"), "o"), observed_like(desired("changed"), "c")),
    )
    assert kinds(plan.actions) == [
        ("reserve", "alpha"),
        ("reserve", "zeta"),
        ("upload", "alpha"),
        ("upload", "zeta"),
        ("update", "changed"),
        ("delete", "old"),
    ]


def test_the_same_inputs_give_byte_identical_plans() -> None:
    images = (desired("a"), desired("b", min_ram=1))
    observed = snapshot(observed_like(desired("b"), "b-id"))
    assert (
        make_plan(catalog(*images), observed).to_json()
        == make_plan(catalog(*images), observed).to_json()
    )


def fingerprint(*images: ObservedImage) -> str:
    return make_plan(catalog(desired()), snapshot(*images)).observed_fingerprint


def test_the_fingerprint_changes_with_any_field_of_a_relevant_image() -> None:
    observed = observed_like(desired())
    assert fingerprint(observed) != fingerprint(
        replace(observed, fields={**observed.fields, "min_ram": 1})
    )
    assert fingerprint(observed) != fingerprint(replace(observed, members={"p": "pending"}))
    assert fingerprint(observed) == fingerprint(replace(observed, size=3))
    assert ActionKind.RESERVE.phase < ActionKind.DELETE.phase


def test_the_fingerprint_ignores_images_the_plan_does_not_depend_on() -> None:
    observed = observed_like(desired())
    unrelated = replace(observed_like(desired("someone-else")), id="x", tags=frozenset())
    assert fingerprint(observed) == fingerprint(observed, unrelated)
    namesake = replace(unrelated, name="ubuntu")
    orphan = replace(unrelated, tags=frozenset({MARKER}))
    assert fingerprint(observed) != fingerprint(observed, namesake)
    assert fingerprint(observed) != fingerprint(observed, orphan)
