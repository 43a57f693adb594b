"""One retry budget per run: reconciler.planning.run_retrier makes it from the run's settings,
reconciler.fleet hands the same one to every target, and the CLI reads a lower budget from
GLANCE_CATALOG_RETRY_BUDGET (reconciler.cli.options.retry_budget)."""

from __future__ import annotations

import pytest

from catalog.errors import GlanceCatalogError
from catalog.model import Catalog
from reconciler import fleet
from reconciler.cli.options import RETRY_BUDGET_VARIABLE, retry_budget
from reconciler.core.targets import Target
from reconciler.planning import run_retrier
from reconciler.retry import Retrier
from reconciler.settings import RunSettings


def test_the_budget_is_the_readmes_200_unless_the_runner_lowers_it() -> None:
    assert RunSettings().retry_budget == 200
    assert retry_budget({}) == 200
    assert retry_budget({RETRY_BUDGET_VARIABLE: ""}) == 200
    assert retry_budget({RETRY_BUDGET_VARIABLE: "3"}) == 3
    assert retry_budget({RETRY_BUDGET_VARIABLE: "0"}) == 0


@pytest.mark.parametrize("value", ["-1", "x", "2.5"])
def test_a_budget_that_is_not_a_whole_number_is_one_clear_line(value: str) -> None:
    with pytest.raises(GlanceCatalogError) as raised:
        retry_budget({RETRY_BUDGET_VARIABLE: value})
    assert raised.value.lines == (
        f"GLANCE_CATALOG_RETRY_BUDGET must be a whole number of retries (0 or more), not {value!r}",
    )


def test_a_run_retrier_spends_the_settings_budget_and_no_more() -> None:
    retrier = run_retrier(RunSettings(retry_budget=2))
    assert [retrier.budget.take() for _ in range(3)] == [True, True, False]
    assert retrier.budget.spent == 2


def test_every_target_of_a_run_gets_the_same_retrier(monkeypatch: pytest.MonkeyPatch) -> None:
    given: list[Retrier] = []

    def plan_target(*_: object, retrier: Retrier) -> object:
        given.append(retrier)
        raise GlanceCatalogError("not planned in this test")

    monkeypatch.setattr(fleet, "plan_target", plan_target)
    catalog = Catalog("c", (), (), "digest")
    targets = [(Target("a", "cloud-a"), catalog), (Target("b", "cloud-b"), catalog)]
    planned = fleet.plan_fleet(targets, False, RunSettings(retry_budget=7), bound=2)
    assert [entry.error for entry in planned.plans] == [("not planned in this test",)] * 2
    assert len(given) == 2 and given[0] is given[1]
    assert given[0].policy.budget == 7
