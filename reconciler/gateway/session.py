"""One authenticated openstacksdk connection, and Glance and Keystone requests under the run's
retry policy (retry.py) and timeout.

Requests go through the SDK's raw REST adapter with JSON bodies we build ourselves, because the
SDK's image helpers have traps: they stringify values, rewrite tags as index paths, and return
error responses without raising.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable
from typing import Any

import keystoneauth1.adapter
import requests

from catalog.secrets import register_secret
from reconciler.errors import CloudError
from reconciler.gateway.clouds import CLIENT_ERRORS, open_cloud
from reconciler.gateway.features import GlanceApi, parse_versions, version_document_url
from reconciler.gateway.request_failures import failure_reason
from reconciler.retry import API_TRANSIENT, Retrier, parse_retry_after

JSON_PATCH = "application/openstack-images-v2.1-json-patch"
# Seconds without an answer before a request to Glance or Keystone gives up (--timeout).
DEFAULT_TIMEOUT = 60.0
# Glance is taken for gone once this many requests in a row got no answer at all (timed out,
# or refused) and nothing has answered for two timeouts: the run then fails fast instead of
# waiting a timeout per remaining request. Both conditions, so that a Glance that is slow
# under load (several parallel requests timing out while others are answered) is not.
UNANSWERED_LIMIT = 3
# clouds.yaml auth values that must never be printed, whatever library quotes them.
SECRET_AUTH_KEYS = ("password", "application_credential_secret", "token", "passcode", "secret")


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


def _unanswered(reason: str) -> bool:
    return reason == "connection refused" or reason.startswith("no answer within")


class CloudSession:
    """An authenticated session to one cloud, scoped to one project. Every request to Glance
    gives up after ``timeout`` seconds without an answer; ``retrier`` is the run's retry
    policy and budget (shared with every session, source and checksum fetch of the run; None:
    a budget of its own, for a session opened outside a run), authentication's retries
    included."""

    def __init__(
        self,
        cloud: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retrier: Retrier | None = None,
        region: str | None = None,
    ) -> None:
        self.cloud = cloud
        self.region = region
        self.timeout = timeout
        self.retrier = retrier or Retrier()
        opened = open_cloud(cloud, timeout=timeout, region=region, budget=self.retrier.budget)
        self._connection = opened.connection
        auth = getattr(self._connection.config, "auth", None) or {}
        for key in SECRET_AUTH_KEYS:
            if isinstance(auth.get(key), str):
                register_secret(auth[key])
        self.project_id: str = opened.project_id
        self.glance_endpoint = opened.glance_endpoint
        # The region the session's Glance is in: ``region``, else the clouds.yaml entry's.
        self.region_name: str | None = (
            region or self._connection.config.get_region_name("image") or None
        )
        self._unanswered = 0
        self._last_unanswered = ""
        self._last_answer = time.monotonic()
        self._unanswered_lock = threading.Lock()
        self._api: GlanceApi | None = None
        # No retries below ours: keystoneauth would re-send a request on 503/429 (openstacksdk
        # asks for 5 on the image service) or a dropped connection, with a body iterator that
        # is already spent; the Retrier and transfer.py decide what may be tried again.
        self._glance = keystoneauth1.adapter.Adapter(
            session=self._connection.session,
            endpoint_override=self.glance_endpoint,
            connect_retries=0,
            status_code_retries=0,
        )

    def close(self) -> None:
        self._connection.close()

    def api(self) -> GlanceApi:
        """The image API this Glance serves, from its version document (read once)."""
        if self._api is None:
            url = version_document_url(self.glance_endpoint)
            what = "reading Glance's API versions"
            # 300 Multiple Choices is the document's usual answer at the root.
            response = self.glance("GET", url, expect=(200, 300), what=what)
            self._api = parse_versions(self.json(response, what), url)
        return self._api

    def raw(self, method: str, url: str, *, what: str, **kwargs: Any) -> requests.Response:
        """One Glance request and its answer, whatever the status. No answer at all (refused,
        reset, timed out) is a transient CloudError, final once Glance has stopped answering."""
        with self._unanswered_lock:
            silent = time.monotonic() - self._last_answer
            gone = self._unanswered >= UNANSWERED_LIMIT and silent >= 2 * self.timeout
        if gone:
            raise CloudError(
                f"{what}: not sent: Glance at {self.glance_endpoint} stopped answering "
                f"({UNANSWERED_LIMIT} requests in a row: {self._last_unanswered})"
            )
        try:
            response: requests.Response = self._glance.request(
                url, method, raise_exc=False, **kwargs
            )
        except CLIENT_ERRORS as error:
            reason = failure_reason(error, self.timeout)
            if _unanswered(reason):
                with self._unanswered_lock:
                    self._unanswered += 1
                    self._last_unanswered = reason
            raise CloudError(
                f"{what}: Glance at {self.glance_endpoint}: {reason}", transient=True
            ) from error
        with self._unanswered_lock:
            self._unanswered = 0
            self._last_answer = time.monotonic()
        return response

    def http_error(self, what: str, response: requests.Response) -> CloudError:
        """The CloudError for an unexpected answer: transient for 5xx and 429."""
        return CloudError(
            f"{what}: Glance answered HTTP {response.status_code}: {glance_message(response)}",
            transient=response.status_code in API_TRANSIENT,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )

    def glance(
        self,
        method: str,
        url: str,
        *,
        expect: Iterable[int],
        what: str,
        retry: bool = True,
        **kwargs: Any,
    ) -> requests.Response:
        """A Glance request whose status must be in ``expect``. With ``retry`` (only for
        requests that are safe to send again as they are) a transient failure is tried again
        under the run's policy."""
        wanted = frozenset(expect)

        def once() -> requests.Response:
            response = self.raw(method, url, what=what, **kwargs)
            if response.status_code in wanted:
                return response
            raise self.http_error(what, response)

        return self.retrier.run(once) if retry else once()

    def json(self, response: requests.Response, what: str) -> Any:
        """The JSON body of a Glance answer; anything else (an HTML page from a proxy, an
        endpoint that is not Glance) is a CloudError that says so."""
        try:
            return response.json()
        except ValueError as error:
            kind = response.headers.get("Content-Type", "no Content-Type").split(";")[0]
            where = response.url.split("?")[0] if response.url else self.glance_endpoint
            raise CloudError(
                f"{what}: {where} answered HTTP {response.status_code} with {kind}, not "
                "the JSON of an OpenStack API (is the endpoint in clouds.yaml or the catalog "
                "right?)"
            ) from error

    def keystone(self, url: str, what: str, **kwargs: Any) -> requests.Response:
        """A GET to Keystone, as it comes (the caller reads the status); a transient failure
        (no answer, 5xx) is tried again under the run's policy."""

        def once() -> requests.Response:
            try:
                response: requests.Response = self._connection.identity.request(
                    url, "GET", raise_exc=False, **kwargs
                )
            except CLIENT_ERRORS as error:
                raise CloudError(
                    f"{what}: cannot ask Keystone: {failure_reason(error, self.timeout)}",
                    transient=True,
                ) from error
            if response.status_code in API_TRANSIENT:
                raise CloudError(
                    f"{what}: Keystone answered HTTP {response.status_code}: "
                    f"{glance_message(response)}",
                    transient=True,
                    retry_after=parse_retry_after(response.headers.get("Retry-After")),
                )
            return response

        return self.retrier.run(once)
