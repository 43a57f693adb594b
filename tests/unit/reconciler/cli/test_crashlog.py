"""reconciler.cli.crashlog: a crash's traceback goes to a file only its owner reads, redacted;
libraries' log records reach stderr redacted, errors only."""

from __future__ import annotations

import logging
import stat
import tempfile
from pathlib import Path

import pytest

from catalog.secrets import register_secret
from reconciler.cli.crashlog import log_crash, quiet_libraries

SECRET = "crashlog-secret-4f1b2c"


def test_the_crash_log_is_private_and_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    register_secret(SECRET)
    try:
        raise RuntimeError(f"password {SECRET} in a bug")
    except RuntimeError:
        path = Path(log_crash())
    assert path.parent == tmp_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "RuntimeError: password *** in a bug" in text
    assert SECRET not in text


def test_library_records_reach_stderr_redacted_and_only_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    handlers = list(root.handlers)
    register_secret(SECRET)
    # Alone on the root logger: handlers other tests' runs of main() left behind write to
    # streams that are gone.
    root.handlers[:] = []
    try:
        quiet_libraries()
        library = logging.getLogger("keystoneauth.test")
        library.warning("a warning")
        library.error("token %s refused", SECRET)
    finally:
        root.handlers[:] = handlers
    assert capsys.readouterr().err == "keystoneauth.test: token *** refused\n"
