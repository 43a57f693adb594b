"""What apply does once it has its plans: each target applied on its own (the regions a
target pulls from first; a run over one cloud is a run over one target), and a saved plan
file checked target by target before any of it is applied."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog.errors import GlanceCatalogError
from reconciler.cli.app import echo
from reconciler.core.exit_codes import ExitCode
from reconciler.core.targets import Target, TargetPlan, combined_exit
from reconciler.settings import RunSettings, TargetChoice

if TYPE_CHECKING:
    from reconciler.fleet import Fleet
    from reconciler.report.reporter import Reporter


def saved_fleet(path: Path, choice: TargetChoice, settings: RunSettings) -> Fleet:
    """A plan saved by ``plan -o``, each target's checked against the manifests and the
    cloud as they are now (a plan made from anything else is stale and refused): a plan set,
    or one cloud's plan as a fleet of one."""
    from reconciler.core.plan_set import PlanSet, read_saved
    from reconciler.fleet import Fleet, check_saved_fleet
    from reconciler.planning import check_saved_plan, load_saved_catalog, run_retrier

    try:
        saved = read_saved(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise GlanceCatalogError(f"{path}: cannot read the plan: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise GlanceCatalogError(f"{path}: not a glance-catalog plan file (not UTF-8)") from error
    except GlanceCatalogError as error:
        raise GlanceCatalogError(*(f"{path}: {line}" for line in error.lines)) from error
    if isinstance(saved, PlanSet):
        return check_saved_fleet(saved, str(path), choice.clouds, choice.names, settings)
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
    checked, gateway = check_saved_plan(
        saved, catalog, target, str(path), settings, retrier=run_retrier(settings)
    )
    return Fleet([TargetPlan(target, checked)], {target.name: gateway})


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


def apply_run(
    fleet: Fleet,
    max_delete: int,
    settings: RunSettings,
    choice: TargetChoice,
    reporter: Reporter,
    asking: bool,
    quiet: bool,
) -> ExitCode:
    """Apply the plans of a run, each target on its own: one failing never stops the others
    (a run over one cloud is refused as a whole, see reconciler.fleet)."""
    from reconciler.fleet import apply_fleet, data_sources, refuse_one_cloud

    entries = fleet.plans
    output = reporter.apply_output(echo, entries, quiet=quiet)
    output.plans(asking=asking)
    refuse_one_cloud(fleet, max_delete)
    if not any(entry.plan is not None and entry.plan.has_changes for entry in entries):
        output.nothing_to_apply()
        return combined_exit([entry.failed for entry in entries], [])
    if asking:
        confirm()
    with output.live(terminal=sys.stdout.isatty()) as live:
        applies = apply_fleet(
            fleet,
            max_delete,
            settings,
            live.step,
            live.upload_progress,
            choice.parallel,
            data_sources(fleet),
        )
    output.outcome(applies)
    return combined_exit([entry.failed for entry in applies], [])
