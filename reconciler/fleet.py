"""A run over targets: each planned (or its saved plan checked) and applied on its own, up to
a bound at a time; one target failing never stops the others. Errors a target meets are its
result, not the run's: the caller reports every target and combines the exit codes.

Every run is one: a run over one cloud is a fleet of one target. Such a run fails as a whole,
as it did before targets existed: its target's error (no plan, or a plan it refuses to apply)
is the command's, raised here (``fail_as_one_cloud``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from catalog.errors import GlanceCatalogError
from catalog.model import Catalog
from reconciler.core.targets import (
    Target,
    TargetApply,
    TargetPlan,
    reads_as_one_cloud,
    select_targets,
)
from reconciler.planning import check_saved_plan, load_saved_catalog, plan_target, run_retrier
from reconciler.settings import RunSettings

if TYPE_CHECKING:
    from reconciler.core.plan import Plan
    from reconciler.core.plan_set import PlanSet
    from reconciler.core.results import ActionResult
    from reconciler.gateway import GlanceGateway
    from reconciler.image_data import ProgressFactory

DEFAULT_PARALLEL_TARGETS = 4
Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class Fleet:
    """The targets of a run with their plans, and the open gateway of each planned one (closed
    by ``close``, or leaving the ``with`` block)."""

    plans: list[TargetPlan]
    gateways: dict[str, GlanceGateway] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def planned(self, target: Target, make: Callable[[], tuple[Plan, GlanceGateway]]) -> TargetPlan:
        """The plan ``make`` gives for ``target``, its gateway kept open (from any thread);
        the error lines instead when it raises an expected error."""
        try:
            plan, gateway = make()
        except GlanceCatalogError as error:
            return TargetPlan(target, error=error.lines)
        with self._lock:
            self.gateways[target.name] = gateway
        return TargetPlan(target, plan)

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for gateway in self.gateways.values():
            gateway.close()
        self.gateways.clear()


def _each(items: Sequence[Item], run: Callable[[Item], Result], bound: int) -> list[Result]:
    """``run`` over ``items``, up to ``bound`` at a time; results in the items' order."""
    if len(items) == 1:
        return [run(items[0])]
    with ThreadPoolExecutor(max_workers=max(1, bound), thread_name_prefix="target") as pool:
        return list(pool.map(run, items))


def plan_fleet(
    selected: Sequence[tuple[Target, Catalog]],
    prune: bool,
    settings: RunSettings,
    bound: int = DEFAULT_PARALLEL_TARGETS,
) -> Fleet:
    """Every target's plan as its cloud is now; a target that cannot be planned carries its
    error lines instead. The targets share one retry budget, that of the run."""
    fleet = Fleet([])
    targets = [target for target, _ in selected]
    retrier = run_retrier(settings)

    def one(item: tuple[Target, Catalog]) -> TargetPlan:
        target, catalog = item
        fed = fed_regions(target, targets)
        return fleet.planned(
            target, lambda: plan_target(catalog, target, prune, settings, fed, retrier=retrier)
        )

    fleet.plans = _each(selected, one, bound)
    if fleet.plans:
        fail_as_one_cloud(fleet, fleet.plans[0].error)
    return fleet


def fail_as_one_cloud(fleet: Fleet, error: tuple[str, ...]) -> None:
    """In a run over one cloud, its target's ``error`` (when there is one) is the command's:
    raised, the fleet closed. A run over targets reports it as that target's and goes on."""
    if error and reads_as_one_cloud([entry.target for entry in fleet.plans]):
        fleet.close()
        raise GlanceCatalogError(*error)


def refuse_one_cloud(fleet: Fleet, max_delete: int) -> None:
    """A run over one cloud whose plan cannot be applied (conflicts, more deletes than
    allowed) is refused before anything is asked; over targets, ``apply_fleet`` reports a
    refused target's plan as its outcome."""
    from reconciler.executor import check_applicable

    # Over targets, or over none (--target and --cloud selecting nothing): nothing to refuse.
    if not reads_as_one_cloud([entry.target for entry in fleet.plans]):
        return
    plan = fleet.plans[0].plan
    if plan is not None:
        try:
            check_applicable(plan, max_delete)
        except GlanceCatalogError as error:
            fail_as_one_cloud(fleet, error.lines)


def check_saved_fleet(
    saved: PlanSet,
    where: str,
    clouds: Sequence[str],
    names: Sequence[str],
    settings: RunSettings,
    bound: int = DEFAULT_PARALLEL_TARGETS,
) -> Fleet:
    """Every target of a saved plan set (or the chosen ones), each checked against the
    manifests and its cloud as they are now; a stale target carries its error lines. The
    targets share one retry budget, that of the run."""
    first = saved.entries[0].plan
    assert first is not None  # a plan set read from a file has every plan
    catalog = load_saved_catalog(first, where)
    chosen = {target.name for target, _ in select_targets(catalog, clouds, names, None)}
    as_targets = {target.name: target for target in catalog.targets}
    fleet = Fleet([])
    entries = [e for e in saved.entries if e.target.name in chosen]
    targets = [entry.target for entry in entries]
    retrier = run_retrier(settings)

    def one(entry: TargetPlan) -> TargetPlan:
        target, plan = entry.target, entry.plan
        assert plan is not None
        spec = as_targets.get(target.name)

        def check() -> tuple[Plan, GlanceGateway]:
            if spec is None or (spec.cloud, spec.region) != (target.cloud, target.region):
                raise GlanceCatalogError(
                    f"{where}: plan is stale: the manifests no longer send the catalog to "
                    f"{target.described}; re-run plan (nothing was changed)"
                )
            fed = fed_regions(target, targets)
            return check_saved_plan(
                plan, catalog.for_target(spec), target, where, settings, fed, retrier=retrier
            )

        return fleet.planned(target, check)

    fleet.plans = _each(entries, one, bound)
    return fleet


def fed_regions(target: Target, targets: Sequence[Target]) -> frozenset[str]:
    """The regions of the target's cloud that other targets of the run go to."""
    return frozenset(
        other.region
        for other in targets
        if other.cloud == target.cloud and other.region and other.name != target.name
    )


def data_sources(fleet: Fleet) -> dict[str, set[str]]:
    """For each planned target, the targets of the run whose regions it takes data from
    with glance-download: they must be applied first."""
    from catalog.model import TransferMethod

    targets = [entry.target for entry in fleet.plans]
    after: dict[str, set[str]] = {}
    for entry in fleet.plans:
        if entry.plan is None:
            continue
        regions = {
            action.source.region
            for action in entry.plan.actions
            if action.source is not None
            and action.source.method is TransferMethod.GLANCE_DOWNLOAD
            and action.source.region
        }
        after[entry.target.name] = {
            other.name
            for other in targets
            if other.cloud == entry.target.cloud and other.region in regions
        }
    return after


def apply_fleet(
    fleet: Fleet,
    max_delete: int,
    settings: RunSettings,
    on_result: Callable[[Target, ActionResult], None],
    progress: Callable[[Target], ProgressFactory | None],
    bound: int = DEFAULT_PARALLEL_TARGETS,
    after: Mapping[str, set[str]] | None = None,
) -> list[TargetApply]:
    """Apply every planned target's plan; one refused (conflicts, too many deletes) or
    failing is reported as such while the others go on. A target named in ``after`` starts
    only once the targets it names have ended (those whose Glance it takes data from)."""
    from reconciler.executor import apply_plan, check_applicable

    waits = _acyclic(after or {}, [entry.target.name for entry in fleet.plans])
    ended = {entry.target.name: threading.Event() for entry in fleet.plans}

    def one(entry: TargetPlan) -> TargetApply:
        target, plan = entry.target, entry.plan
        try:
            for name in waits.get(target.name, ()):
                ended[name].wait()
            if plan is None:
                return TargetApply(target, error=entry.error)
            try:
                check_applicable(plan, max_delete)
            except GlanceCatalogError as error:
                return TargetApply(target, plan, error=error.lines)
            report = apply_plan(
                plan,
                fleet.gateways[target.name],
                on_result=lambda result: on_result(target, result),
                max_delete=max_delete,
                parallel=settings.parallel,
                progress=progress(target),
                read_timeout=settings.timeout,
            )
            return TargetApply(target, plan, report)
        finally:
            ended[target.name].set()

    # Started in an order where every target comes after those it waits for, so that a
    # waiting target never holds the worker one of them needs.
    order = _ordered(fleet.plans, waits)
    results = {entry.target.name: entry for entry in _each(order, one, bound)}
    return [results[entry.target.name] for entry in fleet.plans]


def _acyclic(after: Mapping[str, set[str]], names: Sequence[str]) -> dict[str, set[str]]:
    """``after`` restricted to the run's targets, without the waits that would close a
    cycle (those targets then start without waiting: the data they need is not there)."""
    waits: dict[str, set[str]] = {}
    for name in names:
        for other in sorted(after.get(name, set()) & set(names) - {name}):
            if not _reaches(waits, other, name):
                waits.setdefault(name, set()).add(other)
    return waits


def _reaches(waits: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen: set[str] = set()
    stack = [start]
    while stack:
        name = stack.pop()
        if name == goal:
            return True
        if name not in seen:
            seen.add(name)
            stack.extend(waits.get(name, ()))
    return False


def _ordered(entries: Sequence[TargetPlan], waits: Mapping[str, set[str]]) -> list[TargetPlan]:
    placed: list[TargetPlan] = []
    names: set[str] = set()
    pending = list(entries)
    while pending:
        ready = [e for e in pending if waits.get(e.target.name, set()) <= names]
        for entry in ready:
            placed.append(entry)
            names.add(entry.target.name)
        pending = [e for e in pending if e.target.name not in names]
    return placed
