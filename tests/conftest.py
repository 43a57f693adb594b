"""Session fixtures: a real local Keystone + Glance on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.localcloud import LocalCloud, ensure_up, stop
from tests.localcloud.multistore import MULTI_STORE, ExtraGlance, ensure_glance, stop_glance
from tests.localcloud.regions import ensure_region_two
from tests.signing import SigningKey

# openstacksdk's warnings of its own deprecations, ignored: not every release the tests run with
# has each class (4.0 has no RemovedInSDK60Warning), and pytest refuses a filter naming one it
# cannot import.
OPENSTACK_WARNINGS = (
    "RemovedInSDK50Warning",
    "RemovedInSDK60Warning",
    "OpenStackDeprecationWarning",
)


def pytest_configure(config: pytest.Config) -> None:
    import openstack.warnings

    for name in OPENSTACK_WARNINGS:
        if hasattr(openstack.warnings, name):
            config.addinivalue_line("filterwarnings", f"ignore::openstack.warnings.{name}")


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


@pytest.fixture(scope="session")
def stores_glance(local_cloud: LocalCloud) -> Iterator[ExtraGlance]:
    """A second, multi-store Glance (file stores fast and archive, fast the default) on its
    own port and data folder, behind the same Keystone: the clouds of its ``clouds_yaml``
    reach it. Started for this session when it is not already up; the default Glance the rest
    of the suite uses is untouched."""
    glance = ensure_glance(MULTI_STORE)
    try:
        yield glance
    finally:
        if glance.started_here:
            stop_glance(glance.name)


@pytest.fixture(scope="session")
def single_store_glance(local_cloud: LocalCloud) -> Iterator[ExtraGlance]:
    """A Glance without multi-store backends (its legacy single file store), like
    ``stores_glance`` otherwise."""
    glance = ensure_glance(())
    try:
        yield glance
    finally:
        if glance.started_here:
            stop_glance(glance.name)


@pytest.fixture(scope="session")
def region_two(local_cloud: LocalCloud) -> Iterator[ExtraGlance]:
    """A second region: a Glance listed in the same Keystone as the image service of region
    RegionTwo (the default Glance is RegionOne's), with its own database and file store; cloud
    ``local-r2`` of the default clouds.yaml reaches it. Started for this session when it is
    not already up."""
    glance = ensure_region_two()
    try:
        yield glance
    finally:
        if glance.started_here:
            stop_glance(glance.name)


# The signing keys every test that signs or verifies uses: made once a session (gpg is slow to
# make keys), never changed by a test, each gpg-agent stopped at the end.


@pytest.fixture(scope="session")
def key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigningKey]:
    """The key that signs what the tests trust (release checksum files, signed examples)."""
    made = SigningKey(tmp_path_factory.mktemp("key") / "home", "Release")
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="session")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigningKey]:
    """Another key, which no manifest trusts."""
    made = SigningKey(tmp_path_factory.mktemp("stranger") / "home", "Stranger")
    try:
        yield made
    finally:
        made.close()
