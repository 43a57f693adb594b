"""The glance-catalog command: validate, plan, apply, drift. The only module that prints.

Exit codes: 0 success (no changes), 1 expected error (bad input, cloud refused, apply failed,
stale plan), 2 changes present (plan --detailed-exitcode, drift), 3 unexpected error (a bug:
traceback logged).
"""

from __future__ import annotations

import contextlib
import sys
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
from reconciler.crashlog import log_crash, quiet_libraries
from reconciler.options import (
    RunSettings,
    auto_approve_option,
    cloud_option,
    max_delete_option,
    paths_argument,
    prune_option,
    quiet_option,
    recursive_option,
    report_options,
    run_options,
)

if TYPE_CHECKING:
    from reconciler.gateway import GlanceGateway
    from reconciler.observed import Snapshot
    from reconciler.plan import Plan
    from reconciler.report.reporter import Reporter
    from reconciler.targets import TargetPlan

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_BUG = 0, 1, 2, 3


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print: every line the command prints goes through here, so none shows a credential."""
    click.echo(redact_text(text), err=err, nl=nl)


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
    cloud: str | None,
    prune: bool,
    settings: RunSettings,
    reporter: Reporter,
    out: Path | None,
    detailed_exitcode: bool,
) -> int:
    """Show what apply would change in Glance, without changing anything."""
    catalog = load_catalog(paths, recursive=recursive)
    the_plan, _ = _plan(catalog, _select_cloud(cloud), prune, settings)
    echo(reporter.plans(one_target(the_plan)), nl=False)
    if the_plan.conflicts:
        return _conflicted(reporter, the_plan)
    if out is not None:
        try:
            out.write_text(redact_text(the_plan.to_json()), encoding="utf-8")
        except OSError as error:
            raise GlanceCatalogError(f"{out}: cannot save the plan: {error.strerror}") from error
        if reporter.output == "text":
            echo(f"Saved the plan to {out}; apply it with: glance-catalog apply {out}")
    return EXIT_CHANGES if detailed_exitcode and the_plan.has_changes else EXIT_OK


def one_target(the_plan: Plan) -> list[TargetPlan]:
    """A run over one cloud is a run over one target named after it."""
    from reconciler.targets import Target, TargetPlan

    return [TargetPlan(Target(the_plan.cloud, the_plan.cloud), the_plan)]


def _conflicted(reporter: Reporter, the_plan: Plan) -> int:
    for line in reporter.stderr_conflicts(one_target(the_plan), terminal=sys.stdout.isatty()):
        echo(one_line(line), err=True)
    return EXIT_ERROR


@cli.command()
@paths_argument
@recursive_option
@cloud_option
@prune_option
@max_delete_option
@run_options
@report_options(formats=False, log=True)
@auto_approve_option
@quiet_option
def apply(
    paths: tuple[Path, ...],
    recursive: bool,
    cloud: str | None,
    prune: bool,
    max_delete: int,
    settings: RunSettings,
    reporter: Reporter,
    auto_approve: bool,
    quiet: bool,
) -> int:
    """Change Glance to match the manifests, or apply a plan saved with plan -o FILE.json."""
    from reconciler.executor import ApplyReport, apply_plan, check_applicable

    saved = len(paths) == 1 and paths[0].suffix == ".json"
    output = reporter.apply_output(echo, quiet=quiet, target=cloud or "")
    with output.errors():
        if reporter.json_log and not auto_approve and not saved:
            raise GlanceCatalogError(
                "--log-format json asks nothing: pass --auto-approve (or apply a saved plan)"
            )
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
        output.plan(the_plan, asking=asking)
        check_applicable(the_plan, max_delete)
        if not the_plan.has_changes:
            output.outcome(ApplyReport(()))
            return EXIT_OK
        # A saved plan was reviewed when it was made, as with terraform apply PLANFILE.
        if asking:
            _confirm()
        with (
            output.live(terminal=sys.stdout.isatty()) as console,
            contextlib.closing(gateway),
        ):
            outcome = apply_plan(
                the_plan,
                gateway,
                on_result=console.step,
                max_delete=max_delete,
                parallel=settings.parallel,
                progress=console.upload_progress,
            )
        output.outcome(outcome)
    return EXIT_OK if outcome.ok else EXIT_ERROR


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


@cli.command()
@paths_argument
@recursive_option
@cloud_option
@prune_option
@run_options
@report_options(formats=True, log=True)
def drift(
    paths: tuple[Path, ...],
    recursive: bool,
    cloud: str | None,
    prune: bool,
    settings: RunSettings,
    reporter: Reporter,
) -> int:
    """Check whether Glance matches the manifests: exit 0 in sync, 2 drifted, 1 error."""
    from reconciler.report.jsonlog import logged_errors

    with logged_errors(reporter.drift_log(echo, cloud or "")):
        catalog = load_catalog(paths, recursive=recursive)
        the_plan, _ = _plan(catalog, _select_cloud(cloud), prune, settings)
    echo(reporter.drifts(one_target(the_plan)), nl=False)
    if the_plan.conflicts:
        return _conflicted(reporter, the_plan)
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


def main(argv: list[str] | None = None) -> None:
    quiet_libraries()
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
            f"unexpected error: {type(error).__name__}: {error}; traceback in {log_crash()}",
            err=True,
        )
        code = EXIT_BUG
    sys.exit(code if isinstance(code, int) else EXIT_OK)
