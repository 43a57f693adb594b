"""reconciler.cli: exit codes for expected errors and for bugs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler import cli

# click's words: "No such option '--x'." from click 8.4 on, "No such option: --x" before.
NO_SUCH_OPTION = "No such option(?: '{0}'|: {0})"


def test_an_unexpected_bug_exits_3_and_logs_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli.manifests, "check_catalog", broken)
    with pytest.raises(SystemExit) as exited:
        cli.main(["validate", str(tmp_path)])
    assert exited.value.code == 3
    err = capsys.readouterr().err
    assert err.startswith("unexpected error: RuntimeError: boom; traceback in ")
    log = Path(err.strip().rsplit(" ", 1)[-1])
    assert "Traceback" in log.read_text() and "RuntimeError: boom" in log.read_text()
    log.unlink()


def test_a_usage_error_exits_1_not_clicks_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["plan", "--no-such-option", "x"])
    assert exited.value.code == 1
    assert re.search(NO_SUCH_OPTION.format("--no-such-option"), capsys.readouterr().err)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "--json", "--format", "markdown", "x"], "--json is --format json"),
        (["drift", "--format", "json", "--log-format", "json", "x"], "--log-format json prints"),
        (["apply", "--format", "json", "x"], NO_SUCH_OPTION.format("--format")),
    ],
)
def test_output_options_that_contradict_each_other_are_usage_errors(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(args)
    assert exited.value.code == 1
    assert re.search(message, capsys.readouterr().err)
