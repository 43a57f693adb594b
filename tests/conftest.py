"""Session fixtures: a real local Keystone + Glance on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.localcloud import LocalCloud, ensure_up, stop


@pytest.fixture(scope="session")
def local_cloud() -> Iterator[LocalCloud]:
    """The real Glance on 127.0.0.1, started for this session when it is not already up."""
    cloud = ensure_up()
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(cloud.clouds_yaml)
    try:
        yield cloud
    finally:
        if cloud.started_here:
            stop()
