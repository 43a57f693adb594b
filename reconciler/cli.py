"""The glance-catalog command: validate, plan, apply, drift, export. The only module that prints.

Exit codes: 0 success (no changes), 1 expected error (bad input, cloud refused, apply failed,
stale plan), 2 changes present (plan --detailed-exitcode, drift), 3 unexpected error (a bug:
traceback logged).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import traceback
import warnings
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog.diagnostics import ManifestInvalid, diagnostics_as_json, one_line
from catalog.errors import GlanceCatalogError
from catalog.load import check_catalog, load_catalog
from catalog.model import Catalog, ImageSource, Visibility
from catalog.secrets import redact_text
from reconciler.options import (
    ExportRequest,
    RunSettings,
    cloud_option,
    export_options,
    paths_argument,
    prune_option,
    recursive_option,
    run_options,
)

if TYPE_CHECKING:
    from reconciler.executor import ActionResult
    from reconciler.gateway import GlanceGateway
    from reconciler.observed import Snapshot
    from reconciler.plan import Plan

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_BUG = 0, 1, 2, 3


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print: every line the command prints goes through here, so none shows a credential."""
    click.echo(redact_text(text), err=err, nl=nl)


def _style(text: str, colour: str) -> str:
    return click.style(text, fg=colour)


def _select_cloud(cloud: str | None) -> str:
    if not cloud:
        raise GlanceCatalogError(
            "no cloud selected: pass --cloud NAME or set OS_CLOUD (a clouds.yaml entry)"
        )
    return cloud


def _observe(catalog: Catalog, gateway: GlanceGateway) -> Snapshot:
    projects = {
        member.project
        for image in catalog.images
        if image.visibility is Visibility.SHARED
        for member in image.members
    }
    # Members of unmanaged namesakes too: adopt converges them in the same run.
    names = {image.name for image in catalog.images}
    ids = {image.image_id for image in catalog.images if image.image_id}
    stores = any(image.stores for image in catalog.images)
    return gateway.snapshot(catalog.marker, projects, names, ids, stores=stores)


def _gateway(cloud: str, settings: RunSettings) -> GlanceGateway:
    # Imported here: validate needs neither openstack nor the planner, and starts faster.
    from reconciler.gateway import GlanceGateway

    return GlanceGateway(
        cloud,
        concurrency=settings.parallel,
        timeout=settings.timeout,
        import_timeout=settings.import_timeout,
    )


def _plan(
    catalog: Catalog, cloud: str, prune: bool, settings: RunSettings
) -> tuple[Plan, GlanceGateway]:
    """The plan for the cloud as it is now, with what preflight found as conflicts."""
    from reconciler.planner import make_plan
    from reconciler.preflight import preflight
    from reconciler.resolve import resolve_sources

    catalog = resolve_sources(catalog, settings)
    gateway = _gateway(cloud, settings)
    planned = make_plan(
        catalog, _observe(catalog, gateway), prune=prune, stuck_after=settings.stuck_after
    )
    return preflight(planned, catalog, gateway, settings.parallel), gateway


def _saved_plan(path: Path, cloud: str | None, settings: RunSettings) -> tuple[Plan, GlanceGateway]:
    """A plan saved by ``plan -o``, checked against the manifests and the cloud as they are
    now: a plan made from anything else is stale and refused."""
    from reconciler.checksum_source import stale_checksums
    from reconciler.plan import Plan
    from reconciler.planner import observed_fingerprint
    from reconciler.preflight import preflight
    from reconciler.resolve import resolve_sources

    try:
        saved = Plan.from_json(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise GlanceCatalogError(f"{path}: cannot read the plan: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise GlanceCatalogError(f"{path}: not a glance-catalog plan file (not UTF-8)") from error
    except GlanceCatalogError as error:
        raise GlanceCatalogError(*(f"{path}: {line}" for line in error.lines)) from error
    if cloud and cloud != saved.cloud:
        raise GlanceCatalogError(
            f"{path}: the plan was made for cloud '{saved.cloud}', not '{cloud}'; nothing was "
            "changed"
        )
    catalog = load_catalog(tuple(Path(manifest) for manifest in saved.manifests))
    if catalog.digest != saved.catalog_digest:
        raise GlanceCatalogError(
            f"{path}: plan is stale: the manifests changed since it was made; re-run plan "
            "(nothing was changed)"
        )
    catalog = resolve_sources(catalog, settings)
    if stale := [f"{path}: plan is stale: {why}" for why in stale_checksums(saved, catalog)]:
        raise GlanceCatalogError(*stale)
    gateway = _gateway(saved.cloud, settings)
    if observed_fingerprint(catalog, _observe(catalog, gateway)) != saved.observed_fingerprint:
        raise GlanceCatalogError(
            f"{path}: plan is stale: the images in cloud '{saved.cloud}' changed since it was "
            "made; re-run plan (nothing was changed)"
        )
    # Sources come from the manifests (unchanged, as the digest shows), not from the file:
    # the file holds them redacted.
    actions = tuple(
        replace(action, source=_manifest_source(catalog, action.image, action.version))
        if action.source is not None
        else action
        for action in saved.actions
    )
    return preflight(replace(saved, actions=actions), catalog, gateway, settings.parallel), gateway


def _manifest_source(catalog: Catalog, image: str, version: str | None) -> ImageSource:
    desired = catalog.image(image)
    source = desired.source if desired is not None else None
    if desired is not None and version is not None:
        source = next((v.source for v in desired.versions if v.version == version), None)
    if source is None:
        raise GlanceCatalogError(
            f"image '{image}': the saved plan reads a source the manifests do not give; "
            "re-run plan (nothing was changed)"
        )
    return source


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
@cloud_option
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
    cloud: str | None,
    prune: bool,
    settings: RunSettings,
    as_json: bool,
    out: Path | None,
    detailed_exitcode: bool,
) -> int:
    """Show what apply would change in Glance, without changing anything."""
    from reconciler.render import render_plan

    catalog = load_catalog(paths, recursive=recursive)
    the_plan, _ = _plan(catalog, _select_cloud(cloud), prune, settings)
    echo(the_plan.to_json() if as_json else render_plan(the_plan, _style), nl=False)
    if the_plan.conflicts:
        return EXIT_ERROR
    if out is not None:
        try:
            out.write_text(redact_text(the_plan.to_json()), encoding="utf-8")
        except OSError as error:
            raise GlanceCatalogError(f"{out}: cannot save the plan: {error.strerror}") from error
        if not as_json:
            echo(f"Saved the plan to {out}; apply it with: glance-catalog apply {out}")
    return EXIT_CHANGES if detailed_exitcode and the_plan.has_changes else EXIT_OK


@cli.command()
@paths_argument
@recursive_option
@cloud_option
@prune_option
@click.option(
    "--max-delete",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    metavar="N",
    help="Refuse to apply a plan that deletes more than N images.",
)
@run_options
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
@click.option(
    "-q", "--quiet", is_flag=True, help="No progress and no step lines: only the outcome."
)
def apply(
    paths: tuple[Path, ...],
    recursive: bool,
    cloud: str | None,
    prune: bool,
    max_delete: int,
    settings: RunSettings,
    auto_approve: bool,
    quiet: bool,
) -> int:
    """Change Glance to match the manifests, or apply a plan saved with plan -o FILE.json."""
    from reconciler.console import ApplyConsole
    from reconciler.executor import apply_plan, check_applicable
    from reconciler.render import render_failures, render_plan, render_report, render_result

    saved = len(paths) == 1 and paths[0].suffix == ".json"
    if saved:
        if prune or recursive:
            raise GlanceCatalogError(
                "--prune and --recursive belong to plan; a saved plan is applied as it is"
            )
        the_plan, gateway = _saved_plan(paths[0], cloud, settings)
    else:
        catalog = load_catalog(paths, recursive=recursive)
        the_plan, gateway = _plan(catalog, _select_cloud(cloud), prune, settings)
    asking = not auto_approve and not saved
    if not quiet or the_plan.conflicts or asking:
        echo(render_plan(the_plan, _style), nl=False)
    check_applicable(the_plan, max_delete)
    if not the_plan.has_changes:
        return EXIT_OK
    # A saved plan was reviewed when it was made, as with terraform apply PLANFILE.
    if asking:
        if not sys.stdin.isatty():
            raise GlanceCatalogError(
                "refusing to apply: standard input is not a terminal; pass --auto-approve"
            )
        answer = click.prompt(
            "Apply these changes? Only 'yes' is accepted", default="", show_default=False
        )
        if answer.strip() != "yes":
            raise GlanceCatalogError("apply cancelled; nothing was changed")

    with (
        ApplyConsole(terminal=sys.stdout.isatty(), quiet=quiet) as console,
        contextlib.closing(gateway),
    ):

        def report(result: ActionResult) -> None:
            console.line(render_result(result, _style))

        outcome = apply_plan(
            the_plan,
            gateway,
            on_result=report,
            max_delete=max_delete,
            parallel=settings.parallel,
            progress=console.upload_progress,
        )
    if quiet and not outcome.ok:
        echo(render_failures(outcome, _style))
    echo(render_report(outcome))
    return EXIT_OK if outcome.ok else EXIT_ERROR


@cli.command()
@paths_argument
@recursive_option
@cloud_option
@prune_option
@run_options
@click.option("--json", "as_json", is_flag=True, help="Print the drift report as JSON.")
def drift(
    paths: tuple[Path, ...],
    recursive: bool,
    cloud: str | None,
    prune: bool,
    settings: RunSettings,
    as_json: bool,
) -> int:
    """Check whether Glance matches the manifests: exit 0 in sync, 2 drifted, 1 error."""
    from reconciler.render import drift_report, render_drift

    catalog = load_catalog(paths, recursive=recursive)
    the_plan, _ = _plan(catalog, _select_cloud(cloud), prune, settings)
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
def export(cloud: str | None, request: ExportRequest, settings: RunSettings) -> int:
    """Write a manifest that adopts the project's existing images: start a catalog."""
    from reconciler.export_run import run_export

    outcome = run_export(_select_cloud(cloud), request, settings)
    for note in outcome.notes:
        echo(note, err=True)
    if outcome.text is not None:
        echo(outcome.text, nl=False)
    echo(outcome.summary, err=True)
    return EXIT_OK


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
