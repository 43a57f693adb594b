"""The Glance + Keystone release pairs the local cloud can install and run, side by side.

``GLANCE_RELEASE`` (e.g. ``GLANCE_RELEASE=2024.1 make glance-up``, ``make test
GLANCE_RELEASE=2024.1``) selects one; unset, the newest. Each release has its own pinned
constraints file, service venv, run folder, clouds.yaml and default ports, so two releases
can be up at the same time and switching between them reinstalls nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .procs import LocalCloudError

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Release:
    """A release pair. What must hold: ``constraints`` pins glance and keystone at exactly
    ``glance`` and ``keystone`` (tests/harness/test_localcloud_releases.py checks it), and every
    file the harness keeps for a release other than the default carries its ``suffix``."""

    name: str  # the OpenStack series, e.g. "2024.1"
    glance: str
    keystone: str
    constraints: Path
    suffix: str  # "" for the default release; "-2024.1" for the others
    port_offset: int  # added to the default Keystone and Glance ports
    # Whether Glance refuses uploaded data that fails its format safety checks (HTTP 415,
    # "Image failed safety checks"): Glance 29 (2024.2) on; Glance 28 only logs a mismatch.
    refuses_unsafe_data: bool

    @property
    def requirements(self) -> tuple[str, ...]:
        return (f"glance=={self.glance}", f"keystone=={self.keystone}", "gunicorn")


NEWEST = Release(
    name="2026.2",
    glance="33.0.0",
    keystone="30.0.0",
    constraints=HERE / "constraints.txt",
    suffix="",
    port_offset=0,
    refuses_unsafe_data=True,
)
# 2024.1 "Caracal": the oldest release still run by many clouds whose services install and
# run on Python 3.11 (its upper constraints support 3.8 to 3.11).
CARACAL = Release(
    name="2024.1",
    glance="28.2.0",
    keystone="25.0.0",
    constraints=HERE / "constraints-2024.1.txt",
    suffix="-2024.1",
    port_offset=10,
    refuses_unsafe_data=False,
)
RELEASES = {r.name: r for r in (NEWEST, CARACAL)}
ALIASES = {"caracal": CARACAL.name, "newest": NEWEST.name, "": NEWEST.name}


def selected(raw: str | None = None) -> Release:
    """The release ``raw`` names, else ``$GLANCE_RELEASE``, else the newest."""
    text = (os.environ.get("GLANCE_RELEASE", "") if raw is None else raw).strip().lower()
    name = ALIASES.get(text, text)
    try:
        return RELEASES[name]
    except KeyError:
        known = ", ".join(sorted(RELEASES))
        raise LocalCloudError(
            f"GLANCE_RELEASE={text!r} is not a release the harness knows (known: {known})"
        ) from None
