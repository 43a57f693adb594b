"""reconciler.report.console, apply_output and jsonlog: apply's output, for people or as JSON."""

from __future__ import annotations

import json

import click
import pytest

from catalog.errors import GlanceCatalogError
from reconciler.core.targets import Target, TargetApply, TargetPlan
from reconciler.report.apply_output import TextLog
from reconciler.report.console import ApplyConsole
from reconciler.report.jsonlog import JsonLines
from reconciler.report.style import ansi
from tests.unit.report_plans import mixed_plan, results


def test_off_a_terminal_steps_and_uploads_are_plain_log_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = results(mixed_plan())
    with ApplyConsole(write=click.echo, terminal=False, quiet=False) as console:
        for result in report.results[:2]:
            console.step(result)
        progress = console.upload_progress("r")
        assert progress is not None
        progress.start(2048)
        progress.advance(2048)
        progress.finish(True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "r: reserve new: done (done, 1.2 s)"
    assert lines[2] == "r: upload started (2.0 KiB)"
    assert lines[3].startswith("r: upload finished 2.0 KiB in ")
    assert "\x1b[" not in "".join(lines)


def test_quiet_prints_nothing_live(capsys: pytest.CaptureFixture[str]) -> None:
    with ApplyConsole(write=click.echo, terminal=False, quiet=True, style=ansi) as console:
        console.step(results(mixed_plan()).results[0])
        assert console.upload_progress("r") is None
    assert capsys.readouterr().out == ""


def test_apply_output_for_people_and_for_a_json_log() -> None:
    plan = mixed_plan()
    only = [TargetPlan(Target("local", "local"), plan)]
    printed: list[str] = []
    people = TextLog().apply_output(printed.append, only, quiet=False)
    people.plans(asking=False)
    people.outcome([TargetApply(only[0].target, plan, results(plan))])
    assert printed[0].startswith("Cloud 'local'") and not printed[0].endswith("\n")
    assert printed[-1].startswith("Apply complete: 1 created, 1 updated, 1 replaced")
    quiet: list[str] = []
    TextLog().apply_output(quiet.append, only, quiet=True).plans(asking=False)
    assert quiet == []
    logged: list[str] = []
    machine = JsonLines().apply_output(logged.append, only, quiet=False)
    machine.plans(asking=False)
    with machine.live(terminal=True) as live:
        assert live.upload_progress(only[0].target) is None
    machine.nothing_to_apply()
    with pytest.raises(GlanceCatalogError), JsonLines().errors(logged.append):
        raise GlanceCatalogError("cloud refused")
    events = [json.loads(line) for line in logged]
    assert [event["event"] for event in events] == ["plan", "summary", "error"]
    assert events[0]["target"] == "local" and events[1]["result"] == "ok"


def test_one_cloud_reads_as_before_targets_and_one_declared_target_as_a_fleet() -> None:
    plan = mixed_plan()
    result = results(plan).results[0]
    for target, line, nothing in (
        (Target("local", "local"), "r: reserve new: done (done, 1.2 s)", ["Apply complete:"]),
        (Target("a", "local", declared=True), "[a (local)] r: reserve new: done", []),
    ):
        printed: list[str] = []
        output = TextLog().apply_output(printed.append, [TargetPlan(target, plan)], quiet=False)
        with output.live(terminal=False) as live:
            live.step(target, result)
        # Step lines go through the CLI's write, as every line the command prints.
        assert printed.pop(0).startswith(line)
        output.nothing_to_apply()
        assert [text.split(" 0 ")[0] for text in printed] == nothing


def test_a_run_over_several_targets_labels_each_step_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with ApplyConsole(write=click.echo, terminal=False, quiet=False) as console:
        console.step(results(mixed_plan()).results[0], target="prod-a")
    assert capsys.readouterr().out == "[prod-a] r: reserve new: done (done, 1.2 s)\n"
