"""Apply and drift for log pipelines (``--log-format json``): one JSON object a line, no
progress bars and no colour. Every step event has ``time`` (UTC, ISO 8601), ``target``,
``image``, ``action``, ``duration_s``, ``bytes``, ``result`` and ``error`` (null unless the
step failed or was skipped); a run ends with one ``summary`` event per target. Strings are
redacted before they are written, so that no line shows a credential and every line stays
JSON. A run over one cloud is a run over one target named after the cloud, which it reports
as it did before targets existed (a summary when nothing is applied)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from catalog.errors import GlanceCatalogError
from catalog.secrets import redact_text
from reconciler.core.plan import Plan
from reconciler.core.results import ActionResult, ApplyReport, Outcome
from reconciler.core.targets import Target, TargetApply, TargetPlan, reads_as_one_cloud
from reconciler.report.blocks import Counts, apply_counts, plan_counts
from reconciler.report.format_types import ApplyOutput, LiveApply, LogFormat

if TYPE_CHECKING:
    from reconciler.image_data import ByteProgress, ProgressFactory

Event = dict[str, Any]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    """``2026-05-01T12:00:00.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _redacted(item: Any) -> Any:
    if isinstance(item, str):
        return redact_text(item)
    if isinstance(item, list):
        return [_redacted(entry) for entry in item]
    if isinstance(item, dict):
        return {key: _redacted(entry) for key, entry in item.items()}
    return item


def event_line(event: Event) -> str:
    """One event as one line of JSON, its strings redacted."""
    return json.dumps(_redacted(event), ensure_ascii=False, separators=(", ", ": "))


def _counts(counts: Counts, *, done: bool) -> Event:
    if done:
        return {
            "created": counts.create,
            "updated": counts.update,
            "replaced": counts.replace,
            "deleted": counts.delete,
            "member_changes": counts.members,
        }
    return {
        "create": counts.create,
        "update": counts.update,
        "replace": counts.replace,
        "delete": counts.delete,
        "member_changes": counts.members,
    }


def step_event(result: ActionResult, target: str, at: datetime) -> Event:
    action = result.action
    ok = result.outcome is Outcome.DONE
    return {
        "time": timestamp(at),
        "event": "step",
        "target": target,
        "image": action.image,
        "version": action.version,
        "image_id": result.image_id,
        "action": action.kind.value,
        "duration_s": round(result.seconds, 3),
        "bytes": result.size,
        "result": result.outcome.value,
        "error": None if ok else result.detail,
    }


def plan_event(plan: Plan, target: str, at: datetime) -> Event:
    return {
        "time": timestamp(at),
        "event": "plan",
        "target": target,
        "catalog": plan.catalog,
        "project_id": plan.project_id,
        "steps": len(plan.actions),
        **_counts(plan_counts(plan.changes), done=False),
        "conflicts": len(plan.conflicts),
    }


def conflict_events(plan: Plan, target: str, at: datetime) -> list[Event]:
    return [
        {
            "time": timestamp(at),
            "event": "conflict",
            "target": target,
            "image": conflict.image,
            "position": conflict.position or None,
            "result": "conflict",
            "error": conflict.as_text(),
        }
        for conflict in plan.conflicts
    ]


def apply_summary_event(report: ApplyReport, target: str, at: datetime, seconds: float) -> Event:
    counts, failed = apply_counts(report)
    outcomes = [result.outcome for result in report.results]
    return {
        "time": timestamp(at),
        "event": "summary",
        "target": target,
        "result": "ok" if report.ok else "failed",
        **_counts(counts, done=True),
        "steps_done": outcomes.count(Outcome.DONE),
        "steps_failed": outcomes.count(Outcome.FAILED),
        "steps_skipped": outcomes.count(Outcome.SKIPPED),
        "failed_images": list(failed),
        "duration_s": round(seconds, 3),
    }


def drift_events(plan: Plan, target: str, at: datetime) -> list[Event]:
    """Drift as events: one per planned action (``result`` drift: what apply would do, with
    the paths of the fields it changes), one per conflict, then the summary."""
    when = timestamp(at)
    events: list[Event] = [
        {
            "time": when,
            "event": "step",
            "target": target,
            "image": action.image,
            "version": action.version,
            "image_id": action.image_id,
            "action": action.kind.value,
            "duration_s": None,
            "bytes": None,
            "result": "drift",
            "error": None,
            "reason": action.reason,
            "changes": [change.path for change in action.changes],
        }
        for action in plan.actions
    ]
    events += conflict_events(plan, target, at)
    verdict = "conflicts" if plan.conflicts else "drifted" if plan.actions else "in_sync"
    events.append(
        {
            "time": when,
            "event": "summary",
            "target": target,
            "result": verdict,
            "drifted_images": len({action.image for action in plan.actions}),
            **_counts(plan_counts(plan.changes), done=False),
            "conflicts": len(plan.conflicts),
        }
    )
    return events


def error_event(lines: tuple[str, ...], target: str, at: datetime) -> Event:
    return {
        "time": timestamp(at),
        "event": "error",
        "target": target,
        "result": "error",
        "error": " ".join(lines),
    }


class JsonLog:
    """Where apply's (or drift's) events go: ``write`` gets one line at a time, from any
    thread. With ``quiet`` only failed and skipped steps are written (and every other
    event). Uploads get no progress: ``upload_progress`` is None. The logs of several
    targets come from ``for_target``: they share the writer and its lock."""

    def __init__(
        self,
        write: Callable[[str], None],
        target: str,
        *,
        quiet: bool = False,
        clock: Clock = utc_now,
        lock: threading.Lock | None = None,
    ) -> None:
        self.target = target
        self._write = write
        self._quiet = quiet
        self._clock = clock
        self._lock = lock or threading.Lock()
        self._started = time.monotonic()

    def for_target(self, target: str) -> JsonLog:
        """The log of another target of the same run, on the same writer."""
        return JsonLog(self._write, target, quiet=self._quiet, clock=self._clock, lock=self._lock)

    def emit(self, event: Event) -> None:
        with self._lock:
            self._write(event_line(event))

    def step(self, result: ActionResult) -> None:
        if self._quiet and result.outcome is Outcome.DONE:
            return
        self.emit(step_event(result, self.target, self._clock()))

    def upload_progress(self, image: str) -> ByteProgress | None:
        return None

    def plan(self, plan: Plan) -> None:
        self.emit(plan_event(plan, self.target, self._clock()))
        for event in conflict_events(plan, self.target, self._clock()):
            self.emit(event)

    def summary(self, report: ApplyReport) -> None:
        seconds = time.monotonic() - self._started
        self.emit(apply_summary_event(report, self.target, self._clock(), seconds))

    def drift(self, plan: Plan) -> None:
        for event in drift_events(plan, self.target, self._clock()):
            self.emit(event)

    def error(self, lines: tuple[str, ...]) -> None:
        self.emit(error_event(lines, self.target, self._clock()))


@contextlib.contextmanager
def logged_errors(log: JsonLog | None) -> Iterator[None]:
    """With a log, an error that ends the command is an event too (it still reaches stderr,
    as the CLI prints every error)."""
    try:
        yield
    except GlanceCatalogError as error:
        if log is not None:
            log.error(error.lines)
        raise


class JsonApplyOutput(ApplyOutput):
    """Apply's output as JSON events, each target's with its name; no progress."""

    def __init__(
        self, write: Callable[[str], None], targets: Sequence[TargetPlan], *, quiet: bool
    ) -> None:
        super().__init__(write, targets, quiet=quiet)
        shared = JsonLog(write, "", quiet=quiet)
        self._logs = {entry.target.name: shared.for_target(entry.target.name) for entry in targets}

    def plans(self, *, asking: bool) -> None:
        for entry in self.targets:
            if entry.plan is not None:
                self._logs[entry.target.name].plan(entry.plan)
            else:
                self._logs[entry.target.name].error(entry.error)

    def nothing_to_apply(self) -> None:
        if reads_as_one_cloud([entry.target for entry in self.targets]):
            self._logs[self.targets[0].target.name].summary(ApplyReport(()))

    def live(self, *, terminal: bool) -> contextlib.AbstractContextManager[LiveApply]:
        return contextlib.nullcontext(self)

    def step(self, target: Target, result: ActionResult) -> None:
        self._logs[target.name].step(result)

    def upload_progress(self, target: Target) -> ProgressFactory | None:
        return None

    def outcome(self, applies: Sequence[TargetApply]) -> None:
        for done in applies:
            if done.report is not None:
                self._logs[done.target.name].summary(done.report)
            else:
                self._logs[done.target.name].error(done.error)


class JsonLines(LogFormat):
    """Apply and drift as JSON events, one a line, for log pipelines."""

    prints: ClassVar[str] = "JSON lines"
    described: ClassVar[str] = (
        "one JSON object a line per step and a summary, for log pipelines (no progress bars, "
        "no colour)"
    )

    def drifts(self, targets: Sequence[TargetPlan], at: datetime | None) -> str:
        moment = at or utc_now()
        return "".join(
            event_line(event) + "\n"
            for entry in targets
            for event in (
                drift_events(entry.plan, entry.target.name, moment)
                if entry.plan is not None
                else [error_event(entry.error, entry.target.name, moment)]
            )
        )

    def errors(self, write: Callable[[str], None]) -> contextlib.AbstractContextManager[None]:
        return logged_errors(JsonLog(write, ""))

    def apply_output(
        self, write: Callable[[str], None], targets: Sequence[TargetPlan], *, quiet: bool
    ) -> ApplyOutput:
        return JsonApplyOutput(write, targets, quiet=quiet)
