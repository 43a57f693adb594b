"""reconciler.core.plan: plans saved in format 3 (by the release before changes were recorded)
read as the changes the planner makes, run in the order they were saved in, and apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.errors import GlanceCatalogError
from reconciler.core.changes import ChangeKind
from reconciler.core.plan import FORMAT_VERSION, Plan
from reconciler.core.plan_set import PLAN_SET_FORMAT, PlanSet, read_saved
from reconciler.executor import apply_plan
from reconciler.report.text import render_plan
from tests.unit.reconciler.test_executor import RecordingWriter
from tests.unit.report_plans import mixed_plan

SAVED = Path(__file__).parent / "saved_plans"


def saved(name: str) -> tuple[dict[str, object], Plan]:
    text = (SAVED / name).read_text()
    return json.loads(text), Plan.from_json(text)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "v3-mixed.json",
            [
                ("r", ChangeKind.REPLACE),
                ("s", ChangeKind.CREATE),
                ("c", ChangeKind.UPDATE),
                ("g", ChangeKind.DELETE),
            ],
        ),
        ("v3-remake.json", [("u", ChangeKind.REMAKE)]),
        (
            "v3-versions-rollback.json",
            [("ubuntu [b]", ChangeKind.UPDATE), ("ubuntu [c]", ChangeKind.UPDATE)],
        ),
        (
            "v3-versions-rotate.json",
            [
                ("ubuntu [c]", ChangeKind.CREATE),
                ("ubuntu [b]", ChangeKind.UPDATE),
                ("ubuntu [a]", ChangeKind.RETIRE),
            ],
        ),
    ],
)
def test_a_format_3_plan_reads_as_changes_and_keeps_its_order(
    name: str, expected: list[tuple[str, ChangeKind]]
) -> None:
    document, plan = saved(name)
    assert document["format_version"] == 3
    assert [(change.label, change.kind) for change in plan.changes] == expected
    # The steps run in the order the file lists them; only the replacement moved to the change.
    steps = json.loads(plan.to_json())["actions"]
    listed = document["actions"]
    assert isinstance(listed, list)
    assert steps == [{k: v for k, v in step.items() if k != "replacement"} for step in listed]
    marks = {json.dumps(step.get("replacement")) for step in listed}
    assert marks == {
        json.dumps(change.replacement.to_json() if change.replacement else None)
        for change, _ in plan.steps
    }
    # Saved again, it is format 5 and reads back the same.
    again = plan.to_json()
    assert json.loads(again)["format_version"] == FORMAT_VERSION == 5
    assert Plan.from_json(again) == plan and Plan.from_json(again).to_json() == again


def test_a_format_3_plan_reads_and_renders_as_the_plan_made_today() -> None:
    _, plan = saved("v3-mixed.json")
    today = mixed_plan()
    assert render_plan(plan) == render_plan(today)
    assert plan.actions == today.actions
    assert sorted((c.label, c.kind) for c in plan.changes) == sorted(
        (c.label, c.kind) for c in today.changes
    )


class RetiringWriter(RecordingWriter):
    def retire(self, image_id: str) -> str | None:
        self.calls.append(("retire", image_id))
        return None


def test_a_format_3_plan_applies() -> None:
    _, plan = saved("v3-versions-rotate.json")
    writer = RetiringWriter()
    report = apply_plan(plan, writer)
    assert report.ok and report.changes == plan.changes
    assert writer.calls == [
        ("reserve", "ubuntu c"),
        ("upload", "id-ubuntu c"),
        ("update", "id-ubuntu c"),  # version c takes the name ...
        ("update", "id-b"),  # ... before version b gives it up
        ("retire", "id-a"),
    ]


def test_the_changes_of_a_format_5_plan_are_checked_and_a_plan_set_is_told_apart() -> None:
    text = mixed_plan().to_json()
    document = json.loads(text)
    assert [change["change"] for change in document["changes"]] == [
        "create",
        "update",
        "delete",
        "replace",
    ]
    assert "replacement" in document["changes"][3]
    assert all("replacement" not in step for step in document["actions"])
    document["changes"][0]["steps"].pop()
    with pytest.raises(GlanceCatalogError, match="each action must belong to exactly one change"):
        Plan.from_json(json.dumps(document))
    assert isinstance(read_saved(text), Plan)
    wrapped = {"format_version": PLAN_SET_FORMAT, "catalog": "c", "targets": []}
    assert PLAN_SET_FORMAT == 4 and isinstance(read_saved(json.dumps(wrapped)), PlanSet)
