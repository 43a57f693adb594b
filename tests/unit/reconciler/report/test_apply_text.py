"""reconciler.report.apply_text: apply's step lines and its outcome, counted by image."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from catalog.model import ImageSource
from reconciler.core.actions import Action, ActionKind
from reconciler.core.results import ActionResult, Outcome
from reconciler.report.apply_text import render_failures, render_report, render_result
from reconciler.report.headlines import human_bytes
from tests.unit.report_plans import mixed_plan, results


def test_a_step_line_names_the_image_once_and_sizes_in_binary_units() -> None:
    source = ImageSource(None, Path("disk.raw"), None)
    upload = Action(ActionKind.UPLOAD, "ubuntu", "id-1", source=source)
    done = ActionResult(upload, Outcome.DONE, "uploaded 3145728 bytes", 2.04, "id-1", 3145728)
    assert render_result(done) == "ubuntu: upload id-1: done (uploaded 3.0 MiB, 2.0 s)"
    failed = ActionResult(
        upload,
        Outcome.FAILED,
        "image 'ubuntu': checksum mismatch image 'ubuntu': deleted",
        0.5,
        "id-1",
    )
    assert render_result(failed) == (
        "ubuntu: upload id-1: failed (checksum mismatch deleted, 0.5 s)"
    )
    reserve = ActionResult(
        Action(ActionKind.RESERVE, "u", None, version="1.2"), Outcome.DONE, "created n", 0.1, "n"
    )
    assert render_result(reserve) == "u [1.2]: reserve n: done (created, 0.1 s)"
    assert render_result(reserve, target="prod-a").startswith("[prod-a] u [1.2]: reserve n:")
    assert "\x1b[31m" in render_result(failed, lambda text, colour: f"\x1b[31m{text}\x1b[0m")


def test_human_bytes() -> None:
    assert [human_bytes(n) for n in (512, 2048, 3 * 1024**2, 5 * 1024**4)] == [
        "512 B",
        "2.0 KiB",
        "3.0 MiB",
        "5120.0 GiB",
    ]


def test_the_outcome_counts_images_as_the_plan_summary_does() -> None:
    plan = mixed_plan()
    steps = len(plan.actions)
    assert render_report(results(plan)) == (
        "Apply complete: 1 created, 1 updated, 1 replaced, 1 deleted, 2 member changes; "
        f"{steps} steps done."
    )
    failing = results(plan, failing="r")
    skipped = sum(1 for r in failing.results if r.outcome is Outcome.SKIPPED)
    assert render_report(failing) == (
        "Apply incomplete: 1 created, 1 updated, 0 replaced, 1 deleted, 2 member changes; "
        f"1 image failed (r); steps: {steps - 1 - skipped} done, 1 failed, {skipped} skipped."
    )
    assert render_failures(failing) == "r: reserve: failed (Glance said no, 0.5 s)"
    done = results(plan)
    one = replace(done, results=done.results[:1])
    assert render_report(one) == (
        "Apply complete: 0 created, 0 updated, 1 replaced, 0 deleted, 0 member changes; "
        "1 step done."
    )
