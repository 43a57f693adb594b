"""What apply did, for people: one line per step and the outcome. Pure."""

from __future__ import annotations

from reconciler.core.results import ActionResult, ApplyReport, Outcome
from reconciler.report.blocks import Counts, apply_counts
from reconciler.report.headlines import human_bytes
from reconciler.report.style import Style, plain

COLOURS = {Outcome.DONE: "green", Outcome.FAILED: "red", Outcome.SKIPPED: "yellow"}


def step_detail(result: ActionResult) -> str:
    """What the step produced or why it failed, without repeating the image: an upload's
    size in binary units, a new image's id (already shown) left out."""
    action = result.action
    detail = result.detail
    if result.size is not None and detail.startswith(f"uploaded {result.size} bytes"):
        detail = f"uploaded {human_bytes(result.size)}" + detail.removeprefix(
            f"uploaded {result.size} bytes"
        )
    if result.image_id and detail == f"created {result.image_id}":
        detail = "created"
    return detail.replace(f"image '{action.image}': ", "")


def render_result(result: ActionResult, style: Style = plain, *, target: str | None = None) -> str:
    """``image [version]: kind id: outcome (detail, 1.2 s)``; with ``target`` (a run over
    several targets) the line starts with ``[target] ``."""
    action = result.action
    label = f"{action.image} [{action.version}]" if action.version else action.image
    where = f" {result.image_id}" if result.image_id else ""
    prefix = f"[{target}] " if target else ""
    return style(
        f"{prefix}{label}: {action.kind.value}{where}: {result.outcome.value} "
        f"({step_detail(result)}, {result.seconds:.1f} s)",
        COLOURS[result.outcome],
    )


def render_failures(report: ApplyReport, style: Style = plain) -> str:
    """The failed steps alone, for --quiet."""
    return "\n".join(render_result(result, style) for result in report.failed)


def applied_text(counts: Counts) -> str:
    """``2 created, 0 updated, 1 replaced, 0 deleted, 3 member changes``."""
    return counts.phrase("created", "updated", "replaced", "deleted")


def steps_text(report: ApplyReport) -> str:
    done = sum(1 for r in report.results if r.outcome is Outcome.DONE)
    failed = len(report.failed)
    skipped = sum(1 for r in report.results if r.outcome is Outcome.SKIPPED)
    if not failed and not skipped:
        return f"{done} step{'' if done == 1 else 's'} done"
    return f"steps: {done} done, {failed} failed, {skipped} skipped"


def render_report(report: ApplyReport) -> str:
    """The outcome, counted by image as the plan's summary counts them: ``Apply complete: 2
    created, ...; 9 steps done.``, or ``Apply incomplete: ...; 1 image failed (a); steps: ...``
    when a step failed or was skipped."""
    counts, failed = apply_counts(report)
    if not failed:
        return f"Apply complete: {applied_text(counts)}; {steps_text(report)}."
    images = f"{len(failed)} image{'' if len(failed) == 1 else 's'} failed ({', '.join(failed)})"
    return f"Apply incomplete: {applied_text(counts)}; {images}; {steps_text(report)}."
