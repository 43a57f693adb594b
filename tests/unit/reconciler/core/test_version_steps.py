"""reconciler.core.version_steps: the Glance image each version of a versioned image should be.
(test_versions.py: the versions' steps through the planner.)"""

from __future__ import annotations

from catalog.model import ImageState, RetirePolicy, SupersededAction
from reconciler.core.observed import VERSION_OF_PROPERTY, VERSION_PROPERTY
from reconciler.core.steps import ImageSteps
from reconciler.core.version_steps import FamilyPlan, Role
from tests.unit.builders import MARKER, snapshot
from tests.unit.reconciler.core.test_versions import NOW, versioned


def family(**fields: object) -> FamilyPlan:
    return FamilyPlan(versioned("1", "2", **fields), snapshot(), MARKER, 3600.0, NOW, ImageSteps())


def test_the_current_version_takes_the_images_name_and_a_superseded_one_its_versioned_name() -> (
    None
):
    plan = family()
    one, two = plan.desired.versions
    current = plan.instance(two, Role.CURRENT)
    superseded = plan.instance(one, Role.SUPERSEDED)
    assert current.name == "ubuntu"
    assert superseded.name == plan.desired.versioned_name("1")
    assert current.source == two.source and superseded.source == one.source
    assert current.bookkeeping == {VERSION_PROPERTY: "2", VERSION_OF_PROPERTY: "ubuntu"}
    assert current.versions == () and current.current is None


def test_a_superseded_version_is_deactivated_or_hidden_as_the_policy_says() -> None:
    deactivating = family(retire=RetirePolicy(superseded=SupersededAction.DEACTIVATE))
    hiding = family(retire=RetirePolicy(superseded=SupersededAction.HIDE))
    old = deactivating.desired.versions[0]
    assert deactivating.instance(old, Role.SUPERSEDED).state is ImageState.DEACTIVATED
    assert deactivating.instance(old, Role.CURRENT).state is ImageState.ACTIVE
    assert hiding.instance(old, Role.SUPERSEDED).hidden is True
    assert hiding.instance(old, Role.CURRENT).hidden is False
