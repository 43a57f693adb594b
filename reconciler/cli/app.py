"""The command group and the one way the CLI prints (exit codes: reconciler.core.exit_codes)."""

from __future__ import annotations

import click

from catalog.secrets import redact_text


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print: every line the command prints goes through here, so none shows a credential."""
    click.echo(redact_text(text), err=err, nl=nl)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="glance-catalog")
def cli() -> None:
    """Keep a Glance image catalog in Git: validate, plan and apply manifests."""
