"""The command-line options plan, apply and drift share, each group passed to its command as
one of the run settings of reconciler/settings.py; the options of export."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
from click.shell_completion import CompletionItem

from catalog.errors import GlanceCatalogError
from reconciler.report.registry import (
    FORMAT_BY_NAME,
    LOG_FORMAT_BY_NAME,
    format_help,
    log_format_help,
)
from reconciler.settings import ExportRequest, RunSettings, TargetChoice

paths_argument = click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
recursive_option = click.option(
    "-r", "--recursive", is_flag=True, help="Also read manifests in subfolders of PATH folders."
)


def complete_cloud_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Shell completion of --cloud: the entry names in the clouds.yaml and secure.yaml a run
    would read (the same search, OS_CLIENT_CONFIG_FILE first; no request is made). None when
    a file is missing, unreadable or broken: completing never fails or prints."""
    try:
        # Imported here: openstacksdk is only needed when completing a cloud name.
        from reconciler.gateway.cloudconfig import check_config_files
        from reconciler.gateway.clouds import config_search

        names = check_config_files("", config_search()).names
    except Exception:
        return []
    return [CompletionItem(name) for name in sorted(names) if name.startswith(incomplete)]


cloud_option = click.option(
    "--cloud",
    "clouds",
    multiple=True,
    metavar="NAME",
    help="clouds.yaml entry to use; repeat for several (default: the manifest's targets, "
    "else $OS_CLOUD). With targets: only those going to NAME.",
    shell_complete=complete_cloud_names,
)


def target_options(command: Callable[..., int]) -> Callable[..., int]:
    """Adds --cloud, --target and --parallel-targets, passed as one ``choice: TargetChoice``
    argument."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        clouds: tuple[str, ...],
        target_names: tuple[str, ...],
        parallel_targets: int,
        **kwargs: Any,
    ) -> int:
        choice = TargetChoice(clouds, target_names, parallel_targets)
        return command(*args, choice=choice, **kwargs)

    options = [
        cloud_option,
        click.option(
            "--target",
            "target_names",
            multiple=True,
            metavar="NAME",
            help="Only this target of the manifest's targets; repeat for several.",
        ),
        click.option(
            "--parallel-targets",
            type=click.IntRange(1, 16),
            default=TargetChoice.parallel,
            show_default=True,
            metavar="N",
            help="Work on up to N targets at a time.",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


# The retries a whole run may spend (RunSettings.retry_budget), lowered by a test runner that
# must see the budget run out quickly; an environment variable, not an option: a user has no
# reason to change it.
RETRY_BUDGET_VARIABLE = "GLANCE_CATALOG_RETRY_BUDGET"


def retry_budget(environ: Mapping[str, str]) -> int:
    """The run's retry budget: RETRY_BUDGET_VARIABLE when set, else the default."""
    value = environ.get(RETRY_BUDGET_VARIABLE, "")
    if not value:
        return RunSettings.retry_budget
    if not value.strip().isdigit():
        raise GlanceCatalogError(
            f"{RETRY_BUDGET_VARIABLE} must be a whole number of retries (0 or more), not {value!r}"
        )
    return int(value)


def run_options(command: Callable[..., int]) -> Callable[..., int]:
    """Adds --parallel, --timeout, --import-timeout and --stuck-after, passed as one
    ``settings: RunSettings`` argument (with the retry budget of RETRY_BUDGET_VARIABLE)."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        parallel: int,
        timeout: float,
        import_timeout: float,
        stuck_after: float,
        **kwargs: Any,
    ) -> int:
        settings = RunSettings(
            parallel, timeout, import_timeout, stuck_after, retry_budget(os.environ)
        )
        return command(*args, settings=settings, **kwargs)

    options = [
        click.option(
            "--parallel",
            type=click.IntRange(1, 16),
            default=RunSettings.parallel,
            show_default=True,
            metavar="N",
            help="Work on up to N images at a time (uploads, imports, member reads).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=1.0),
            default=RunSettings.timeout,
            show_default=True,
            metavar="SECONDS",
            help="Give up on a request to Glance, Keystone or a source after this long "
            "without an answer.",
        ),
        click.option(
            "--import-timeout",
            type=click.FloatRange(min=1.0),
            default=RunSettings.import_timeout,
            show_default=True,
            metavar="SECONDS",
            help="The longest wait for one web-download import, all its tries together.",
        ),
        click.option(
            "--stuck-after",
            type=click.FloatRange(min=0.0),
            default=RunSettings.stuck_after,
            show_default=True,
            metavar="SECONDS",
            help="An image without data that is saving or importing for longer than this "
            "is taken for stuck, deleted and made again.",
        ),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


max_delete_option = click.option(
    "--max-delete",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    metavar="N",
    help="Refuse to apply a plan that deletes more than N images.",
)
auto_approve_option = click.option(
    "--auto-approve", is_flag=True, help="Apply without asking for confirmation."
)
quiet_option = click.option(
    "-q", "--quiet", is_flag=True, help="No progress and no step lines: only the outcome."
)
prune_option = click.option(
    "--prune",
    is_flag=True,
    help="Delete managed images that are no longer in the manifests (as prune: true does).",
)


def export_options(command: Callable[..., int]) -> Callable[..., int]:
    """Adds --region, --catalog, --include, -o/--out, --out-dir and --force, passed as one
    ``request: ExportRequest`` argument."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        region: str | None,
        catalog: str | None,
        include: tuple[str, ...],
        out: Path | None,
        out_dir: Path | None,
        force: bool,
        **kwargs: Any,
    ) -> int:
        if out is not None and out_dir is not None:
            raise click.UsageError("give -o FILE or --out-dir DIR, not both")
        request = ExportRequest(region, catalog, include, out, out_dir, force)
        return command(*args, request=request, **kwargs)

    options = [
        click.option("--region", metavar="REGION", help="Region to read (default: the cloud's)."),
        click.option(
            "--catalog", metavar="NAME", help="Catalog the manifest declares (default: the cloud)."
        ),
        click.option(
            "--include",
            multiple=True,
            metavar="PATTERN",
            help="Only images whose name matches this shell-style pattern (repeatable).",
        ),
        click.option(
            "-o",
            "--out",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the manifest to this file (default: standard output).",
        ),
        click.option(
            "--out-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Write one manifest per image family into this folder.",
        ),
        click.option("--force", is_flag=True, help="Overwrite files that exist."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def report_options(
    *, formats: bool, log: bool
) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Adds the output options, passed as one ``reporter: Reporter`` argument: --no-color and
    -v/--verbose; with ``formats`` --format text|json|markdown and --json (the same as
    --format json); with ``log`` --log-format text|json."""

    def decorate(command: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(command)
        def wrapper(
            *args: Any,
            no_color: bool,
            verbose: bool,
            output_format: str | None = None,
            as_json: bool = False,
            log_format: str = "text",
            **kwargs: Any,
        ) -> int:
            # Imported here: validate starts without the renderers.
            from reconciler.report.reporter import Reporter

            if as_json and output_format not in (None, "json"):
                raise click.UsageError(
                    f"--json is --format json; it cannot go with --format {output_format}"
                )
            chosen = "json" if as_json else output_format or "text"
            if not LOG_FORMAT_BY_NAME[log_format].for_people and chosen != "text":
                raise click.UsageError(
                    f"--log-format {log_format} prints {LOG_FORMAT_BY_NAME[log_format].prints}; "
                    f"it cannot go with --format {chosen}"
                )
            reporter = Reporter.choose(
                output=chosen,
                log=log_format,
                no_color=no_color,
                verbose=verbose,
                terminal=sys.stdout.isatty(),
                environ=os.environ,
            )
            return command(*args, reporter=reporter, **kwargs)

        options = [
            click.option(
                "--no-color",
                is_flag=True,
                help="No colour (as NO_COLOR=1 does); colour is only ever used on a terminal.",
            ),
            click.option(
                "-v",
                "--verbose",
                is_flag=True,
                help="Also show glance-catalog's own bookkeeping changes (glance_catalog_* "
                "properties, the catalog's marker tag).",
            ),
        ]
        if formats:
            options += [
                click.option(
                    "--format",
                    "output_format",
                    type=click.Choice(list(FORMAT_BY_NAME)),
                    default=None,
                    help=format_help(),
                ),
                click.option("--json", "as_json", is_flag=True, help="The same as --format json."),
            ]
        if log:
            options.append(
                click.option(
                    "--log-format",
                    type=click.Choice(list(LOG_FORMAT_BY_NAME)),
                    default="text",
                    show_default=True,
                    help=log_format_help(),
                )
            )
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper

    return decorate
