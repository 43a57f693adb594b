"""The only module that talks to Glance (through openstacksdk's authenticated session).

It reads a Snapshot in a few paginated requests and performs one API call per action kind.
Requests go through the SDK's raw REST adapter with JSON bodies we build ourselves, because the
SDK's image helpers have traps: they stringify values, rewrite tags as index paths, and return
error responses without raising (see shared notes).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import keystoneauth1.exceptions
import openstack
import openstack.exceptions
import requests

from catalog.model import HashAlgorithm, ImageSource
from reconciler.actions import FieldChange
from reconciler.errors import CloudError, SourceError
from reconciler.glance_patch import create_body, json_patch
from reconciler.observed import ObservedImage, Snapshot
from reconciler.sources import open_source

PAGE_SIZE = 1000
READ_CONCURRENCY = 4
# Keystone ids are uuid4 hex; some deployments use dashed UUIDs.
PROJECT_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")
RETRIES = 3
RETRY_BASE_SECONDS = 0.5
TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
JSON_PATCH = "application/openstack-images-v2.1-json-patch"
IMPORT_POLL_SECONDS = 0.5
IMPORT_TIMEOUT_SECONDS = 600.0

_CLIENT_ERRORS = (
    keystoneauth1.exceptions.ClientException,
    openstack.exceptions.SDKException,
    requests.RequestException,
)


def _glance_message(response: requests.Response) -> str:
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


class GlanceGateway:
    """One authenticated session to one cloud's Glance, for one project."""

    def __init__(self, cloud: str) -> None:
        self.cloud = cloud
        try:
            self._connection = openstack.connect(cloud=cloud)
            project_id: str | None = self._connection.current_project_id
        except openstack.exceptions.ConfigException as error:
            raise CloudError(f"cloud '{cloud}': {error}") from error
        except _CLIENT_ERRORS as error:
            raise CloudError(f"cloud '{cloud}': cannot authenticate: {error}") from error
        if not project_id:
            raise CloudError(f"cloud '{cloud}': the credentials are not scoped to a project")
        self.project_id: str = project_id
        self._image = self._connection.image
        self._peers: dict[str, GlanceGateway] = {}

    def close(self) -> None:
        for peer in self._peers.values():
            peer.close()
        self._connection.close()

    def _request(
        self,
        method: str,
        url: str,
        *,
        expect: Iterable[int],
        what: str,
        retry: bool = False,
        **kwargs: Any,
    ) -> requests.Response:
        attempts = RETRIES if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                response: requests.Response = self._image.request(url, method, **kwargs)
            except _CLIENT_ERRORS as error:
                if attempt == attempts:
                    raise CloudError(f"{what}: cannot reach Glance: {error}") from error
            else:
                if response.status_code in expect:
                    return response
                if attempt == attempts or response.status_code not in TRANSIENT_STATUS:
                    raise CloudError(
                        f"{what}: Glance answered HTTP {response.status_code}: "
                        f"{_glance_message(response)}"
                    )
            time.sleep(RETRY_BASE_SECONDS * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    # Reading

    def _list(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        url: str | None = "/images"
        query: dict[str, Any] | None = {**params, "limit": PAGE_SIZE}
        while url:
            response = self._request(
                "GET", url, params=query, expect=(200,), what="listing images", retry=True
            )
            body = response.json()
            yield from body.get("images", [])
            next_link = body.get("next")
            url = next_link.removeprefix("/v2") if next_link else None
            query = None

    def snapshot(self, marker: str | None = None, projects: Iterable[str] = ()) -> Snapshot:
        """Every image the project owns, hidden ones included; the members of its shared images
        that carry ``marker`` (all shared images without one), read concurrently; and the id of
        every project in ``projects`` (names or ids)."""
        resolved = self.resolve_projects(projects)
        found: dict[str, dict[str, Any]] = {}
        for hidden in ("false", "true"):
            for body in self._list({"owner": self.project_id, "os_hidden": hidden}):
                if body.get("owner") == self.project_id:
                    found[body["id"]] = body
        shared = [
            image_id
            for image_id, body in found.items()
            if body.get("visibility") == "shared"
            and (marker is None or marker in (body.get("tags") or ()))
        ]
        with ThreadPoolExecutor(max_workers=READ_CONCURRENCY) as pool:
            members = dict(zip(shared, pool.map(self.members, shared), strict=True))
        images = tuple(
            ObservedImage.from_glance(found[image_id], members.get(image_id))
            for image_id in sorted(found)
        )
        return Snapshot(self.cloud, self.project_id, images, resolved)

    def members(self, image_id: str) -> dict[str, str]:
        """Project id -> membership status (pending, accepted, rejected) of one shared image."""
        response = self._request(
            "GET",
            f"/images/{image_id}/members",
            expect=(200,),
            what=f"reading the members of image {image_id}",
            retry=True,
        )
        return {
            str(member["member_id"]): str(member["status"])
            for member in response.json().get("members", [])
        }

    def resolve_projects(self, references: Iterable[str]) -> dict[str, str]:
        """Project name or id -> id, through Keystone; an unknown project is a CloudError."""
        return {reference: self._project_id(reference) for reference in sorted(set(references))}

    def _project_id(self, reference: str) -> str:
        looks_like_id = PROJECT_ID.fullmatch(reference) is not None
        by_name = self._keystone("/projects", reference, params={"name": reference})
        if by_name.status_code == 403 and looks_like_id:
            return reference
        if by_name.status_code == 403:
            raise CloudError(
                f"member project '{reference}': these credentials may not look projects up by "
                "name in Keystone; give the project id instead"
            )
        if by_name.status_code != 200:
            raise CloudError(
                f"member project '{reference}': Keystone answered HTTP {by_name.status_code}: "
                f"{_glance_message(by_name)}"
            )
        matches = sorted(str(project["id"]) for project in by_name.json().get("projects", []))
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise CloudError(
                f"member project '{reference}': {len(matches)} projects have this name "
                f"({', '.join(matches)}); give the id"
            )
        if looks_like_id:
            by_id = self._keystone(f"/projects/{reference}", reference)
            if by_id.status_code in (200, 403):
                return reference
        raise CloudError(f"member project '{reference}' does not exist in Keystone")

    def _keystone(self, url: str, reference: str, **kwargs: Any) -> requests.Response:
        try:
            response: requests.Response = self._connection.identity.request(url, "GET", **kwargs)
        except _CLIENT_ERRORS as error:
            raise CloudError(
                f"member project '{reference}': cannot ask Keystone: {error}"
            ) from error
        return response

    def show(self, image_id: str) -> dict[str, Any]:
        response = self._request(
            "GET",
            f"/images/{image_id}",
            expect=(200,),
            what=f"reading image {image_id}",
            retry=True,
        )
        body: dict[str, Any] = response.json()
        return body

    # Writing: one method per action kind

    def reserve(self, changes: Iterable[FieldChange]) -> str:
        body = create_body(changes)
        response = self._request(
            "POST", "/images", json=body, expect=(201,), what=f"creating image '{body.get('name')}'"
        )
        return str(response.json()["id"])

    def update(self, image_id: str, changes: Iterable[FieldChange]) -> None:
        patch = json_patch(changes)
        self._request(
            "PATCH",
            f"/images/{image_id}",
            data=json.dumps(patch),
            headers={"Content-Type": JSON_PATCH},
            expect=(200,),
            what=f"updating image {image_id}",
        )

    def deactivate(self, image_id: str) -> None:
        self._request(
            "POST",
            f"/images/{image_id}/actions/deactivate",
            expect=(204,),
            what=f"deactivating image {image_id}",
        )

    def reactivate(self, image_id: str) -> None:
        self._request(
            "POST",
            f"/images/{image_id}/actions/reactivate",
            expect=(204,),
            what=f"reactivating image {image_id}",
        )

    def delete(self, image_id: str) -> None:
        self._request(
            "DELETE", f"/images/{image_id}", expect=(204,), what=f"deleting image {image_id}"
        )

    def add_member(self, image_id: str, member: str) -> None:
        # 409: already a member, which is what was asked.
        self._request(
            "POST",
            f"/images/{image_id}/members",
            json={"member": member},
            expect=(200, 409),
            what=f"adding member {member} to image {image_id}",
        )

    def remove_member(self, image_id: str, member: str) -> None:
        # 404: not a member any more, which is what was asked.
        self._request(
            "DELETE",
            f"/images/{image_id}/members/{member}",
            expect=(204, 404),
            what=f"removing member {member} from image {image_id}",
        )

    def accept_member(self, image_id: str, member: str, cloud: str) -> None:
        """Accept as the member project: only it may, so through its own clouds.yaml entry."""
        peer = self._peers.get(cloud)
        if peer is None:
            peer = self._peers[cloud] = GlanceGateway(cloud)
        if peer.project_id != member:
            raise CloudError(
                f"accept_with: cloud '{cloud}' is scoped to project {peer.project_id}, "
                f"not to the member {member}"
            )
        peer._request(
            "PUT",
            f"/images/{image_id}/members/{member}",
            json={"status": "accepted"},
            expect=(200,),
            what=f"accepting image {image_id} as {member} with cloud '{cloud}'",
        )

    def upload(
        self,
        image_id: str,
        image: str,
        source: ImageSource,
        on_progress: Callable[[int], None] | None = None,
    ) -> int:
        """Stream the source into the image; returns the bytes sent. The image is active and
        holds exactly the verified bytes when this returns."""
        with open_source(source, image, on_progress) as stream:
            try:
                response = self._image.request(
                    f"/images/{image_id}/file",
                    "PUT",
                    data=iter(stream),
                    headers={"Content-Type": "application/octet-stream"},
                    connect_retries=0,
                )
            except (*_CLIENT_ERRORS, SourceError) as error:
                if stream.failure is not None:
                    raise stream.failure from error
                if isinstance(error, SourceError):
                    raise
                raise CloudError(f"image '{image}': upload failed: {error}") from error
            if stream.failure is not None:
                raise stream.failure
            if response.status_code != 204:
                raise CloudError(
                    f"image '{image}': upload answered HTTP "
                    f"{response.status_code}: {_glance_message(response)}"
                )
        self._verify_stored(image_id, image, stream.sha512)
        return stream.size

    def _verify_stored(self, image_id: str, image: str, sha512: str) -> None:
        stored = self.show(image_id)
        if stored.get("status") != "active":
            raise CloudError(f"image '{image}': status is {stored.get('status')} after upload")
        if stored.get("os_hash_algo") == "sha512" and stored.get("os_hash_value") != sha512:
            raise CloudError(
                f"image '{image}': Glance stored sha512 {stored.get('os_hash_value')}"
                f" but we sent {sha512}"
            )

    def web_download(self, image_id: str, image: str, source: ImageSource) -> None:
        """Have Glance pull the URL, wait for the import, and verify the stored bytes."""
        assert source.url is not None
        self._request(
            "POST",
            f"/images/{image_id}/import",
            json={"method": {"name": "web-download", "uri": source.url}},
            expect=(202,),
            what=f"image '{image}': starting web-download",
        )
        deadline = time.monotonic() + IMPORT_TIMEOUT_SECONDS
        while True:
            stored = self.show(image_id)
            status = stored.get("status")
            if status == "active":
                break
            if stored.get("os_glance_failed_import"):
                raise CloudError(
                    f"image '{image}': Glance could not import {source.url} (status {status})"
                )
            if time.monotonic() > deadline:
                raise CloudError(
                    f"image '{image}': import still {status} after {IMPORT_TIMEOUT_SECONDS:.0f} s"
                )
            time.sleep(IMPORT_POLL_SECONDS)
        expected = source.checksum
        if expected is None:
            return
        if expected.algorithm is HashAlgorithm.SHA512 and stored.get("os_hash_algo") == "sha512":
            actual = str(stored.get("os_hash_value"))
        else:
            actual = self._hash_stored(image_id, image, expected.algorithm)
        if actual != expected.hexdigest:
            raise CloudError(
                f"image '{image}': Glance imported data with {expected.algorithm}:"
                f"{actual}, expected {expected}"
            )

    def _hash_stored(self, image_id: str, image: str, algorithm: HashAlgorithm) -> str:
        digest = hashlib.new(algorithm.value)
        response = self._request(
            "GET",
            f"/images/{image_id}/file",
            expect=(200,),
            stream=True,
            what=f"image '{image}': reading back data",
        )
        with response:
            for chunk in response.iter_content(1024 * 1024):
                digest.update(chunk)
        return digest.hexdigest()
