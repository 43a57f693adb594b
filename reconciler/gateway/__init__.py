"""The only package that talks to the cloud (through openstacksdk's authenticated session).

GlanceGateway reads a Snapshot in a few paginated requests (members of shared images read
concurrently) and performs one API call per action kind; ``session`` holds the connection and
the retry rules, ``transfer`` moves image data.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from catalog.model import ImageSource
from reconciler.actions import FieldChange
from reconciler.errors import CloudError
from reconciler.gateway import transfer
from reconciler.gateway.session import JSON_PATCH, CloudSession, glance_message
from reconciler.glance_patch import create_body, json_patch
from reconciler.observed import ObservedImage, Snapshot
from reconciler.sources import ByteProgress

PAGE_SIZE = 1000
READ_CONCURRENCY = 4
# Keystone ids are uuid4 hex; some deployments use dashed UUIDs.
PROJECT_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")


class GlanceGateway:
    """One authenticated session to one cloud's Glance, for one project."""

    def __init__(self, cloud: str, *, concurrency: int = READ_CONCURRENCY) -> None:
        self.cloud = cloud
        self._session = CloudSession(cloud)
        self.project_id = self._session.project_id
        self._concurrency = max(1, concurrency)
        self._peers: dict[str, GlanceGateway] = {}
        self._peers_lock = threading.Lock()

    def close(self) -> None:
        for peer in self._peers.values():
            peer.close()
        self._session.close()

    # Reading

    def _list(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        url: str | None = "/images"
        query: dict[str, Any] | None = {**params, "limit": PAGE_SIZE}
        while url:
            response = self._session.glance(
                "GET", url, params=query, expect=(200,), what="listing images", retry=True
            )
            body = response.json()
            yield from body.get("images", [])
            next_link = body.get("next")
            url = next_link.removeprefix("/v2") if next_link else None
            query = None

    def snapshot(
        self,
        marker: str | None = None,
        projects: Iterable[str] = (),
        names: Iterable[str] = (),
        ids: Iterable[str] = (),
    ) -> Snapshot:
        """Every image the project owns, hidden ones included; the members of its shared images
        that carry ``marker`` or have one of ``names`` or ``ids`` (all shared images without a
        marker), read concurrently; and the id of every project in ``projects`` (names or ids).
        """
        wanted_names, wanted_ids = frozenset(names), frozenset(ids)
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
            and (
                marker is None
                or marker in (body.get("tags") or ())
                or body.get("name") in wanted_names
                or image_id in wanted_ids
            )
        ]
        with ThreadPoolExecutor(max_workers=self._concurrency) as pool:
            members = dict(zip(shared, pool.map(self.members, shared), strict=True))
        images = tuple(
            ObservedImage.from_glance(found[image_id], members.get(image_id))
            for image_id in sorted(found)
        )
        return Snapshot(self.cloud, self.project_id, images, resolved)

    def members(self, image_id: str) -> dict[str, str]:
        """Project id -> membership status (pending, accepted, rejected) of one shared image."""
        response = self._session.glance(
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
        by_name = self._session.keystone(
            "/projects", f"member project '{reference}'", params={"name": reference}
        )
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
                f"{glance_message(by_name)}"
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
            by_id = self._session.keystone(
                f"/projects/{reference}", f"member project '{reference}'"
            )
            if by_id.status_code in (200, 403):
                return reference
        raise CloudError(f"member project '{reference}' does not exist in Keystone")

    # Writing: one method per action kind

    def reserve(self, changes: Iterable[FieldChange]) -> str:
        body = create_body(changes)
        what = f"creating image '{body.get('name')}'"
        response = self._session.glance("POST", "/images", json=body, expect=(201, 409), what=what)
        if response.status_code == 409:
            reason = glance_message(response)
            if "id" in body:
                reason = (
                    f"Glance refuses id {body['id']}: an image had it before (Glance keeps the "
                    "ids of deleted images and never gives them out again); choose a new id:"
                )
            raise CloudError(f"{what}: {reason}")
        return str(response.json()["id"])

    def update(self, image_id: str, changes: Iterable[FieldChange]) -> None:
        patch = json_patch(changes)
        self._session.glance(
            "PATCH",
            f"/images/{image_id}",
            data=json.dumps(patch),
            headers={"Content-Type": JSON_PATCH},
            expect=(200,),
            what=f"updating image {image_id}",
            retry=True,
        )

    def deactivate(self, image_id: str) -> None:
        self._session.glance(
            "POST",
            f"/images/{image_id}/actions/deactivate",
            expect=(204,),
            what=f"deactivating image {image_id}",
            retry=True,
        )

    def reactivate(self, image_id: str) -> None:
        self._session.glance(
            "POST",
            f"/images/{image_id}/actions/reactivate",
            expect=(204,),
            what=f"reactivating image {image_id}",
            retry=True,
        )

    def delete(self, image_id: str) -> None:
        self._session.glance(
            "DELETE",
            f"/images/{image_id}",
            expect=(204, 404),  # 404: already gone, as after a retried delete
            what=f"deleting image {image_id}",
            retry=True,
        )

    def add_member(self, image_id: str, member: str) -> None:
        # 409: already a member, which is what was asked.
        self._session.glance(
            "POST",
            f"/images/{image_id}/members",
            json={"member": member},
            expect=(200, 409),
            what=f"adding member {member} to image {image_id}",
            retry=True,
        )

    def remove_member(self, image_id: str, member: str) -> None:
        # 404: not a member any more, which is what was asked.
        self._session.glance(
            "DELETE",
            f"/images/{image_id}/members/{member}",
            expect=(204, 404),
            what=f"removing member {member} from image {image_id}",
            retry=True,
        )

    def accept_member(self, image_id: str, member: str, cloud: str) -> None:
        """Accept as the member project: only it may, so through its own clouds.yaml entry."""
        with self._peers_lock:
            peer = self._peers.get(cloud)
            if peer is None:
                peer = self._peers[cloud] = GlanceGateway(cloud)
        if peer.project_id != member:
            raise CloudError(
                f"accept_with: cloud '{cloud}' is scoped to project {peer.project_id}, "
                f"not to the member {member}"
            )
        peer._session.glance(
            "PUT",
            f"/images/{image_id}/members/{member}",
            json={"status": "accepted"},
            expect=(200,),
            what=f"accepting image {image_id} as {member} with cloud '{cloud}'",
            retry=True,
        )

    def upload(
        self,
        image_id: str,
        image: str,
        source: ImageSource,
        progress: ByteProgress | None = None,
    ) -> int:
        """Stream the source into the image, verified; see transfer.upload."""
        return transfer.upload(self._session, image_id, image, source, progress)

    def web_download(self, image_id: str, image: str, source: ImageSource) -> None:
        """Have Glance pull the URL, verified; see transfer.web_download."""
        transfer.web_download(self._session, image_id, image, source)
