"""What apply does once it has its plans: over one cloud as it always did, over targets each
target applied on its own (the regions a target pulls from first), and a saved plan file
checked target by target before any of it is applied."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog.errors import GlanceCatalogError
from reconciler.cli.app import echo
from reconciler.core.exit_codes import ExitCode
from reconciler.core.targets import Target, TargetPlan, combined_exit
from reconciler.options import RunSettings, TargetChoice

if TYPE_CHECKING:
    from reconciler.executor import ActionResult, ProgressFactory
    from reconciler.fleet import Fleet
    from reconciler.report.jsonlog import JsonLog
    from reconciler.report.reporter import Reporter


def saved_fleet(path: Path, choice: TargetChoice, settings: RunSettings) -> tuple[Fleet, bool]:
    """A plan saved by ``plan -o``, each target's checked against the manifests and the
    cloud as they are now (a plan made from anything else is stale and refused); and whether
    it is a plan over targets."""
    from reconciler.core.plan_set import PlanSet, read_saved
    from reconciler.fleet import Fleet, check_saved_fleet
    from reconciler.planning import check_saved_plan, load_saved_catalog

    try:
        saved = read_saved(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise GlanceCatalogError(f"{path}: cannot read the plan: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise GlanceCatalogError(f"{path}: not a glance-catalog plan file (not UTF-8)") from error
    except GlanceCatalogError as error:
        raise GlanceCatalogError(*(f"{path}: {line}" for line in error.lines)) from error
    if isinstance(saved, PlanSet):
        return check_saved_fleet(saved, str(path), choice.clouds, choice.names, settings), True
    if choice.names:
        raise GlanceCatalogError(
            f"{path}: the plan was made for one cloud, '{saved.cloud}'; --target chooses "
            "among a plan's targets"
        )
    if choice.clouds and choice.clouds != (saved.cloud,):
        raise GlanceCatalogError(
            f"{path}: the plan was made for cloud '{saved.cloud}', not "
            f"'{', '.join(choice.clouds)}'; nothing was changed"
        )
    target = Target(saved.cloud, saved.cloud)
    catalog = load_saved_catalog(saved, str(path))
    checked, gateway = check_saved_plan(saved, catalog, target, str(path), settings)
    return Fleet([TargetPlan(target, checked)], {target.name: gateway}), False


def confirm() -> None:
    if not sys.stdin.isatty():
        raise GlanceCatalogError(
            "refusing to apply: standard input is not a terminal; pass --auto-approve"
        )
    answer = click.prompt(
        "Apply these changes? Only 'yes' is accepted", default="", show_default=False
    )
    if answer.strip() != "yes":
        raise GlanceCatalogError("apply cancelled; nothing was changed")


def apply_one(
    fleet: Fleet,
    max_delete: int,
    settings: RunSettings,
    reporter: Reporter,
    asking: bool,
    quiet: bool,
) -> int:
    """Apply the plan of a run over one cloud."""
    from reconciler.executor import ApplyReport, apply_plan, check_applicable

    entry = fleet.plans[0]
    if entry.plan is None:
        raise GlanceCatalogError(*entry.error)
    the_plan = entry.plan
    output = reporter.apply_output(echo, quiet=quiet, target=entry.target.name)
    output.plan(the_plan, asking=asking)
    check_applicable(the_plan, max_delete)
    if not the_plan.has_changes:
        output.outcome(ApplyReport(()))
        return ExitCode.OK
    if asking:
        confirm()
    with output.live(terminal=sys.stdout.isatty()) as console:
        outcome = apply_plan(
            the_plan,
            fleet.gateways[entry.target.name],
            on_result=console.step,
            max_delete=max_delete,
            parallel=settings.parallel,
            progress=console.upload_progress,
        )
    output.outcome(outcome)
    return ExitCode.OK if outcome.ok else ExitCode.ERROR


def apply_targets(
    fleet: Fleet,
    max_delete: int,
    settings: RunSettings,
    choice: TargetChoice,
    reporter: Reporter,
    asking: bool,
    quiet: bool,
) -> int:
    """Apply the plans of a run over targets: one failing never stops the others."""
    from reconciler.fleet import apply_fleet, data_sources
    from reconciler.report.console import ApplyConsole
    from reconciler.report.jsonlog import JsonLog
    from reconciler.report.run_text import render_target_applies

    entries = fleet.plans
    logs: dict[str, JsonLog] = {}
    if reporter.json_log:
        shared = JsonLog(echo, "", quiet=quiet)
        logs = {entry.target.name: shared.for_target(entry.target.name) for entry in entries}
        for entry in entries:
            if entry.plan is not None:
                logs[entry.target.name].plan(entry.plan)
            else:
                logs[entry.target.name].error(entry.error)
    elif not quiet or asking or any(entry.failed for entry in entries):
        echo(reporter.plans(entries, over_targets=True), nl=False)
    if not any(entry.plan is not None and entry.plan.has_changes for entry in entries):
        return combined_exit([entry.failed for entry in entries], [])
    if asking:
        confirm()
    console = ApplyConsole(
        terminal=sys.stdout.isatty() and not logs,
        quiet=quiet or bool(logs),
        style=reporter.style,
        colour=reporter.colour,
    )
    with console:

        def report(target: Target, result: ActionResult) -> None:
            if logs:
                logs[target.name].step(result)
            else:
                console.step(result, target=target.label)

        def progress(target: Target) -> ProgressFactory:
            return lambda image: console.upload_progress(f"[{target.name}] {image}")

        applies = apply_fleet(
            fleet, max_delete, settings, report, progress, choice.parallel, data_sources(fleet)
        )
    if logs:
        for done in applies:
            if done.report is not None:
                logs[done.target.name].summary(done.report)
            else:
                logs[done.target.name].error(done.error)
    else:
        echo(render_target_applies(applies, reporter.style), nl=False)
    return combined_exit([entry.failed for entry in applies], [])
