"""The exit codes of every command, defined once: what a script or CI job may rely on."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """0 success (no changes), 1 expected error (bad input, cloud refused, apply failed, stale
    plan), 2 changes present (plan --detailed-exitcode, drift, update-versions
    --detailed-exitcode), 3 unexpected error (a bug: traceback logged)."""

    OK = 0
    ERROR = 1
    CHANGES = 2
    BUG = 3
