"""Which targets a run goes to, how exit codes combine, and the plan set's JSON round trip."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from catalog.errors import GlanceCatalogError
from catalog.model import CatalogTarget
from reconciler.core.plan import Plan
from reconciler.core.plan_set import PLAN_SET_FORMAT, PlanSet, read_saved
from reconciler.core.targets import Target, TargetPlan, combined_exit, select_targets
from tests.unit.builders import catalog, desired

EAST = CatalogTarget("east", "prod", "RegionOne", (desired("a"),))
WEST = CatalogTarget("west", "prod", "RegionTwo", (desired("a", min_ram=512),))
LAB = CatalogTarget("lab", "lab", None, (desired("a"),))
FLEET = replace(catalog(desired("a")), targets=(EAST, WEST, LAB))


def names(selected: tuple[tuple[Target, object], ...]) -> list[str]:
    return [target.name for target, _ in selected]


def test_a_catalog_with_targets_goes_to_all_of_them_whatever_os_cloud_says() -> None:
    selected = select_targets(FLEET, (), (), "elsewhere")
    assert names(selected) == ["east", "west", "lab"]
    (_, west_catalog) = selected[1]
    assert west_catalog.images == WEST.images and west_catalog.targets == ()
    assert selected[1][0] == Target("west", "prod", "RegionTwo")


def test_target_and_cloud_narrow_the_targets() -> None:
    assert names(select_targets(FLEET, (), ("lab", "east"), None)) == ["east", "lab"]
    assert names(select_targets(FLEET, ("prod",), (), None)) == ["east", "west"]
    assert names(select_targets(FLEET, ("prod",), ("lab", "west"), None)) == ["west"]


def test_unknown_targets_and_clouds_name_what_there_is() -> None:
    with pytest.raises(GlanceCatalogError, match=r"has no such target \(it has east, west, lab\)"):
        select_targets(FLEET, (), ("north",), None)
    with pytest.raises(GlanceCatalogError, match=r"\(they go to lab, prod\)"):
        select_targets(FLEET, ("other",), (), None)


def test_a_catalog_without_targets_goes_to_each_cloud_or_os_cloud() -> None:
    plain = catalog(desired("a"))
    assert names(select_targets(plain, ("a", "b", "a"), (), "x")) == ["a", "b"]
    assert select_targets(plain, (), (), "x") == ((Target("x", "x"), plain),)
    with pytest.raises(GlanceCatalogError, match="no cloud selected"):
        select_targets(plain, (), (), None)
    with pytest.raises(GlanceCatalogError, match="declares no targets"):
        select_targets(plain, (), ("east",), None)


def test_exit_codes_combine_failure_over_change_over_nothing() -> None:
    assert combined_exit([False, False], [False, False]) == 0
    assert combined_exit([False, False], [False, True]) == 2
    assert combined_exit([True, False], [False, True]) == 1


def test_labels_name_cloud_and_region_only_when_they_add_something() -> None:
    assert Target("local", "local").label == "local"
    assert Target("a", "local").label == "a (local)"
    assert Target("east", "prod", "R1").label == "east (prod, region R1)"
    assert Target("local", "local").described == "cloud 'local'"
    assert Target("east", "prod", "R1").described == "target 'east' (cloud 'prod', region R1)"


def plan(cloud: str) -> Plan:
    return Plan(cloud, "p-" + cloud, "prod", "digest", "fingerprint-" + cloud, ())


def test_a_plan_set_round_trips_and_is_stable() -> None:
    entries = (
        TargetPlan(Target("east", "prod", "RegionOne"), plan("prod")),
        TargetPlan(Target("lab", "lab"), plan("lab")),
    )
    plan_set = PlanSet("prod", entries)
    text = plan_set.to_json()
    assert text == PlanSet("prod", entries).to_json()
    document = json.loads(text)
    assert document["format_version"] == PLAN_SET_FORMAT
    assert document["summary"] == {"targets": 2, "failed": 0, "changed": 0}
    again = read_saved(text)
    assert isinstance(again, PlanSet) and again == plan_set
    assert isinstance(read_saved(plan("lab").to_json()), Plan)


def test_a_plan_set_with_a_failed_target_is_incomplete_and_cannot_be_read_back() -> None:
    failed = TargetPlan(Target("lab", "lab"), error=("cloud 'lab': no such entry",))
    plan_set = PlanSet("prod", (TargetPlan(Target("east", "prod"), plan("prod")), failed))
    assert not plan_set.complete
    assert json.loads(plan_set.to_json())["targets"][1]["error"] == ["cloud 'lab': no such entry"]
    with pytest.raises(GlanceCatalogError, match="target 'lab' has no plan"):
        read_saved(plan_set.to_json())
