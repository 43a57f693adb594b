"""The glance-catalog command: validate, plan, apply, drift, export, update-versions. Only
this package prints (through ``app.echo``, which redacts every line)."""

from __future__ import annotations

import sys
import warnings

import click

from catalog.diagnostics import one_line
from catalog.errors import GlanceCatalogError
from reconciler.cli import manifests, reconcile
from reconciler.cli.app import cli, echo
from reconciler.cli.crashlog import log_crash, quiet_libraries
from reconciler.core.exit_codes import ExitCode

__all__ = ["cli", "main", "manifests", "reconcile"]


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
        code = ExitCode.ERROR
    except click.ClickException as error:
        error.show()
        code = ExitCode.ERROR
    except GlanceCatalogError as error:
        for line in error.lines:
            echo(one_line(line), err=True)
        code = ExitCode.ERROR
    except Exception as error:  # the last line of defence: never a bare traceback
        echo(
            f"unexpected error: {type(error).__name__}: {error}; traceback in {log_crash()}",
            err=True,
        )
        code = ExitCode.BUG
    sys.exit(int(code) if isinstance(code, int) else ExitCode.OK.value)
