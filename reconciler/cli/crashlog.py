"""What the CLI does with a crash (a bug) and with libraries' own log records: both reach
only the user, redacted."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import traceback

from catalog.secrets import redact_text


def log_crash() -> str:
    """The traceback in a file only its owner can read (mkstemp makes it 0600), redacted."""
    handle, path = tempfile.mkstemp(prefix="glance-catalog-crash-", suffix=".log")
    with os.fdopen(handle, "w") as log:
        log.write(redact_text(traceback.format_exc()))
    return path


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def quiet_libraries() -> None:
    """Libraries' own warnings (keystoneauth, urllib3) reach stderr redacted, errors only."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter("%(name)s: %(message)s"))
    handler.setLevel(logging.ERROR)
    logging.getLogger().addHandler(handler)
