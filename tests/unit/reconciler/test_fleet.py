"""The order targets are applied in: those a target takes data from first, never a cycle."""

from __future__ import annotations

from reconciler.core.targets import Target, TargetPlan
from reconciler.fleet import _acyclic, _ordered


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
