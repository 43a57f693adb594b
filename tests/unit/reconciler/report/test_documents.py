"""reconciler.report.documents: plan JSON is Plan.to_json; runs over targets wrap it."""

from __future__ import annotations

import json

from reconciler.core.targets import Target, TargetPlan
from reconciler.report.documents import drift_report, drifts_json, plans_json
from tests.unit.report_plans import mixed_plan, replaced_plan


def test_one_target_prints_the_saved_plan_format_as_it_is() -> None:
    plan = mixed_plan()
    assert plans_json([TargetPlan(Target("local", "local"), plan)]) == plan.to_json()
    assert drifts_json([TargetPlan(Target("local", "local"), plan)]) == drift_report(plan)


def test_several_targets_are_wrapped_one_document_each() -> None:
    plan = mixed_plan()
    down = TargetPlan(Target("b", "cloud-b", "R2"), error=("unreachable",))
    document = json.loads(plans_json([TargetPlan(Target("a", "cloud-a"), plan), down]))
    assert document["format_version"] == 4
    first, second = document["targets"]
    assert first == {
        "target": {"name": "a", "cloud": "cloud-a", "region": None},
        "plan": json.loads(plan.to_json()),
        "error": [],
    }
    assert second["plan"] is None and second["error"] == ["unreachable"]
    assert second["target"]["region"] == "R2"
    drifts = json.loads(drifts_json([TargetPlan(Target("a", "cloud-a"), plan), down]))
    assert drifts["targets"][0]["drift"]["drifted_images"] == 4
    assert drifts["in_sync"] is False and drifts["targets"][1]["drift"] is None


def test_one_target_of_a_run_over_targets_is_still_a_plan_set() -> None:
    plan = mixed_plan()
    only = [TargetPlan(Target("a", "cloud-a"), plan)]
    declared = [TargetPlan(Target("a", "cloud-a", declared=True), plan)]
    assert plans_json(only) == plan.to_json()
    assert json.loads(plans_json(declared))["targets"][0]["target"]["name"] == "a"
    assert json.loads(drifts_json(declared))["targets"][0]["drift"] is not None


def test_the_drift_report_marks_the_steps_of_a_replacement() -> None:
    plan = replaced_plan()
    (entry,) = json.loads(drift_report(plan))["images"]
    mark = plan.steps[0][0].replacement
    assert mark is not None and mark.why.startswith("source checksum sha256:")
    assert [step["replacement"] for step in entry["drift"]] == [mark.to_json()] * 5
