"""The glance-catalog command: validate, plan, apply. The only module that prints.

Exit codes: 0 success (no changes), 1 expected error (bad input, cloud refused, apply failed),
2 changes present (plan --detailed-exitcode), 3 unexpected error (a bug: traceback logged).
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import click

from catalog.diagnostics import ManifestInvalid, diagnostics_as_json, one_line
from catalog.errors import GlanceCatalogError
from catalog.load import check_catalog, load_catalog
from catalog.model import Catalog

if TYPE_CHECKING:
    from reconciler.executor import ActionResult
    from reconciler.gateway import GlanceGateway
    from reconciler.plan import Plan

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_BUG = 0, 1, 2, 3

paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
recursive_option = click.option(
    "-r", "--recursive", is_flag=True, help="Also read manifests in subfolders of PATH folders."
)
cloud_option = click.option(
    "--cloud",
    envvar="OS_CLOUD",
    metavar="NAME",
    help="clouds.yaml entry to use (default: $OS_CLOUD).",
)


def _style(text: str, colour: str) -> str:
    return click.style(text, fg=colour)


def _select_cloud(cloud: str | None) -> str:
    if not cloud:
        raise GlanceCatalogError(
            "no cloud selected: pass --cloud NAME or set OS_CLOUD (a clouds.yaml entry)"
        )
    return cloud


def _plan(catalog: Catalog, cloud: str) -> tuple[Plan, GlanceGateway]:
    # Imported here: validate needs neither openstack nor the planner, and starts faster.
    from reconciler.gateway import GlanceGateway
    from reconciler.planner import make_plan

    gateway = GlanceGateway(cloud)
    return make_plan(catalog, gateway.snapshot()), gateway


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
        click.echo(
            diagnostics_as_json(result.diagnostics)
            if result.diagnostics
            else '{"valid": true, "errors": []}'
        )
        return EXIT_ERROR if result.diagnostics else EXIT_OK
    if result.catalog is None:
        raise ManifestInvalid(result.diagnostics)
    click.echo(
        f"OK: catalog '{result.catalog.name}', {len(result.catalog.images)} images in "
        f"{len(result.files)} file(s)."
    )
    return EXIT_OK


@cli.command()
@paths_argument
@recursive_option
@cloud_option
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when the plan has changes, 0 when it has none.",
)
def plan(
    paths: tuple[Path, ...],
    recursive: bool,
    cloud: str | None,
    as_json: bool,
    detailed_exitcode: bool,
) -> int:
    """Show what apply would change in Glance, without changing anything."""
    from reconciler.render import render_plan

    catalog = load_catalog(paths, recursive=recursive)
    the_plan, _ = _plan(catalog, _select_cloud(cloud))
    click.echo(the_plan.to_json() if as_json else render_plan(the_plan, _style), nl=False)
    if the_plan.conflicts:
        return EXIT_ERROR
    return EXIT_CHANGES if detailed_exitcode and the_plan.has_changes else EXIT_OK


@cli.command()
@paths_argument
@recursive_option
@cloud_option
@click.option("--auto-approve", is_flag=True, help="Apply without asking for confirmation.")
def apply(paths: tuple[Path, ...], recursive: bool, cloud: str | None, auto_approve: bool) -> int:
    """Change Glance to match the manifests."""
    from reconciler.executor import apply_plan
    from reconciler.render import render_plan, render_report, render_result

    catalog = load_catalog(paths, recursive=recursive)
    the_plan, gateway = _plan(catalog, _select_cloud(cloud))
    click.echo(render_plan(the_plan, _style), nl=False)
    if the_plan.conflicts:
        raise GlanceCatalogError("the plan has conflicts; nothing was changed")
    if not the_plan.has_changes:
        return EXIT_OK
    if not auto_approve:
        if not sys.stdin.isatty():
            raise GlanceCatalogError(
                "refusing to apply: standard input is not a terminal; pass --auto-approve"
            )
        answer = click.prompt(
            "Apply these changes? Only 'yes' is accepted", default="", show_default=False
        )
        if answer.strip() != "yes":
            raise GlanceCatalogError("apply cancelled; nothing was changed")

    def report(result: ActionResult) -> None:
        click.echo(render_result(result, _style))

    outcome = apply_plan(the_plan, gateway, on_result=report)
    click.echo(render_report(outcome))
    return EXIT_OK if outcome.ok else EXIT_ERROR


def _log_crash() -> str:
    handle, path = tempfile.mkstemp(prefix="glance-catalog-crash-", suffix=".log")
    with os.fdopen(handle, "w") as log:
        traceback.print_exc(file=log)
    return path


def main(argv: list[str] | None = None) -> None:
    warnings.filterwarnings("ignore", module=r"openstack(\..*)?")
    warnings.filterwarnings("ignore", message=r".*RemovedInSDK50Warning.*")
    try:
        code = cli.main(args=argv, prog_name="glance-catalog", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted; nothing more was changed", err=True)
        code = EXIT_ERROR
    except click.ClickException as error:
        error.show()
        code = EXIT_ERROR
    except GlanceCatalogError as error:
        for line in error.lines:
            click.echo(one_line(line), err=True)
        code = EXIT_ERROR
    except Exception as error:  # the last line of defence: never a bare traceback
        click.echo(
            f"unexpected error: {type(error).__name__}: {error}; traceback in {_log_crash()}",
            err=True,
        )
        code = EXIT_BUG
    sys.exit(code if isinstance(code, int) else EXIT_OK)
