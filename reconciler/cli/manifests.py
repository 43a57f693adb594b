"""The commands that work on manifests without applying them: validate, update-versions and
export (a manifest started from a live cloud)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click

from catalog.diagnostics import ManifestInvalid, diagnostics_as_json, one_line
from catalog.errors import GlanceCatalogError
from catalog.load import check_catalog
from reconciler.cli.app import cli, echo
from reconciler.cli.options import (
    cloud_option,
    export_options,
    paths_argument,
    recursive_option,
    run_options,
)
from reconciler.core.exit_codes import ExitCode
from reconciler.settings import ExportRequest, RunSettings


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
        return ExitCode.ERROR if result.diagnostics else ExitCode.OK
    if result.catalog is None:
        raise ManifestInvalid(result.diagnostics)
    echo(
        f"OK: catalog '{result.catalog.name}', {len(result.catalog.images)} images in "
        f"{len(result.files)} file(s)."
    )
    return ExitCode.OK


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

    added = update_manifests(paths, settings, recursive=recursive)
    for line in added or ["Every tracked image declares its newest upstream build."]:
        echo(line)
    return ExitCode.CHANGES if detailed_exitcode and added else ExitCode.OK


@cli.command()
@cloud_option
@export_options
@run_options
def export(clouds: tuple[str, ...], request: ExportRequest, settings: RunSettings) -> int:
    """Write a manifest that adopts the project's existing images: start a catalog. With
    several --cloud, one folder of --out-dir per cloud."""
    from reconciler.export.run import run_export
    from reconciler.planning import run_retrier

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
    retrier = run_retrier(settings)
    for cloud in chosen:
        each = request
        if len(chosen) > 1 and request.out_dir is not None:
            each = replace(request, out_dir=request.out_dir / cloud)
        try:
            outcome = run_export(cloud, each, settings, retrier)
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
    return ExitCode.ERROR if failed else ExitCode.OK
