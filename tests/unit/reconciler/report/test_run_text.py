"""reconciler.report.run_text: plans, drift and apply outcomes of a run over one or more targets."""

from __future__ import annotations

from dataclasses import replace

from reconciler.core.targets import Target, TargetApply, TargetPlan
from reconciler.report.apply_text import render_report
from reconciler.report.run_text import (
    conflict_lines,
    render_target_applies,
    render_target_drifts,
    render_target_plans,
)
from reconciler.report.text import render_drift, render_plan
from tests.unit.report_plans import conflicted, mixed_plan, replaced_plan, results

A = Target("prod-a", "cloud-a", "RegionOne")
B = Target("prod-b", "cloud-b")


def test_one_target_reads_exactly_as_one_cloud() -> None:
    plan = mixed_plan()
    only = [TargetPlan(Target("local", "local"), plan)]
    assert render_target_plans(only) == render_plan(plan)
    assert render_target_plans(only, verbose=True) == render_plan(plan, verbose=True)
    assert render_target_drifts(only) == render_drift(plan)
    report = results(plan)
    assert render_target_applies([TargetApply(only[0].target, plan, report)]) == (
        render_report(report) + "\n"
    )


def test_several_targets_get_a_header_each_one_legend_and_a_total() -> None:
    down = TargetPlan(B, error=("cloud-b: Keystone refused the credentials",))
    text = render_target_plans([TargetPlan(A, mixed_plan()), down])
    lines = text.splitlines()
    assert lines[0].startswith("Legend: + create/add  ~ update  - delete/remove  -/+ replace")
    assert text.count("Legend:") == 1
    a, b = (
        lines.index("=== prod-a (cloud-a, region RegionOne) ==="),
        lines.index("=== prod-b (cloud-b) ==="),
    )
    assert lines[a + 1] == "Cloud 'local', project project-1, catalog 'prod'."
    assert (
        a
        < lines.index(
            "Plan: 1 to create, 1 to update, 1 to replace, 1 to delete, 2 member changes."
        )
        < b
    )
    assert lines[b + 1] == "  error: cloud-b: Keystone refused the credentials"
    assert lines[-1] == (
        "2 targets: 1 to create, 1 to update, 1 to replace, 1 to delete, 2 member changes; "
        "1 target failed (prod-b)."
    )
    assert text.count("Hidden: glance-catalog's own bookkeeping") == 1


def test_the_total_adds_every_targets_plan() -> None:
    text = render_target_plans([TargetPlan(A, mixed_plan()), TargetPlan(B, replaced_plan())])
    assert text.splitlines()[-1] == (
        "2 targets: 1 to create, 1 to update, 2 to replace, 1 to delete, 2 member changes."
    )


def test_drift_over_targets_ends_with_how_many_are_in_sync() -> None:
    in_sync = replace(mixed_plan(), changes=())
    text = render_target_drifts(
        [
            TargetPlan(A, mixed_plan()),
            TargetPlan(B, in_sync),
            TargetPlan(Target("c", "c"), conflicted(in_sync)),
        ]
    )
    assert "Drift: 4 image(s) differ from the manifest." in text and "In sync." in text
    assert text.splitlines()[-1] == "3 targets: 1 in sync, 1 drifted, 1 failed."


def test_apply_outcomes_per_target_and_in_total() -> None:
    plan = mixed_plan()
    text = render_target_applies(
        [
            TargetApply(A, plan, results(plan, failing="c")),
            TargetApply(B, error=("cloud-b: the plan is stale; nothing was changed",)),
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "=== prod-a (cloud-a, region RegionOne) ==="
    assert lines[1].startswith("Apply incomplete: 1 created, 0 updated, 1 replaced, 1 deleted")
    assert lines[3:5] == [
        "=== prod-b (cloud-b) ===",
        "  error: cloud-b: the plan is stale; nothing was changed",
    ]
    assert lines[-1] == (
        "2 targets: 1 created, 0 updated, 1 replaced, 1 deleted, 2 member changes; "
        "2 targets failed (prod-a, prod-b)."
    )


def test_the_lines_for_stderr_say_why_the_run_exits_1() -> None:
    one = [TargetPlan(Target("local", "local"), conflicted(mixed_plan()))]
    assert conflict_lines(one) == [
        "m.yaml:3:5: image 'x': boom (hint: fix it)",
        "the plan has 1 conflict: it cannot be applied until they are resolved",
    ]
    two = [one[0], TargetPlan(B, error=("cloud-b: unreachable",))]
    assert conflict_lines(two)[:2] == [
        "[local] m.yaml:3:5: image 'x': boom (hint: fix it)",
        "[prod-b (cloud-b)] cloud-b: unreachable",
    ]
    assert conflict_lines([TargetPlan(A, mixed_plan())]) == []
