"""Plans, drift checks and apply outcomes of a whole run, over one target or several. With
one target the text is exactly the one-cloud text (reconciler.report.text); with several,
each target under a header (its label) and a total last. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from reconciler.core.targets import TargetApply, TargetPlan
from reconciler.report.apply_text import applied_text, render_report
from reconciler.report.blocks import Counts, apply_counts, plan_counts
from reconciler.report.format_types import DocumentFormat
from reconciler.report.legend import legend
from reconciler.report.style import Style, plain
from reconciler.report.text import bookkeeping_hint, counts_text, plan_text


def target_header(label: str) -> str:
    return f"=== {label} ==="


def _failed_clause(failed: Sequence[str]) -> str:
    count = len(failed)
    if not count:
        return ""
    return f"; {count} target{'' if count == 1 else 's'} failed ({', '.join(failed)})"


def _errors(lines: Sequence[str], style: Style) -> list[str]:
    return [style(f"  error: {line}", "red") for line in lines]


def _plans(targets: Sequence[TargetPlan], style: Style, verbose: bool, drift: bool) -> str:
    if len(targets) == 1:
        (only,) = targets
        if only.plan is None:
            return "\n".join(_errors(only.error, style)) + "\n"
        return "\n".join(plan_text(only.plan, style, verbose=verbose, drift=drift).lines()) + "\n"
    texts = [
        plan_text(entry.plan, style, verbose=verbose, drift=drift) if entry.plan else None
        for entry in targets
    ]
    shown = legend(symbol for text in texts if text for symbol in text.symbols)
    lines = [shown, ""] if shown else []
    for entry, text in zip(targets, texts, strict=True):
        lines.append(target_header(entry.target.label))
        if text is None:
            lines += _errors(entry.error, style)
        else:
            lines += text.lines(with_legend=False, with_hint=False)
        lines.append("")
    catalogs = sorted({entry.plan.catalog for entry in targets if entry.plan})
    if any(text.hidden for text in texts if text):
        lines += [bookkeeping_hint(catalog) for catalog in catalogs]
    lines.append(drift_total(targets) if drift else plan_total(targets))
    return "\n".join(lines) + "\n"


def render_target_plans(
    targets: Sequence[TargetPlan], style: Style = plain, *, verbose: bool = False
) -> str:
    """The plans of a run (``targets`` non-empty, in the order to show them)."""
    return _plans(targets, style, verbose, drift=False)


def render_target_drifts(
    targets: Sequence[TargetPlan], style: Style = plain, *, verbose: bool = False
) -> str:
    """The drift checks of a run: each target's plan and verdict, then the total."""
    return _plans(targets, style, verbose, drift=True)


def run_counts(targets: Sequence[TargetPlan]) -> Counts:
    """What the run's plans do, added up (a failed target's plan counts when there is one)."""
    total = Counts()
    for entry in targets:
        if entry.plan is not None:
            total += plan_counts(entry.plan.changes)
    return total


def _targets(count: int) -> str:
    return f"{count} target{'' if count == 1 else 's'}"


def plan_total(targets: Sequence[TargetPlan]) -> str:
    """``2 targets: 3 to create, 1 to update, ...; 1 target failed.``"""
    failed = [entry.target.name for entry in targets if entry.failed]
    return f"{_targets(len(targets))}: {counts_text(run_counts(targets))}{_failed_clause(failed)}."


def drift_total(targets: Sequence[TargetPlan]) -> str:
    """``2 targets: 1 in sync, 1 drifted, 0 failed.``"""
    failed = sum(1 for entry in targets if entry.failed)
    drifted = sum(1 for e in targets if not e.failed and e.plan is not None and e.plan.actions)
    in_sync = len(targets) - failed - drifted
    return f"{_targets(len(targets))}: {in_sync} in sync, {drifted} drifted, {failed} failed."


def apply_total(targets: Sequence[TargetApply]) -> str:
    """``2 targets: 3 created, 1 updated, ...; 1 target failed.``"""
    total = Counts()
    for entry in targets:
        if entry.report is not None:
            total += apply_counts(entry.report)[0]
    failed = [entry.target.name for entry in targets if entry.failed]
    return f"{_targets(len(targets))}: {applied_text(total)}{_failed_clause(failed)}."


def render_target_applies(targets: Sequence[TargetApply], style: Style = plain) -> str:
    """The outcome of applying a run: per target its outcome line (or the errors that stopped
    it before any step), then the total; with one target just its outcome, as for one cloud.
    Step lines are printed live as they end (``render_result(..., target=label)``)."""
    lines: list[str] = []
    for entry in targets:
        if len(targets) > 1:
            lines.append(target_header(entry.target.label))
        lines += _errors(entry.error, style)
        if entry.report is not None:
            lines.append(render_report(entry.report))
        lines += [""] if len(targets) > 1 else []
    if len(targets) > 1:
        lines.append(apply_total(targets))
    return "\n".join(lines) + "\n"


def conflict_lines(targets: Sequence[TargetPlan]) -> list[str]:
    """Why a run's plans cannot be applied, for stderr (so that it is the last thing printed):
    each conflict and error (``[label] `` first when there are several targets), then one
    line of what it means; empty when nothing failed."""
    prefix = len(targets) > 1
    lines: list[str] = []
    conflicts = 0
    for entry in targets:
        tag = f"[{entry.target.label}] " if prefix else ""
        lines += [f"{tag}{line}" for line in entry.error]
        found = entry.plan.conflicts if entry.plan is not None else ()
        conflicts += len(found)
        lines += [f"{tag}{conflict.as_text()}" for conflict in found]
    if not lines:
        return []
    if conflicts:
        lines.append(
            f"the plan has {conflicts} conflict{'' if conflicts == 1 else 's'}: it cannot be "
            "applied until they are resolved"
        )
    return lines


class TextFormat(DocumentFormat):
    """``--format text``, for people: with one target exactly the one-cloud text."""

    for_people: ClassVar[bool] = True
    described: ClassVar[str] = "for people (default)"

    def plans(self, targets: Sequence[TargetPlan]) -> str:
        return render_target_plans(targets, self.style, verbose=self.verbose)

    def drifts(self, targets: Sequence[TargetPlan]) -> str:
        return render_target_drifts(targets, self.style, verbose=self.verbose)
