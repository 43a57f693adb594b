"""The glance-catalog command: validate, plan, apply, drift, export, update-versions. Only
this package prints (through ``app.echo``, which redacts every line)."""

from __future__ import annotations

import sys
import warnings

import click

from catalog.diagnostics import one_line
from catalog.errors import GlanceCatalogError
from reconciler.cli import manifests, runs
from reconciler.cli.app import EXIT_BUG, EXIT_ERROR, EXIT_OK, cli, echo
from reconciler.cli.crashlog import log_crash, quiet_libraries

__all__ = ["cli", "main", "manifests", "runs"]


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
