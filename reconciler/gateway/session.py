"""One authenticated openstacksdk connection, and Glance requests with bounded retries.

Requests go through the SDK's raw REST adapter with JSON bodies we build ourselves, because the
SDK's image helpers have traps: they stringify values, rewrite tags as index paths, and return
error responses without raising.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

import keystoneauth1.adapter
import keystoneauth1.exceptions
import openstack
import openstack.exceptions
import requests

from reconciler.errors import CloudError

ATTEMPTS = 3
JSON_PATCH = "application/openstack-images-v2.1-json-patch"
RETRY_BASE_SECONDS = 0.5
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})

CLIENT_ERRORS = (
    keystoneauth1.exceptions.ClientException,
    openstack.exceptions.SDKException,
    requests.RequestException,
)


def backoff(attempt: int) -> None:
    """Sleep before attempt ``attempt + 1``: 0.5 s, 1 s, 2 s, ..."""
    time.sleep(RETRY_BASE_SECONDS * 2 ** (attempt - 1))


def glance_message(response: requests.Response) -> str:
    """The human part of an error answer: JSON message, or the text of an HTML error page."""
    try:
        body = response.json()
    except ValueError:
        # Glance's WSGI errors are small HTML pages: keep the sentence after the heading.
        text = re.sub(r"(?s)<head>.*?</head>|<h1>.*?</h1>|<[^>]+>", " ", response.text)
        text = " ".join(text.split())
        return text[:300] or str(response.reason)
    if isinstance(body, dict):
        for key in ("message", "title", "error"):
            if key in body:
                value = body[key]
                return str(value.get("message", value) if isinstance(value, dict) else value)
    return str(body)[:300]


class CloudSession:
    """An authenticated session to one cloud, scoped to one project."""

    def __init__(self, cloud: str) -> None:
        self.cloud = cloud
        try:
            self._connection = openstack.connect(cloud=cloud)
            project_id: str | None = self._connection.current_project_id
        except openstack.exceptions.ConfigException as error:
            raise CloudError(f"cloud '{cloud}': {error}") from error
        except CLIENT_ERRORS as error:
            raise CloudError(f"cloud '{cloud}': cannot authenticate: {error}") from error
        if not project_id:
            raise CloudError(f"cloud '{cloud}': the credentials are not scoped to a project")
        self.project_id: str = project_id
        # No retries below ours: keystoneauth would re-send a request on 503/429 (openstacksdk
        # asks for 5 on the image service) or a dropped connection, with a body iterator that
        # is already spent; CloudSession.glance and transfer.upload decide what may be retried.
        self._glance = keystoneauth1.adapter.Adapter(
            session=self._connection.session,
            endpoint_override=self._glance_v2_endpoint(),
            connect_retries=0,
            status_code_retries=0,
        )

    def _glance_v2_endpoint(self) -> str:
        """Glance's v2 root from clouds.yaml or the catalog. Taken as given rather than through
        openstacksdk's version discovery, which costs a request to Glance on every run."""
        config = self._connection.config
        try:
            endpoint = config.get_endpoint("image") or self._connection.session.get_endpoint(
                service_type="image",
                interface=config.get_interface("image"),
                region_name=config.get_region_name("image"),
            )
        except CLIENT_ERRORS as error:
            raise CloudError(f"cloud '{self.cloud}': no image endpoint: {error}") from error
        if not endpoint:
            raise CloudError(f"cloud '{self.cloud}': the catalog has no image (Glance) endpoint")
        root = re.sub(r"/v\d+(\.\d+)?/?$", "", str(endpoint).rstrip("/"))
        return f"{root}/v2"

    def close(self) -> None:
        self._connection.close()

    def raw(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One Glance request, as it comes: no status check, no retry."""
        response: requests.Response = self._glance.request(url, method, raise_exc=False, **kwargs)
        return response

    def glance(
        self,
        method: str,
        url: str,
        *,
        expect: Iterable[int],
        what: str,
        retry: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        """A Glance request whose status must be in ``expect``; with ``retry`` (for requests
        that are safe to repeat) connection errors and 5xx answers are retried with backoff."""
        attempts = ATTEMPTS if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                response = self.raw(method, url, **kwargs)
            except CLIENT_ERRORS as error:
                if attempt == attempts:
                    raise CloudError(f"{what}: cannot reach Glance: {error}") from error
            else:
                if response.status_code in expect:
                    return response
                if attempt == attempts or response.status_code not in TRANSIENT_STATUS:
                    raise CloudError(
                        f"{what}: Glance answered HTTP {response.status_code}: "
                        f"{glance_message(response)}"
                    )
            backoff(attempt)
        raise AssertionError("unreachable")

    def keystone(self, url: str, what: str, **kwargs: Any) -> requests.Response:
        """A GET to Keystone, as it comes (the caller reads the status)."""
        try:
            response: requests.Response = self._connection.identity.request(url, "GET", **kwargs)
        except CLIENT_ERRORS as error:
            raise CloudError(f"{what}: cannot ask Keystone: {error}") from error
        return response
