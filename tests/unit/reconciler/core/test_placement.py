"""reconciler.core.placement through the planner: copies, removals, never the last copy, the first
store for new data, unknown stores, and the new actions in plan JSON, text and preflight."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from catalog.model import Checksum, ImageState, TransferMethod
from reconciler.core.actions import ActionKind, FieldChange
from reconciler.core.observed import ObservedImage
from reconciler.core.plan import Plan
from reconciler.core.planner import make_plan, observed_fingerprint
from reconciler.executor import check_applicable
from reconciler.preflight import preflight
from reconciler.report.text import render_plan, summary
from tests.unit.builders import catalog, desired, observed_like, snapshot

# The stores Glance offers.
GLANCE = ("archive", "fast", "slow")


def moves(plan: Plan) -> list[tuple[str, tuple[str, ...]]]:
    return [(action.kind.value, action.stores) for action in plan.actions]


def in_stores(*stores: str, status: str = "active", **fields: object) -> ObservedImage:
    image = desired(stores=("fast",))
    return observed_like(image, "id-1", stores=tuple(sorted(stores)), status=status, **fields)


def plan_for(*stores: str, observed: ObservedImage | None = None, **fields: object) -> Plan:
    image = desired(stores=stores, **fields)
    images = (observed,) if observed is not None else ()
    return make_plan(catalog(image), snapshot(*images, stores=GLANCE))


def test_a_new_image_is_uploaded_to_the_first_store_then_copied_to_the_others() -> None:
    plan = plan_for("fast", "archive", "slow", state=ImageState.DEACTIVATED)
    assert moves(plan) == [
        ("reserve", ()),
        ("upload", ("fast",)),
        ("copy_to_store", ("archive", "slow")),
        ("deactivate", ()),
    ]
    copy = plan.actions[2]
    assert copy.image_id is None
    assert copy.changes == (FieldChange("stores", ["fast"], ["archive", "fast", "slow"]),)


def test_web_download_imports_into_the_first_store_and_one_store_needs_no_copy() -> None:
    image = desired(stores=("archive",))
    assert image.source is not None
    image = replace(image, source=replace(image.source, method=TransferMethod.WEB_DOWNLOAD))
    plan = make_plan(catalog(image), snapshot(stores=GLANCE))
    assert moves(plan) == [("reserve", ()), ("import", ("archive",))]


def test_an_image_in_its_stores_has_nothing_to_do_whatever_the_order() -> None:
    assert moves(plan_for("fast", "archive", observed=in_stores("archive", "fast"))) == []


def test_missing_stores_are_copied_in_one_import() -> None:
    plan = plan_for("fast", "archive", "slow", observed=in_stores("fast"))
    assert moves(plan) == [("copy_to_store", ("archive", "slow"))]
    assert plan.actions[0].image_id == "id-1"


def test_a_store_no_longer_named_is_removed_from_once_another_keeps_the_data() -> None:
    plan = plan_for("archive", observed=in_stores("archive", "fast", "slow"))
    assert moves(plan) == [
        ("remove_from_store", ("fast",)),
        ("remove_from_store", ("slow",)),
    ]
    assert [action.changes for action in plan.actions] == [
        (FieldChange("stores", ["archive", "fast", "slow"], ["archive", "slow"]),),
        (FieldChange("stores", ["archive", "slow"], ["archive"]),),
    ]


def test_moving_to_another_store_copies_before_it_removes() -> None:
    plan = plan_for("archive", observed=in_stores("fast"))
    assert moves(plan) == [("copy_to_store", ("archive",)), ("remove_from_store", ("fast",))]


@given(
    holding=st.sets(st.sampled_from(GLANCE), min_size=1),
    wanted=st.lists(st.sampled_from(GLANCE), min_size=1, unique=True),
    copy_fails=st.booleans(),
)
def test_the_last_copy_is_never_removed_and_the_stores_end_as_named(
    holding: set[str], wanted: list[str], copy_fails: bool
) -> None:
    """Apply the plan's store steps in order, as apply would: a failed copy skips the rest of
    the image's steps. The data is in at least one store at every step."""
    plan = plan_for(*wanted, observed=in_stores(*holding))
    stores = set(holding)
    for action in plan.actions:
        if action.kind is ActionKind.COPY_TO_STORE:
            assert not stores & set(action.stores)
            if copy_fails:
                break
            stores |= set(action.stores)
        else:
            assert action.kind is ActionKind.REMOVE_FROM_STORE
            (store,) = action.stores
            assert store in stores and stores - {store}
            stores -= {store}
        assert stores
    if not copy_fails or not set(wanted) - holding:
        assert stores == set(wanted)
    else:
        assert stores == holding


def test_an_image_without_stores_is_left_where_glance_put_it() -> None:
    plan = make_plan(catalog(desired()), snapshot(in_stores("fast", "slow"), stores=GLANCE))
    assert moves(plan) == []
    plan = make_plan(catalog(desired()), snapshot())
    assert moves(plan) == [("reserve", ()), ("upload", ())]


def test_an_unknown_store_is_a_conflict_at_the_image_that_names_glances_stores() -> None:
    plan = plan_for("fast", "fastt", "archiv", observed=in_stores("fast"))
    (conflict,) = plan.conflicts
    assert conflict.as_text() == (
        "m.yaml:1:1: image 'ubuntu': stores: stores 'fastt', 'archiv' unknown to this Glance, "
        "which offers archive, fast, slow (hint: name only stores that GET /v2/info/stores "
        "lists; nothing was changed)"
    )
    assert moves(plan) == []
    # The conflict is repeated last, under the line that says what it means.
    assert render_plan(plan).endswith(
        "1 conflict (marked !): the plan cannot be applied until they are resolved:\n"
        f"  ! {conflict.as_text()}\n"
    )


def test_stores_on_a_glance_without_multi_store_is_a_conflict() -> None:
    plan = make_plan(catalog(desired(stores=("fast",))), snapshot())
    (conflict,) = plan.conflicts
    assert "this Glance has no multi-store backends" in conflict.message
    assert conflict.position == "m.yaml:1:1"
    assert moves(plan) == [("reserve", ()), ("upload", ())]
    absent = make_plan(catalog(desired(stores=("fast",), state=ImageState.ABSENT)), snapshot())
    assert absent.conflicts == ()


def test_a_deactivated_image_is_reactivated_before_its_copy_or_else_it_is_a_conflict() -> None:
    deactivated = in_stores("fast", status="deactivated")
    plan = plan_for("archive", observed=deactivated)
    assert moves(plan) == [
        ("reactivate", ()),
        ("copy_to_store", ("archive",)),
        ("remove_from_store", ("fast",)),
    ]
    staying = plan_for("archive", observed=deactivated, state=ImageState.DEACTIVATED)
    assert moves(staying) == []
    assert "Glance copies and removes the data of active images only" in (
        staying.conflicts[0].message
    )
    going = plan_for("fast", "archive", observed=in_stores("fast"), state=ImageState.DEACTIVATED)
    assert moves(going) == [("copy_to_store", ("archive",)), ("deactivate", ())]


def test_a_replacement_is_in_all_its_stores_before_it_takes_over_the_name() -> None:
    new = Checksum.parse("sha256:" + "ab" * 32)
    image = desired(stores=("fast", "archive"))
    assert image.source is not None
    image = replace(image, source=replace(image.source, checksum=new))
    plan = make_plan(catalog(image), snapshot(in_stores("archive", "fast"), stores=GLANCE))
    assert [(kind, stores) for kind, stores in moves(plan)] == [
        ("reserve", ()),
        ("upload", ("fast",)),
        ("copy_to_store", ("archive",)),
        ("rename", ()),
        ("rename", ()),
        ("delete", ()),
    ]


def test_removals_are_not_deletes_and_do_not_count_toward_max_delete() -> None:
    images = [desired(f"i{n}", stores=("archive",)) for n in range(7)]
    observed = [
        observed_like(image, f"id-{n}", stores=("archive", "fast"))
        for n, image in enumerate(images)
    ]
    plan = make_plan(catalog(*images), snapshot(*observed, stores=GLANCE))
    assert {action.kind for action in plan.actions} == {ActionKind.REMOVE_FROM_STORE}
    assert plan.deletions == ()
    check_applicable(plan, max_delete=0)
    assert summary(plan) == (
        "Plan: 0 to create, 7 to update, 0 to replace, 0 to delete, 0 member changes."
    )


def test_the_store_actions_round_trip_through_json_and_older_plans_still_read() -> None:
    plan = plan_for("fast", "archive", observed=in_stores("fast", "slow")).to_json()
    document = json.loads(plan)
    assert [(a["action"], a["stores"]) for a in document["actions"]] == [
        ("copy_to_store", ["archive"]),
        ("remove_from_store", ["slow"]),
    ]
    assert Plan.from_json(plan).to_json() == plan
    for action in document["actions"]:
        del action["stores"]
    older = Plan.from_json(json.dumps(document))
    assert [action.stores for action in older.actions] == [(), ()]


def test_the_plan_text_says_where_the_data_goes() -> None:
    text = render_plan(plan_for("fast", "archive"))
    assert "  ^ ubuntu: data will be uploaded from http://127.0.0.1:1/u.img (sha256:" in text
    assert ") into store fast\n" in text
    assert '  + ubuntu: data will be copied to store archive\n      ~ stores: ["fast"] -> ' in text
    text = render_plan(plan_for("archive", observed=in_stores("fast", "slow")))
    assert "  + ubuntu: data will be copied to store archive (id-1)\n" in text
    assert "  - ubuntu: data will be removed from store fast (id-1)\n" in text
    assert (
        '      ~ stores: ["archive", "fast", "slow"] -> ["archive", "slow"]\n'
        "  - ubuntu: data will be removed from store slow (id-1)\n"
    ) in text


def test_the_observed_stores_are_read_sorted_and_make_a_saved_plan_stale() -> None:
    body = {"id": "i", "name": "n", "status": "active", "stores": "fast,archive"}
    assert ObservedImage.from_glance(body).stores == ("archive", "fast")
    assert ObservedImage.from_glance({**body, "stores": None}).stores == ()
    image = desired(stores=("fast",))
    before = snapshot(in_stores("fast"), stores=GLANCE)
    after = snapshot(in_stores("archive", "fast"), stores=GLANCE)
    assert observed_fingerprint(catalog(image), before) != observed_fingerprint(
        catalog(image), after
    )


class CopyChecks:
    """Preflight's questions: every source answers, Glance copies only if ``copy`` is None."""

    def __init__(self, copy: str | None) -> None:
        self.copy = copy
        self.asked = 0

    def source_problem(self, source: object, image: str) -> str | None:
        return None

    def accept_cloud_problem(self, cloud: str, member: str) -> str | None:
        return None

    def copy_problem(self) -> str | None:
        self.asked += 1
        return self.copy


def test_preflight_makes_a_copy_on_a_glance_without_copy_image_a_conflict() -> None:
    image = desired(stores=("fast", "archive"))
    plan = make_plan(catalog(image), snapshot(in_stores("fast"), stores=GLANCE))
    refusing = CopyChecks("stores: this Glance does not enable the copy-image import method")
    (conflict,) = preflight(plan, catalog(image), refusing).conflicts
    assert conflict.as_text().startswith(
        "m.yaml:1:1: image 'ubuntu': stores: this Glance does not enable the copy-image"
    )
    willing = CopyChecks(None)
    assert preflight(plan, catalog(image), willing) == plan and willing.asked == 1
    nothing_to_copy = make_plan(
        catalog(image), snapshot(in_stores("fast", "archive"), stores=GLANCE)
    )
    assert preflight(nothing_to_copy, catalog(image), refusing).conflicts == ()
    assert refusing.asked == 1
