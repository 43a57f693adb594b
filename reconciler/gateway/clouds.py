"""Opening a cloud: the clouds.yaml entry, authentication, the project scope and the Glance
endpoint, each failure a one-line CloudError that says what to do."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import keystoneauth1.exceptions
import openstack
import openstack.exceptions
import requests

from reconciler.errors import CloudError

CLIENT_ERRORS = (
    keystoneauth1.exceptions.ClientException,
    openstack.exceptions.SDKException,
    requests.RequestException,
)


@dataclass(frozen=True)
class OpenedCloud:
    """An authenticated connection scoped to ``project_id``, and Glance's v2 root URL."""

    connection: Any
    project_id: str
    glance_endpoint: str


def open_cloud(cloud: str, *, timeout: float) -> OpenedCloud:
    """Authenticate with the clouds.yaml entry ``cloud``; every request of the connection
    gives up after ``timeout`` seconds without an answer."""
    try:
        connection = openstack.connect(cloud=cloud, api_timeout=timeout)
        project_id: str | None = connection.current_project_id
    except openstack.exceptions.ConfigException as error:
        raise CloudError(f"cloud '{cloud}': {error}") from error
    except CLIENT_ERRORS as error:
        raise CloudError(f"cloud '{cloud}': cannot authenticate: {error}") from error
    if not project_id:
        raise CloudError(f"cloud '{cloud}': the credentials are not scoped to a project")
    return OpenedCloud(connection, project_id, _glance_v2_endpoint(cloud, connection))


def _glance_v2_endpoint(cloud: str, connection: Any) -> str:
    """Glance's v2 root from clouds.yaml or the catalog. Taken as given rather than through
    openstacksdk's version discovery, which costs a request to Glance on every run."""
    config = connection.config
    try:
        endpoint = config.get_endpoint("image") or connection.session.get_endpoint(
            service_type="image",
            interface=config.get_interface("image"),
            region_name=config.get_region_name("image"),
        )
    except CLIENT_ERRORS as error:
        raise CloudError(f"cloud '{cloud}': no image endpoint: {error}") from error
    if not endpoint:
        raise CloudError(f"cloud '{cloud}': the catalog has no image (Glance) endpoint")
    root = re.sub(r"/v\d+(\.\d+)?/?$", "", str(endpoint).rstrip("/"))
    return f"{root}/v2"
