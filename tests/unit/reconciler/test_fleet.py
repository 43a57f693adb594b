"""The order targets are applied in: those a target takes data from first, never a cycle; and
which plans refuse a run before anything is asked."""

from __future__ import annotations

import pytest

from catalog.errors import GlanceCatalogError
from reconciler.core.targets import Target, TargetPlan
from reconciler.fleet import Fleet, _acyclic, _ordered, refuse_one_cloud
from tests.unit.report_plans import conflicted, mixed_plan


def entries(*names: str) -> list[TargetPlan]:
    return [TargetPlan(Target(name, "cloud", name)) for name in names]


def test_a_target_comes_after_those_it_takes_data_from() -> None:
    waits = _acyclic({"west": {"east"}, "north": {"west"}}, ["north", "west", "east", "lab"])
    assert waits == {"west": {"east"}, "north": {"west"}}
    order = [e.target.name for e in _ordered(entries("north", "west", "east", "lab"), waits)]
    assert order == ["east", "lab", "west", "north"]


def test_a_wait_that_would_close_a_cycle_is_dropped_and_others_are_outside_the_run() -> None:
    waits = _acyclic({"a": {"b"}, "b": {"a"}, "c": {"c", "gone"}}, ["a", "b", "c"])
    assert waits == {"a": {"b"}}
    assert [e.target.name for e in _ordered(entries("a", "b", "c"), waits)] == ["b", "c", "a"]


def test_a_run_over_one_cloud_with_conflicts_is_refused_and_one_over_no_target_is_not() -> None:
    with pytest.raises(GlanceCatalogError):
        refuse_one_cloud(Fleet([TargetPlan(Target("local", "local"), conflicted(mixed_plan()))]), 5)
    # --target and --cloud that select nothing: no plan to refuse (it raised IndexError once).
    empty = Fleet([])
    refuse_one_cloud(empty, 5)
    assert empty.plans == []
    # Over declared targets a refused plan is that target's outcome, not the run's.
    declared = Target("east", "local", declared=True)
    refuse_one_cloud(Fleet([TargetPlan(declared, conflicted(mixed_plan()))]), 5)
