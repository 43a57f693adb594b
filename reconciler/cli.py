"""The glance-catalog command: validate, plan, apply, drift, export. The only module that prints.

Exit codes: 0 success (no changes), 1 expected error (bad input, cloud refused, apply failed,
stale plan), 2 changes present (plan --detailed-exitcode, drift), 3 unexpected error (a bug:
traceback logged).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog.diagnostics import ManifestInvalid, diagnostics_as_json, one_line
from catalog.errors import GlanceCatalogError
from catalog.load import check_catalog, load_catalog
from catalog.model import Catalog
from catalog.secrets import redact_text
from reconciler.options import (
    ExportRequest,
    RunSettings,
    TargetChoice,
    cloud_option,
    export_options,
    paths_argument,
    prune_option,
    recursive_option,
    run_options,
    target_options,
)
from reconciler.targets import Target, TargetPlan, combined_exit, select_targets

if TYPE_CHECKING:
    from reconciler.executor import ActionResult, ProgressFactory
    from reconciler.fleet import Fleet
    from reconciler.plan import Plan

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_BUG = 0, 1, 2, 3


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print: every line the command prints goes through here, so none shows a credential."""
    click.echo(redact_text(text), err=err, nl=nl)


def _style(text: str, colour: str) -> str:
    return click.style(text, fg=colour)


def _selected(catalog: Catalog, choice: TargetChoice) -> tuple[tuple[Target, Catalog], ...]:
    return select_targets(catalog, choice.clouds, choice.names, os.environ.get("OS_CLOUD"))


def _over_targets(catalog: Catalog, selected: Sequence[object]) -> bool:
    """A run over targets reports (and saves) per target; one over one cloud as it always did."""
    return bool(catalog.targets) or len(selected) > 1


def _single(entry: TargetPlan) -> Plan:
    if entry.plan is None:
        raise GlanceCatalogError(*entry.error)
    return entry.plan


def _save(out: Path, text: str) -> None:
    try:
        out.write_text(redact_text(text), encoding="utf-8")
    except OSError as error:
        raise GlanceCatalogError(f"{out}: cannot save the plan: {error.strerror}") from error


def _saved_fleet(path: Path, choice: TargetChoice, settings: RunSettings) -> tuple[Fleet, bool]:
    """A plan saved by ``plan -o``, each target's checked against the manifests and the
    cloud as they are now (a plan made from anything else is stale and refused); and whether
    it is a plan over targets."""
    from reconciler.fleet import Fleet, check_saved_fleet
    from reconciler.plan_set import PlanSet, read_saved
    from reconciler.runs import check_saved_plan, load_saved_catalog

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="glance-catalog")
def cli() -> None:
    """Keep a Glance image catalog in Git: validate, plan and apply manifests."""


@cli.command()
@paths_argument
@recursive_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    help="text: one line per error; json: objects for CI annotations.",
)
def validate(paths: tuple[Path, ...], recursive: bool, output_format: str) -> int:
    """Check manifests: schema and semantic rules, every error at file:line:column."""
    result = check_catalog(paths, recursive=recursive)
    if output_format == "json":
        echo(
            diagnostics_as_json(result.diagnostics)
            if result.diagnostics
            else '{"valid": true, "errors": []}'
        )
        return EXIT_ERROR if result.diagnostics else EXIT_OK
    if result.catalog is None:
        raise ManifestInvalid(result.diagnostics)
    echo(
        f"OK: catalog '{result.catalog.name}', {len(result.catalog.images)} images in "
        f"{len(result.files)} file(s)."
    )
    return EXIT_OK


@cli.command()
@paths_argument
@recursive_option
@target_options
@prune_option
@run_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
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
    as_json: bool,
    out: Path | None,
    detailed_exitcode: bool,
) -> int:
    """Show what apply would change in Glance, without changing anything."""
    from reconciler.fleet import plan_fleet
    from reconciler.plan_set import PlanSet
    from reconciler.render import render_plan
    from reconciler.render_targets import render_target_plans

    catalog = load_catalog(paths, recursive=recursive)
    selected = _selected(catalog, choice)
    with plan_fleet(selected, prune, settings, choice.parallel) as fleet:
        entries = fleet.plans
    if _over_targets(catalog, selected):
        plan_set = PlanSet(catalog.name, tuple(entries))
        echo(plan_set.to_json() if as_json else render_target_plans(entries, _style), nl=False)
        if out is not None and plan_set.complete:
            _save(out, plan_set.to_json())
            if not as_json:
                echo(f"Saved the plan to {out}; apply it with: glance-catalog apply {out}")
        elif out is not None:
            echo(f"The plan was not saved to {out}: a target failed.", err=True)
        changed = [entry.plan is not None and entry.plan.has_changes for entry in entries]
        code = combined_exit([entry.failed for entry in entries], changed)
        return code if detailed_exitcode or code != EXIT_CHANGES else EXIT_OK
    the_plan = _single(entries[0])
    echo(the_plan.to_json() if as_json else render_plan(the_plan, _style), nl=False)
    if the_plan.conflicts:
        return EXIT_ERROR
    if out is not None:
        _save(out, the_plan.to_json())
        if not as_json:
            echo(f"Saved the plan to {out}; apply it with: glance-catalog apply {out}")
    return EXIT_CHANGES if detailed_exitcode and the_plan.has_changes else EXIT_OK


@cli.command()
@paths_argument
@recursive_option
@target_options
@prune_option
@click.option(
    "--max-delete",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    metavar="N",
    help="Refuse to apply a plan that deletes more than N images (in each target).",
)
@run_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option(
    "-q", "--quiet", is_flag=True, help="No progress and no step lines: only the outcome."
)
def apply(
    paths: tuple[Path, ...],
    recursive: bool,
    choice: TargetChoice,
    prune: bool,
    max_delete: int,
    settings: RunSettings,
    auto_approve: bool,
    quiet: bool,
) -> int:
    """Change Glance to match the manifests, or apply a plan saved with plan -o FILE.json."""
    from reconciler.fleet import plan_fleet

    saved = len(paths) == 1 and paths[0].suffix == ".json"
    if saved:
        if prune or recursive:
            raise GlanceCatalogError(
                "--prune and --recursive belong to plan; a saved plan is applied as it is"
            )
        fleet, over_targets = _saved_fleet(paths[0], choice, settings)
    else:
        catalog = load_catalog(paths, recursive=recursive)
        selected = _selected(catalog, choice)
        fleet = plan_fleet(selected, prune, settings, choice.parallel)
        over_targets = _over_targets(catalog, selected)
    with fleet:
        # A saved plan was reviewed when it was made, as with terraform apply PLANFILE.
        asking = not auto_approve and not saved
        if over_targets:
            return _apply_targets(fleet, max_delete, settings, choice, asking=asking, quiet=quiet)
        return _apply_one(fleet, max_delete, settings, asking=asking, quiet=quiet)


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise GlanceCatalogError(
            "refusing to apply: standard input is not a terminal; pass --auto-approve"
        )
    answer = click.prompt(
        "Apply these changes? Only 'yes' is accepted", default="", show_default=False
    )
    if answer.strip() != "yes":
        raise GlanceCatalogError("apply cancelled; nothing was changed")


def _apply_one(
    fleet: Fleet, max_delete: int, settings: RunSettings, *, asking: bool, quiet: bool
) -> int:
    from reconciler.console import ApplyConsole
    from reconciler.executor import apply_plan, check_applicable
    from reconciler.render import render_failures, render_plan, render_report, render_result

    entry = fleet.plans[0]
    the_plan = _single(entry)
    if not quiet or the_plan.conflicts or asking:
        echo(render_plan(the_plan, _style), nl=False)
    check_applicable(the_plan, max_delete)
    if not the_plan.has_changes:
        return EXIT_OK
    if asking:
        _confirm()
    with ApplyConsole(terminal=sys.stdout.isatty(), quiet=quiet) as console:

        def report(result: ActionResult) -> None:
            console.line(render_result(result, _style))

        outcome = apply_plan(
            the_plan,
            fleet.gateways[entry.target.name],
            on_result=report,
            max_delete=max_delete,
            parallel=settings.parallel,
            progress=console.upload_progress,
        )
    if quiet and not outcome.ok:
        echo(render_failures(outcome, _style))
    echo(render_report(outcome))
    return EXIT_OK if outcome.ok else EXIT_ERROR


def _apply_targets(
    fleet: Fleet,
    max_delete: int,
    settings: RunSettings,
    choice: TargetChoice,
    *,
    asking: bool,
    quiet: bool,
) -> int:
    from reconciler.console import ApplyConsole
    from reconciler.fleet import apply_fleet, data_sources
    from reconciler.render import render_result
    from reconciler.render_targets import render_target_applies, render_target_plans

    entries = fleet.plans
    if not quiet or asking or any(entry.failed for entry in entries):
        echo(render_target_plans(entries, _style), nl=False)
    if not any(entry.plan is not None and entry.plan.has_changes for entry in entries):
        return combined_exit([entry.failed for entry in entries], [])
    if asking:
        _confirm()
    with ApplyConsole(terminal=sys.stdout.isatty(), quiet=quiet) as console:

        def report(target: Target, result: ActionResult) -> None:
            console.line(f"[{target.name}] {render_result(result, _style)}")

        def progress(target: Target) -> ProgressFactory:
            return lambda image: console.upload_progress(f"[{target.name}] {image}")

        applies = apply_fleet(
            fleet, max_delete, settings, report, progress, choice.parallel, data_sources(fleet)
        )
    echo(render_target_applies(applies, _style), nl=False)
    return combined_exit([entry.failed for entry in applies], [])


@cli.command()
@paths_argument
@recursive_option
@target_options
@prune_option
@run_options
@click.option("--json", "as_json", is_flag=True, help="Print the drift report as JSON.")
def drift(
    paths: tuple[Path, ...],
    recursive: bool,
    choice: TargetChoice,
    prune: bool,
    settings: RunSettings,
    as_json: bool,
) -> int:
    """Check whether Glance matches the manifests: exit 0 in sync, 2 drifted, 1 error."""
    from reconciler.fleet import plan_fleet
    from reconciler.render import drift_report, render_drift
    from reconciler.render_targets import render_target_drift, target_drift_json

    catalog = load_catalog(paths, recursive=recursive)
    selected = _selected(catalog, choice)
    with plan_fleet(selected, prune, settings, choice.parallel) as fleet:
        entries = fleet.plans
    if _over_targets(catalog, selected):
        text = target_drift_json(catalog.name, entries) if as_json else None
        echo(text or render_target_drift(entries, _style), nl=False)
        changed = [entry.plan is not None and entry.plan.has_changes for entry in entries]
        return combined_exit([entry.failed for entry in entries], changed)
    the_plan = _single(entries[0])
    echo(drift_report(the_plan) if as_json else render_drift(the_plan, _style), nl=False)
    if the_plan.conflicts:
        return EXIT_ERROR
    return EXIT_CHANGES if the_plan.has_changes else EXIT_OK


@cli.command("update-versions")
@paths_argument
@recursive_option
@run_options
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when versions were added.")
def update_versions(
    paths: tuple[Path, ...], recursive: bool, settings: RunSettings, detailed_exitcode: bool
) -> int:
    """Add each tracked image's newest upstream build to its manifest as a new version."""
    from reconciler.update_versions import update_manifests

    added = update_manifests(paths, recursive=recursive, timeout=settings.timeout)
    for line in added or ["Every tracked image declares its newest upstream build."]:
        echo(line)
    return EXIT_CHANGES if detailed_exitcode and added else EXIT_OK


@cli.command()
@cloud_option
@export_options
@run_options
def export(clouds: tuple[str, ...], request: ExportRequest, settings: RunSettings) -> int:
    """Write a manifest that adopts the project's existing images: start a catalog. With
    several --cloud, one folder of --out-dir per cloud."""
    from reconciler.export_run import run_export

    chosen = list(dict.fromkeys(clouds)) or [os.environ.get("OS_CLOUD", "")]
    if not chosen[0]:
        raise GlanceCatalogError(
            "no cloud selected: pass --cloud NAME or set OS_CLOUD (a clouds.yaml entry)"
        )
    if len(chosen) > 1 and (request.out_dir is None or request.region is not None):
        raise GlanceCatalogError(
            "export of several clouds writes a folder per cloud: give --out-dir DIR (and no "
            "--region)"
        )
    failed = False
    for cloud in chosen:
        each = request
        if len(chosen) > 1 and request.out_dir is not None:
            each = replace(request, out_dir=request.out_dir / cloud)
        try:
            outcome = run_export(cloud, each, settings)
        except GlanceCatalogError as error:
            if len(chosen) == 1:
                raise
            failed = True
            for line in error.lines:
                echo(one_line(line), err=True)
            continue
        for note in outcome.notes:
            echo(note, err=True)
        if outcome.text is not None:
            echo(outcome.text, nl=False)
        echo(outcome.summary, err=True)
    return EXIT_ERROR if failed else EXIT_OK


def _log_crash() -> str:
    """The traceback in a file only its owner can read (mkstemp makes it 0600), redacted."""
    handle, path = tempfile.mkstemp(prefix="glance-catalog-crash-", suffix=".log")
    with os.fdopen(handle, "w") as log:
        log.write(redact_text(traceback.format_exc()))
    return path


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def _quiet_libraries() -> None:
    """Libraries' own warnings (keystoneauth, urllib3) reach stderr redacted, errors only."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter("%(name)s: %(message)s"))
    handler.setLevel(logging.ERROR)
    logging.getLogger().addHandler(handler)


def main(argv: list[str] | None = None) -> None:
    _quiet_libraries()
    warnings.filterwarnings("ignore", module=r"openstack(\..*)?")
    warnings.filterwarnings("ignore", message=r".*RemovedInSDK50Warning.*")
    try:
        code = cli.main(args=argv, prog_name="glance-catalog", standalone_mode=False)
    except click.exceptions.Abort:
        echo(
            "interrupted: steps already running were finished, no further step was started",
            err=True,
        )
        code = EXIT_ERROR
    except click.ClickException as error:
        error.show()
        code = EXIT_ERROR
    except GlanceCatalogError as error:
        for line in error.lines:
            echo(one_line(line), err=True)
        code = EXIT_ERROR
    except Exception as error:  # the last line of defence: never a bare traceback
        echo(
            f"unexpected error: {type(error).__name__}: {error}; traceback in {_log_crash()}",
            err=True,
        )
        code = EXIT_BUG
    sys.exit(code if isinstance(code, int) else EXIT_OK)
