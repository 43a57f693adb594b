"""Images that heal: the planner discards and remakes an image Glance killed or that is stuck,
and the executor remakes an image Glance refuses data into, once, when the plan allows it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from reconciler.core.actions import ActionKind, FieldChange, Replacement
from reconciler.core.planner import make_plan
from reconciler.core.results import Outcome
from reconciler.errors import DataRefused, ImportTimedOut
from reconciler.executor import apply_plan
from tests.unit.builders import catalog, desired, observed_like, snapshot
from tests.unit.reconciler.test_executor import RecordingWriter

NOW = 1_800_000_000.0


def kinds(plan: object) -> list[str]:
    return [action.kind.value for action in plan.actions]  # type: ignore[attr-defined]


def test_a_killed_image_is_discarded_and_made_again_in_the_same_plan() -> None:
    image = desired("u")
    broken = observed_like(image, "old", status="killed", protected=True)
    plan = make_plan(catalog(image), replace(snapshot(broken), taken_at=NOW))
    assert kinds(plan) == ["discard", "reserve", "upload"]
    discard = plan.actions[0]
    assert discard.image_id == "old"
    assert discard.changes == (FieldChange("protected", True, False),)
    assert "Glance killed it" in discard.reason
    assert plan.actions[1].reason.startswith("recreated: ")
    assert plan.actions[2].recreatable
    assert len(plan.deletions) == 1  # counts toward --max-delete
    # One replacement for reports: the discard and the remake share its mark.
    assert {change.replacement for change, _ in plan.steps} == {
        Replacement("old", "Glance killed it (status killed)")
    }


def test_an_image_busy_for_longer_than_the_bound_is_stuck_and_remade() -> None:
    image = desired("u")
    busy = observed_like(image, "old", status="importing", updated_at=NOW - 7200)
    stuck = make_plan(catalog(image), replace(snapshot(busy), taken_at=NOW))
    assert kinds(stuck) == ["discard", "reserve", "upload"]
    assert "stuck importing for 120 minutes" in stuck.actions[0].reason
    recent = make_plan(catalog(image), replace(snapshot(busy), taken_at=NOW), stuck_after=3 * 3600)
    assert kinds(recent) == []
    assert "busy (status importing)" in recent.conflicts[0].message


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"image_id": "6f1c2b1e-0d7a-4c57-9a55-3f0e6b1d2c3a"}, "its id is fixed"),
        ({"adopt": True}, "it was adopted"),
    ],
)
def test_a_fixed_id_or_adopted_image_is_never_remade(
    fields: dict[str, object], expected: str
) -> None:
    image = desired("u", **fields)
    image_id = image.image_id or "old"
    broken = observed_like(image, image_id, status="killed")
    plan = make_plan(catalog(image), replace(snapshot(broken), taken_at=NOW))
    assert plan.actions == ()
    (conflict,) = plan.conflicts
    assert expected in conflict.message and conflict.hint


def test_data_steps_are_recreatable_only_without_fixed_id_or_adopt() -> None:
    free = make_plan(catalog(desired("a")), snapshot())
    pinned = make_plan(
        catalog(desired("b", image_id="6f1c2b1e-0d7a-4c57-9a55-3f0e6b1d2c3a")), snapshot()
    )
    assert [a.recreatable for a in free.actions if a.kind is ActionKind.UPLOAD] == [True]
    assert [a.recreatable for a in pinned.actions if a.kind is ActionKind.UPLOAD] == [False]


class RefusingWriter(RecordingWriter):
    """Glance refuses data into the first ``refusals`` images it is asked to fill."""

    def __init__(self, refusals: int = 1, error: type[Exception] = DataRefused) -> None:
        super().__init__()
        self.refusals = refusals
        self.error = error

    def upload(  # type: ignore[override]
        self, image_id: str, image: str, data: object, store: object = None
    ) -> int:
        self.calls.append(("upload", image_id))
        if self.refusals > 0:
            self.refusals -= 1
            raise self.error(f"image '{image}': upload answered HTTP 500: Duplicate")
        return 3


def test_an_image_glance_refuses_data_into_is_remade_once_and_later_steps_use_the_new_id() -> None:
    from catalog.model import ImageState

    plan = make_plan(catalog(desired("a", state=ImageState.DEACTIVATED)), snapshot())
    writer = RefusingWriter(refusals=1)
    report = apply_plan(plan, writer)
    assert report.ok
    assert writer.calls == [
        ("reserve", "a"),
        ("upload", "id-a"),
        ("recreate", "id-a"),
        ("upload", "id-a-again"),
        ("deactivate", "id-a-again"),
    ]
    assert "after recreating the image as id-a-again" in report.results[1].detail


def test_a_second_refusal_fails_the_image() -> None:
    plan = make_plan(catalog(desired("a")), snapshot())
    report = apply_plan(plan, RefusingWriter(refusals=2))
    assert [r.outcome for r in report.results] == [Outcome.DONE, Outcome.FAILED]


def test_a_fixed_id_image_is_not_remade_and_the_error_says_what_to_do() -> None:
    plan = make_plan(
        catalog(desired("a", image_id="6f1c2b1e-0d7a-4c57-9a55-3f0e6b1d2c3a")), snapshot()
    )
    writer = RefusingWriter(refusals=1)
    report = apply_plan(plan, writer)
    assert ("recreate", "6f1c2b1e-0d7a-4c57-9a55-3f0e6b1d2c3a") not in writer.calls
    assert "not recreated: it has a fixed id or was adopted" in report.failed[0].detail


def test_an_import_that_timed_out_is_deleted_so_the_next_run_starts_afresh() -> None:
    plan = make_plan(catalog(desired("a")), snapshot())
    writer = RefusingWriter(refusals=1, error=ImportTimedOut)
    report = apply_plan(plan, writer)
    assert ("delete", "id-a") in writer.calls
    assert "deleted, so that the next run starts it afresh" in report.failed[0].detail
