"""reconciler.report.style and reporter: colour only on a terminal, NO_COLOR and --no-color
honoured, never in JSON or Markdown; the reporter picks the renderer for each format."""

from __future__ import annotations

import json

import click
import pytest

from reconciler.core.targets import Target, TargetPlan
from reconciler.report.reporter import Reporter
from reconciler.report.style import ANSI_COLOURS, ansi, plain, wants_colour
from tests.unit.report_plans import conflicted, mixed_plan


@pytest.mark.parametrize(
    ("terminal", "no_color", "environ", "expected"),
    [
        (True, False, {}, True),
        (False, False, {}, False),  # a pipe or a file
        (True, True, {}, False),  # --no-color
        (True, False, {"NO_COLOR": "1"}, False),
        (True, False, {"NO_COLOR": "0"}, False),  # any non-empty value
        (True, False, {"NO_COLOR": ""}, True),  # empty: as if unset (no-color.org)
    ],
)
def test_colour_only_on_a_terminal_without_no_color(
    terminal: bool, no_color: bool, environ: dict[str, str], expected: bool
) -> None:
    assert wants_colour(terminal=terminal, no_color=no_color, environ=environ) is expected
    chosen = Reporter.choose(terminal=terminal, no_color=no_color, environ=environ)
    assert chosen.colour is expected
    assert chosen.style is (ansi if expected else plain)


def test_json_markdown_and_json_logs_are_never_coloured() -> None:
    for output, log in (("json", "text"), ("markdown", "text"), ("text", "json")):
        chosen = Reporter.choose(output=output, log=log, terminal=True, environ={})
        assert not chosen.colour


def test_the_reporter_prints_each_format_of_a_run() -> None:
    plan = mixed_plan()
    targets = [TargetPlan(Target("local", "local"), plan)]
    assert Reporter("json").plans(targets) == plan.to_json()
    assert Reporter("markdown").plans(targets).startswith("<!-- glance-catalog plan: prod -->\n")
    assert Reporter().plans(targets).startswith("Cloud 'local', project project-1")
    assert "\x1b[" in Reporter(colour=True).plans(targets)
    assert Reporter("markdown").drifts(targets).startswith("<!-- glance-catalog drift: prod -->\n")
    lines = Reporter(log="json").drifts(targets).splitlines()
    assert json.loads(lines[-1])["event"] == "summary"
    assert all(json.loads(line)["target"] == "local" for line in lines)


def test_conflicts_go_to_stderr_unless_a_terminal_already_ends_with_them() -> None:
    targets = [TargetPlan(Target("local", "local"), conflicted(mixed_plan()))]
    assert Reporter().stderr_conflicts(targets, terminal=True) == []
    piped = Reporter().stderr_conflicts(targets, terminal=False)
    assert piped[-1] == "the plan has 1 conflict: it cannot be applied until they are resolved"
    assert Reporter("markdown").stderr_conflicts(targets, terminal=True) == piped


def test_the_format_options_offer_the_registered_formats() -> None:
    import click

    from reconciler.cli import cli
    from reconciler.report.registry import FORMAT_BY_NAME, LOG_FORMAT_BY_NAME

    def choices(command: str, option: str) -> list[str]:
        (param,) = [p for p in cli.commands[command].params if p.name == option]
        assert isinstance(param.type, click.Choice)
        return list(param.type.choices)

    assert choices("plan", "output_format") == list(FORMAT_BY_NAME) == ["text", "json", "markdown"]
    assert choices("drift", "output_format") == list(FORMAT_BY_NAME)
    assert choices("apply", "log_format") == list(LOG_FORMAT_BY_NAME) == ["text", "json"]
    assert choices("drift", "log_format") == list(LOG_FORMAT_BY_NAME)


@pytest.mark.parametrize("colour", sorted(ANSI_COLOURS))
def test_ansi_prints_the_bytes_click_style_printed_before_the_report_left_click(
    colour: str,
) -> None:
    assert ansi("Plan: 1 to add", colour) == click.style("Plan: 1 to add", fg=colour)
