"""reconciler.plan: the JSON form round-trips and refuses what it cannot read."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from catalog.errors import GlanceCatalogError
from catalog.model import MemberSpec, Visibility
from reconciler.plan import FORMAT_VERSION, Plan
from reconciler.planner import make_plan
from tests.unit.builders import catalog, desired, observed_like, snapshot


def test_a_plan_round_trips_through_json() -> None:
    plan = make_plan(
        catalog(desired("a"), desired("b", min_ram=9)),
        snapshot(observed_like(desired("b"), "b-id")),
    )
    text = plan.to_json()
    assert Plan.from_json(text) == plan
    assert Plan.from_json(text).to_json() == text
    document = json.loads(text)
    assert document["format_version"] == FORMAT_VERSION
    assert [a["action"] for a in document["actions"]] == ["reserve", "upload", "update"]
    assert document["actions"][2]["changes"] == [{"path": "min_ram", "before": 0, "after": 9}]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"format_version": 99}', "plan format version 99 is not supported"),
        ("not json", "not a glance-catalog plan file"),
        ('{"format_version": 2}', "not a glance-catalog plan file"),
    ],
)
def test_unreadable_plans_are_refused_clearly(text: str, fragment: str) -> None:
    with pytest.raises(GlanceCatalogError, match=fragment):
        Plan.from_json(text)


def test_members_notes_and_manifests_round_trip_too() -> None:
    image = desired(
        "s",
        visibility=Visibility.SHARED,
        members=(MemberSpec("project-a"), MemberSpec("project-b", "local-b")),
    )
    observed = observed_like(image, "s-id", members={"pa": "pending"})
    observed_by_hand = replace(observed, properties={**observed.properties, "by_hand": "x"})
    plan = make_plan(
        catalog(image),
        replace(snapshot(observed_by_hand), projects={"project-a": "pa", "project-b": "pb"}),
    )
    assert {a.kind.value for a in plan.actions} == {"add_member", "accept_member"}
    assert plan.notes and plan.manifests == ("m.yaml",)
    text = plan.to_json()
    assert Plan.from_json(text) == plan
    document = json.loads(text)
    accept = document["actions"][-1]
    assert (accept["member"], accept["accept_with"]) == ("pb", "local-b")
    assert document["notes"][0]["image"] == "s"
