"""reconciler.report.console and apply_output: apply's live output, for people or as JSON."""

from __future__ import annotations

import json

import pytest

from catalog.errors import GlanceCatalogError
from reconciler.executor import ApplyReport
from reconciler.report.apply_output import ApplyOutput
from reconciler.report.console import ApplyConsole
from reconciler.report.jsonlog import JsonLog
from reconciler.report.style import ansi
from tests.unit.report_plans import mixed_plan, results


def test_off_a_terminal_steps_and_uploads_are_plain_log_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = results(mixed_plan())
    with ApplyConsole(terminal=False, quiet=False) as console:
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
    with ApplyConsole(terminal=False, quiet=True, style=ansi) as console:
        console.step(results(mixed_plan()).results[0])
        assert console.upload_progress("r") is None
    assert capsys.readouterr().out == ""


def test_apply_output_for_people_and_for_a_json_log() -> None:
    plan = mixed_plan()
    printed: list[str] = []
    people = ApplyOutput(printed.append, log=None, quiet=False)
    people.plan(plan, asking=False)
    people.outcome(results(plan))
    assert printed[0].startswith("Cloud 'local'") and not printed[0].endswith("\n")
    assert printed[-1].startswith("Apply complete: 1 created, 1 updated, 1 replaced")
    quiet: list[str] = []
    ApplyOutput(quiet.append, log=None, quiet=True).plan(plan, asking=False)
    assert quiet == []
    logged: list[str] = []
    machine = ApplyOutput(logged.append, log=JsonLog(logged.append, ""), quiet=False)
    machine.plan(plan, asking=False)
    assert isinstance(machine.live(terminal=True), JsonLog)
    machine.outcome(ApplyReport(()))
    with pytest.raises(GlanceCatalogError), machine.errors():
        raise GlanceCatalogError("cloud refused")
    events = [json.loads(line) for line in logged]
    assert [event["event"] for event in events] == ["plan", "summary", "error"]
    assert events[0]["target"] == "local" and events[1]["result"] == "ok"


def test_a_run_over_several_targets_labels_each_step_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with ApplyConsole(terminal=False, quiet=False) as console:
        console.step(results(mixed_plan()).results[0], target="prod-a")
    assert capsys.readouterr().out == "[prod-a] r: reserve new: done (done, 1.2 s)\n"
