"""What applying a plan did: one result per action (done, failed or skipped) and the report of a
whole apply. Plain data, shared by the executor that makes it and the reports that read it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reconciler.core.actions import Action
from reconciler.core.changes import ImageChange


class Outcome(StrEnum):
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ActionResult:
    """What happened to one action; ``detail`` says why it failed or was skipped, or what it
    produced (an id, a size). ``size`` is the bytes a done upload sent (None for every other
    step)."""

    action: Action
    outcome: Outcome
    detail: str
    seconds: float
    image_id: str | None
    size: int | None = None


@dataclass(frozen=True)
class ApplyReport:
    """The result of each step, in plan order, and the plan's ``changes`` they belong to."""

    results: tuple[ActionResult, ...]
    changes: tuple[ImageChange, ...] = ()

    @property
    def failed(self) -> tuple[ActionResult, ...]:
        return tuple(r for r in self.results if r.outcome is Outcome.FAILED)

    @property
    def ok(self) -> bool:
        return not any(r.outcome is not Outcome.DONE for r in self.results)
