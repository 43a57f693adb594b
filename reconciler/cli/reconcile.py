"""plan, apply and drift: each over the run's targets (one cloud, or the manifests' targets),
every output through the reporter. A run over one cloud is a run over one target; that it
prints, saves and fails as it did before targets is the reporter's and the fleet's concern."""

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
from reconciler.cli.options import (
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
from reconciler.core.exit_codes import ExitCode
from reconciler.core.targets import Target, TargetPlan, combined_exit, select_targets
from reconciler.settings import RunSettings, TargetChoice

if TYPE_CHECKING:
    from reconciler.fleet import Fleet
    from reconciler.report.reporter import Reporter


def _selected(catalog: Catalog, choice: TargetChoice) -> tuple[tuple[Target, Catalog], ...]:
    return select_targets(catalog, choice.clouds, choice.names, os.environ.get("OS_CLOUD"))


def _failed(reporter: Reporter, entries: Sequence[TargetPlan]) -> int:
    """Exit 1, the conflicts and errors last on stderr (see Reporter.stderr_conflicts)."""
    for line in reporter.stderr_conflicts(entries, terminal=sys.stdout.isatty()):
        echo(one_line(line), err=True)
    return ExitCode.ERROR


def _save(out: Path, targets: Sequence[TargetPlan]) -> None:
    from reconciler.core.plan_set import saved_json

    text = saved_json(targets)
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
) -> Fleet:
    """Every chosen target's plan (gateways open); a run over one cloud whose plan could not
    be made raises its error."""
    from reconciler.fleet import plan_fleet

    catalog = load_catalog(paths, recursive=recursive)
    return plan_fleet(_selected(catalog, choice), prune, settings, choice.parallel)


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
    with _planned(paths, recursive, choice, prune, settings) as fleet:
        entries = fleet.plans
    echo(reporter.plans(entries), nl=False)
    if any(entry.failed for entry in entries):
        if out is not None:
            echo(f"The plan was not saved to {out}: it cannot be applied.", err=True)
        return _failed(reporter, entries)
    if out is not None:
        _save(out, entries)
        said = reporter.saved(str(out))
        if said is not None:
            echo(said)
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
    from reconciler.cli.applying import apply_run, saved_fleet

    saved = len(paths) == 1 and paths[0].suffix == ".json"
    with reporter.errors(echo):
        if not reporter.asks and not auto_approve and not saved:
            raise GlanceCatalogError(
                f"--log-format {reporter.log} asks nothing: pass --auto-approve (or apply a "
                "saved plan)"
            )
        if saved:
            if prune or recursive:
                raise GlanceCatalogError(
                    "--prune and --recursive belong to plan; a saved plan is applied as it is"
                )
            fleet = saved_fleet(paths[0], choice, settings)
        else:
            fleet = _planned(paths, recursive, choice, prune, settings)
        # A saved plan was reviewed when it was made, as with terraform apply PLANFILE.
        asking = not auto_approve and not saved
        with fleet:
            return apply_run(fleet, max_delete, settings, choice, reporter, asking, quiet)


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
    with reporter.errors(echo):
        fleet = _planned(paths, recursive, choice, prune, settings)
    with fleet:
        entries = fleet.plans
    echo(reporter.drifts(entries), nl=False)
    if any(entry.failed for entry in entries):
        return _failed(reporter, entries)
    changed = [entry.plan is not None and entry.plan.has_changes for entry in entries]
    return combined_exit([], changed)
