"""reconciler.cli.app: the command group, the exit codes it returns, and the one way the CLI prints,
which redacts every line."""

from __future__ import annotations

import pytest

from catalog.secrets import register_secret
from reconciler.cli.app import cli, echo
from reconciler.core.exit_codes import ExitCode


def test_the_exit_codes_are_those_the_docs_promise() -> None:
    assert (ExitCode.OK, ExitCode.ERROR, ExitCode.CHANGES, ExitCode.BUG) == (0, 1, 2, 3)


def test_the_group_has_every_command() -> None:
    import reconciler.cli  # noqa: F401  (registers the commands on the group)

    assert sorted(cli.commands) == [
        "apply",
        "drift",
        "export",
        "plan",
        "update-versions",
        "validate",
    ]


def test_what_the_cli_prints_is_redacted_on_stdout_and_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    register_secret("app-secret-5d0e77")
    echo("token app-secret-5d0e77 and https://user:pw@127.0.0.1/x?sig=1")
    echo("again app-secret-5d0e77", err=True, nl=False)
    printed = capsys.readouterr()
    assert "app-secret-5d0e77" not in printed.out + printed.err
    assert printed.out.startswith("token *** and ")
    assert "pw" not in printed.out
    assert printed.err == "again ***"
