"""Checks made before apply's first write, of what the plan will need: every source it reads
answers (for a glance-download: Glance enables it, and the image is in the other region with
the same checksum and formats), every accept_with cloud opens and is scoped to its member
project, and Glance enables the copy-image import when the plan copies data between stores.
Only what the plan touches is checked, so a plan with nothing to do costs nothing."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol, assert_never

from catalog.model import Catalog, ImageSource
from reconciler.core.actions import ActionKind
from reconciler.core.plan import Conflict, Plan


class SourceChecks(Protocol):
    """What preflight asks of the sources (sources.stream.SourceProbe): a problem or None."""

    def source_problem(self, source: ImageSource, image: str) -> str | None: ...


class CloudChecks(Protocol):
    """What preflight asks of the cloud (the gateway); each answer is a problem or None."""

    def origin_problem(
        self, source: ImageSource, image: str, marker: str, formats: tuple[str, str]
    ) -> str | None: ...
    def accept_cloud_problem(self, cloud: str, member: str) -> str | None: ...
    def copy_problem(self) -> str | None: ...


class PreflightChecks(SourceChecks, CloudChecks, Protocol):
    """What preflight asks of the outside world."""


@dataclass(frozen=True)
class RunChecks:
    """The PreflightChecks of a run: the sources answer for themselves, the cloud for itself."""

    sources: SourceChecks
    cloud: CloudChecks

    def source_problem(self, source: ImageSource, image: str) -> str | None:
        return self.sources.source_problem(source, image)

    def origin_problem(
        self, source: ImageSource, image: str, marker: str, formats: tuple[str, str]
    ) -> str | None:
        return self.cloud.origin_problem(source, image, marker, formats)

    def accept_cloud_problem(self, cloud: str, member: str) -> str | None:
        return self.cloud.accept_cloud_problem(cloud, member)

    def copy_problem(self) -> str | None:
        return self.cloud.copy_problem()


def _no_problem() -> str | None:
    return None


def _source_probe(
    image: str,
    source: ImageSource,
    catalog: Catalog,
    checks: PreflightChecks,
    fed_regions: frozenset[str],
) -> Callable[[], str | None]:
    """The check of one source: it can be read; for a glance-download, its image is in the
    other region with the manifest's formats (and Glance here can pull it), unless that
    region is one this run applies first (``fed_regions``): apply checks it then."""
    if source.region is None:
        return partial(checks.source_problem, source, image)
    if source.region in fed_regions:
        return _no_problem
    desired = catalog.image(image)
    formats = (desired.disk_format, desired.container_format) if desired else ("", "")
    return partial(checks.origin_problem, source, image, catalog.marker, formats)


def preflight(
    plan: Plan,
    catalog: Catalog,
    checks: PreflightChecks,
    parallel: int = 4,
    fed_regions: frozenset[str] = frozenset(),
) -> Plan:
    """``plan`` with a conflict (at the image's manifest position) for every problem found;
    ``fed_regions`` are the regions of the same cloud that the run applies before this one."""
    probes: dict[tuple[str, str], Callable[[], str | None]] = {}
    for action in plan.actions:
        source = action.source
        match action.kind:
            case ActionKind.UPLOAD | ActionKind.IMPORT:
                assert source is not None
                probes.setdefault(
                    (action.image, f"source {source.location} {source.checksum}"),
                    _source_probe(action.image, source, catalog, checks, fed_regions),
                )
            case ActionKind.COPY_TO_STORE:
                probes.setdefault((action.image, "copy-image"), checks.copy_problem)
            case ActionKind.ACCEPT_MEMBER:
                assert action.accept_with is not None and action.member is not None
                probes.setdefault(
                    (action.image, f"cloud {action.accept_with} for {action.member}"),
                    partial(checks.accept_cloud_problem, action.accept_with, action.member),
                )
            case (
                ActionKind.DISCARD
                | ActionKind.RESERVE
                | ActionKind.PREPARE
                | ActionKind.REMOVE_MEMBER
                | ActionKind.UPDATE
                | ActionKind.REACTIVATE
                | ActionKind.REMOVE_FROM_STORE
                | ActionKind.ADD_MEMBER
                | ActionKind.RENAME
                | ActionKind.DEACTIVATE
                | ActionKind.DELETE
                | ActionKind.RETIRE
            ):
                pass  # nothing Glance could refuse before apply
            case unhandled:
                assert_never(unhandled)
    if not probes:
        return plan
    keys = sorted(probes)
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="preflight") as pool:
        answers = list(pool.map(lambda key: probes[key](), keys))
    found = []
    for (image, _), problem in zip(keys, answers, strict=True):
        if problem is None:
            continue
        desired = catalog.image(image)
        position = str(desired.position) if desired is not None else ""
        found.append(
            Conflict(
                image,
                problem.removeprefix(f"image '{image}': "),
                "fix it before apply; nothing was changed",
                position,
            )
        )
    if not found:
        return plan
    conflicts = sorted((*plan.conflicts, *found), key=lambda c: (c.image, c.message))
    return replace(plan, conflicts=tuple(conflicts))
