"""Two regions behind one Keystone (the harness's RegionTwo Glance, cloud local-r2), and the
glance-download source: Glance in region two pulls an image's data from region one's Glance
itself, with the user's token; glance-catalog finds the image there, follows the import and
verifies the data."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.support import GlanceProbe
from tests.localcloud import LocalCloud
from tests.localcloud.multistore import ExtraGlance
from tests.localcloud.regions import REGION_TWO, REGION_TWO_CLOUD

pytestmark = pytest.mark.glance


def _image_endpoints(probe: GlanceProbe) -> set[tuple[str, str, str]]:
    """(region, interface, url) of every image endpoint in the token's catalog."""
    catalog: list[dict[str, Any]] = probe.connection.session.auth.get_access(
        probe.connection.session
    ).service_catalog.catalog
    return {
        (endpoint["region_id"], endpoint["interface"], endpoint["url"])
        for service in catalog
        if service["type"] == "image"
        for endpoint in service["endpoints"]
    }


def test_region_two_is_a_glance_of_its_own_in_the_same_keystone(
    local_cloud: LocalCloud, region_two: ExtraGlance
) -> None:
    one, two = GlanceProbe("local"), GlanceProbe(REGION_TWO_CLOUD)
    assert two.project_id == one.project_id
    endpoints = _image_endpoints(one)
    for interface in ("public", "internal"):
        assert ("RegionOne", interface, local_cloud.glance_url) in endpoints
        assert (REGION_TWO, interface, region_two.url) in endpoints
    created = two.create(name="r2-only", disk_format="raw", container_format="bare")
    try:
        assert [image["id"] for image in two.named("r2-only")] == [created["id"]]
        assert one.named("r2-only") == []
        assert {path.name for path in region_two.store_dirs["fs"].parent.iterdir()} >= {
            "glance.sqlite",
            "images-fs",
        }
    finally:
        two.delete(created["id"])
