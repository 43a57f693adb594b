"""plan, apply and drift: each over the run's targets (one cloud, or the manifests' targets),
the output chosen by the reporter. A run over one cloud without targets prints, saves and
fails exactly as it always did."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog.diagnostics import one_line
from catalog.errors import GlanceCatalogError
from catalog.load import load_catalog
from catalog.model import Catalog
from catalog.secrets import redact_text
from reconciler.cli.app import cli, echo
from reconciler.core.exit_codes import ExitCode
from reconciler.core.targets import Target, TargetPlan, combined_exit, select_targets
from reconciler.options import (
    RunSettings,
    TargetChoice,
    auto_approve_option,
    max_delete_option,
    paths_argument,
    prune_option,
    quiet_option,
    recursive_option,
    report_options,
    run_options,
    target_options,
)

if TYPE_CHECKING:
    from reconciler.core.plan import Plan
    from reconciler.fleet import Fleet
    from reconciler.report.reporter import Reporter


def _selected(catalog: Catalog, choice: TargetChoice) -> tuple[tuple[Target, Catalog], ...]:
    return select_targets(catalog, choice.clouds, choice.names, os.environ.get("OS_CLOUD"))


def _over_targets(catalog: Catalog, selected: Sequence[object]) -> bool:
    """A run over targets reports (and saves) per target; one over one cloud as it always did."""
    return bool(catalog.targets) or len(selected) > 1


def _single(entry: TargetPlan) -> Plan:
    if entry.plan is None:
        raise GlanceCatalogError(*entry.error)
    return entry.plan


def _failed(reporter: Reporter, entries: Sequence[TargetPlan]) -> int:
    """Exit 1, the conflicts and errors last on stderr (see Reporter.stderr_conflicts)."""
    for line in reporter.stderr_conflicts(entries, terminal=sys.stdout.isatty()):
        echo(one_line(line), err=True)
    return ExitCode.ERROR


def _save(out: Path, text: str) -> None:
    try:
        out.write_text(redact_text(text), encoding="utf-8")
    except OSError as error:
        raise GlanceCatalogError(f"{out}: cannot save the plan: {error.strerror}") from error


def _planned(
    paths: tuple[Path, ...],
    recursive: bool,
    choice: TargetChoice,
    prune: bool,
    settings: RunSettings,
) -> tuple[Catalog, Fleet, bool]:
    """The catalog, every chosen target's plan (gateways open) and whether the run is over
    targets; a run over one cloud whose plan could not be made raises its error."""
    from reconciler.fleet import plan_fleet

    catalog = load_catalog(paths, recursive=recursive)
    selected = _selected(catalog, choice)
    fleet = plan_fleet(selected, prune, settings, choice.parallel)
    over = _over_targets(catalog, selected)
    if not over and fleet.plans[0].plan is None:
        fleet.close()
        _single(fleet.plans[0])
    return catalog, fleet, over


@cli.command()
@paths_argument
@recursive_option
@target_options
@prune_option
@run_options
@report_options(formats=True, log=False)
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save the plan as JSON to this file, for apply FILE later.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes, 0 when it has none.",
)
def plan(
    paths: tuple[Path, ...],
    recursive: bool,
    choice: TargetChoice,
    prune: bool,
    settings: RunSettings,
    reporter: Reporter,
    out: Path | None,
    detailed_exitcode: bool,
) -> int:
    """Show what apply would change in Glance, without changing anything."""
    from reconciler.core.plan_set import PlanSet

    catalog, fleet, over = _planned(paths, recursive, choice, prune, settings)
    with fleet:
        entries = fleet.plans
    echo(reporter.plans(entries, over_targets=over), nl=False)
    if any(entry.failed for entry in entries):
        if out is not None:
            echo(f"The plan was not saved to {out}: it cannot be applied.", err=True)
        return _failed(reporter, entries)
    if out is not None:
        plan_set = PlanSet(catalog.name, tuple(entries))
        _save(out, plan_set.to_json() if over else _single(entries[0]).to_json())
        if reporter.output == "text":
            echo(f"Saved the plan to {out}; apply it with: glance-catalog apply {out}")
    changed = any(entry.plan is not None and entry.plan.has_changes for entry in entries)
    return ExitCode.CHANGES if detailed_exitcode and changed else ExitCode.OK


@cli.command()
@paths_argument
@recursive_option
@target_options
@prune_option
@max_delete_option
@run_options
@report_options(formats=False, log=True)
@auto_approve_option
@quiet_option
def apply(
    paths: tuple[Path, ...],
    recursive: bool,
    choice: TargetChoice,
    prune: bool,
    max_delete: int,
    settings: RunSettings,
    reporter: Reporter,
    auto_approve: bool,
    quiet: bool,
) -> int:
    """Change Glance to match the manifests, or apply a plan saved with plan -o FILE.json."""
    from reconciler.cli.applying import apply_one, apply_targets, saved_fleet
    from reconciler.report.jsonlog import logged_errors

    saved = len(paths) == 1 and paths[0].suffix == ".json"
    with logged_errors(reporter.drift_log(echo)):
        if reporter.json_log and not auto_approve and not saved:
            raise GlanceCatalogError(
                "--log-format json asks nothing: pass --auto-approve (or apply a saved plan)"
            )
        if saved:
            if prune or recursive:
                raise GlanceCatalogError(
                    "--prune and --recursive belong to plan; a saved plan is applied as it is"
                )
            fleet, over = saved_fleet(paths[0], choice, settings)
        else:
            _, fleet, over = _planned(paths, recursive, choice, prune, settings)
        # A saved plan was reviewed when it was made, as with terraform apply PLANFILE.
        asking = not auto_approve and not saved
        with fleet:
            if over:
                return apply_targets(fleet, max_delete, settings, choice, reporter, asking, quiet)
            return apply_one(fleet, max_delete, settings, reporter, asking, quiet)


@cli.command()
@paths_argument
@recursive_option
@target_options
@prune_option
@run_options
@report_options(formats=True, log=True)
def drift(
    paths: tuple[Path, ...],
    recursive: bool,
    choice: TargetChoice,
    prune: bool,
    settings: RunSettings,
    reporter: Reporter,
) -> int:
    """Check whether Glance matches the manifests: exit 0 in sync, 2 drifted, 1 error."""
    from reconciler.report.jsonlog import logged_errors

    with logged_errors(reporter.drift_log(echo)):
        _, fleet, over = _planned(paths, recursive, choice, prune, settings)
    with fleet:
        entries = fleet.plans
    echo(reporter.drifts(entries, over_targets=over), nl=False)
    if any(entry.failed for entry in entries):
        return _failed(reporter, entries)
    changed = [entry.plan is not None and entry.plan.has_changes for entry in entries]
    return combined_exit([], changed)
