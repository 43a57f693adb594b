"""One run over several targets: the clouds (and regions) a catalog goes to, each planned and
applied on its own, concurrently with a bound; one target failing never stops the others.

These are the shapes every command and reporter shares; a run over one cloud without
``targets:`` in its manifests is a run over one target named after the cloud.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.executor import ApplyReport
from reconciler.plan import Plan


@dataclass(frozen=True)
class Target:
    """Where a catalog goes: the clouds.yaml entry ``cloud`` and, when given, ``region``
    (otherwise the entry's own region_name). ``name`` is unique within a run."""

    name: str
    cloud: str
    region: str | None = None

    @property
    def label(self) -> str:
        """How reports name the target: its name, with cloud and region when they differ."""
        where = self.cloud if self.region is None else f"{self.cloud}, region {self.region}"
        return self.name if where == self.name else f"{self.name} ({where})"


@dataclass(frozen=True)
class TargetPlan:
    """A target's plan, or the one-line errors (``error``) that kept it from being made:
    exactly one of ``plan`` and ``error`` is set."""

    target: Target
    plan: Plan | None = None
    error: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.plan is None or bool(self.plan.conflicts)


@dataclass(frozen=True)
class TargetApply:
    """What applying a target's plan did (``report``), or the errors that stopped it before
    any step ran (``error``); ``plan`` is the plan it applied, when one was made."""

    target: Target
    plan: Plan | None = None
    report: ApplyReport | None = None
    error: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return bool(self.error) or self.report is None or not self.report.ok


EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


def combined_exit(failed: Sequence[bool], changed: Sequence[bool]) -> int:
    """1 if any target failed, else 2 if any changed (or drifted), else 0."""
    if any(failed):
        return EXIT_ERROR
    return EXIT_CHANGES if any(changed) else EXIT_OK
