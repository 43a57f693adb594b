"""Fixtures the functional tests against the real local Glance share."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.functional.support import GlanceProbe
from tests.localcloud import LocalCloud


@pytest.fixture
def probe(local_cloud: LocalCloud) -> GlanceProbe:
    """Direct access to the local Glance as the admin project (cloud ``local``)."""
    return GlanceProbe("local")


@pytest.fixture
def catalog_name(probe: GlanceProbe) -> Iterator[str]:
    """A catalog name unique to one test; every image carrying its marker is deleted after."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    yield name
    probe.delete_tagged(f"glance-catalog:{name}")
