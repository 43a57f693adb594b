"""The command group and the one way the CLI prints. Exit codes: 0 success (no changes), 1
expected error (bad input, cloud refused, apply failed, stale plan), 2 changes present (plan
--detailed-exitcode, drift), 3 unexpected error (a bug: traceback logged)."""

from __future__ import annotations

import click

from catalog.secrets import redact_text

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_BUG = 0, 1, 2, 3


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print: every line the command prints goes through here, so none shows a credential."""
    click.echo(redact_text(text), err=err, nl=nl)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="glance-catalog")
def cli() -> None:
    """Keep a Glance image catalog in Git: validate, plan and apply manifests."""
