"""The only package that talks to the cloud (through openstacksdk's authenticated session).

GlanceGateway reads a Snapshot in a few paginated requests (members of shared images read
concurrently) and performs one API call per action kind; ``session`` holds the connection and
the retry rules, ``transfer`` moves image data, ``imports`` follows Glance's imports and
``stores`` copies data between Glance's stores and removes it from them.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from catalog.model import ImageSource
from reconciler.actions import FieldChange
from reconciler.errors import CloudError, SourceError, UnresolvedProject
from reconciler.gateway import stores as multistore
from reconciler.gateway import transfer
from reconciler.gateway.imports import IMPORT_TIMEOUT_SECONDS, show
from reconciler.gateway.retry import Retrier
from reconciler.gateway.session import DEFAULT_TIMEOUT, JSON_PATCH, CloudSession, glance_message
from reconciler.glance_patch import create_body, json_patch, patch_against
from reconciler.observed import (
    BASE_KEYS,
    RETIRE_REFUSED_PROPERTY,
    SOURCE_PROPERTY,
    ObservedImage,
    Snapshot,
)
from reconciler.sources import ByteProgress, probe_source

PAGE_SIZE = 1000
# Base keys a recreated image takes over from the one it replaces.
CLONED_KEYS = frozenset(
    {
        "name",
        "visibility",
        "protected",
        "os_hidden",
        "min_ram",
        "min_disk",
        "disk_format",
        "container_format",
        "tags",
    }
)
READ_CONCURRENCY = 4
# Keystone ids are uuid4 hex; some deployments use dashed UUIDs.
PROJECT_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")


class GlanceGateway:
    """One authenticated session to one cloud's Glance, for one project."""

    def __init__(
        self,
        cloud: str,
        *,
        concurrency: int = READ_CONCURRENCY,
        timeout: float = DEFAULT_TIMEOUT,
        import_timeout: float = IMPORT_TIMEOUT_SECONDS,
        retrier: Retrier | None = None,
        region: str | None = None,
    ) -> None:
        self.cloud = cloud
        self.region = region
        self.timeout = timeout
        self.import_timeout = import_timeout
        self._session = CloudSession(cloud, timeout=timeout, retrier=retrier, region=region)
        self.retrier = self._session.retrier
        self.project_id = self._session.project_id
        self._concurrency = max(1, concurrency)
        self._peers: dict[str, GlanceGateway] = {}
        self._peers_lock = threading.Lock()
        self._copy_problem: tuple[str | None] | None = None

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
                "GET", url, params=query, expect=(200,), what="listing images"
            )
            body = self._session.json(response, "listing images")
            if not isinstance(body, dict) or not isinstance(body.get("images"), list):
                raise CloudError(
                    f"listing images: {self._session.glance_endpoint} answered JSON without "
                    "an image list: is it really Glance?"
                )
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
        stores: bool = False,
    ) -> Snapshot:
        """Every image the project owns, hidden ones included; the members of its shared images
        that carry ``marker`` or have one of ``names`` or ``ids`` (all shared images without a
        marker), read concurrently; the id of every project in ``projects`` (names or ids);
        with ``stores``, the stores Glance offers.
        """
        wanted_names, wanted_ids = frozenset(names), frozenset(ids)
        resolved, unresolved = self.lookup_projects(projects)
        offered = multistore.offered_stores(self._session) if stores else ()
        taken_at = time.time()
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
        return Snapshot(
            self.cloud, self.project_id, images, resolved, taken_at, offered, unresolved
        )

    def members(self, image_id: str) -> dict[str, str]:
        """Project id -> membership status (pending, accepted, rejected) of one shared image."""
        what = f"reading the members of image {image_id}"
        response = self._session.glance(
            "GET", f"/images/{image_id}/members", expect=(200,), what=what
        )
        body = self._session.json(response, what)
        return {
            str(member["member_id"]): str(member["status"])
            for member in (body.get("members", []) if isinstance(body, dict) else [])
        }

    def resolve_projects(self, references: Iterable[str]) -> dict[str, str]:
        """Project name or id -> id, through Keystone; an unknown project is a CloudError."""
        resolved, unresolved = self.lookup_projects(references)
        if unresolved:
            raise CloudError(*(why for _, why in sorted(unresolved.items())))
        return resolved

    def lookup_projects(self, references: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
        """(project name or id -> id, reference -> why it names no single project: it does
        not exist, several have the name, or these credentials cannot look names up). The
        planner makes each unresolved member a conflict at its manifest entry; Keystone
        failing to answer is still a CloudError."""
        resolved: dict[str, str] = {}
        unresolved: dict[str, str] = {}
        for reference in sorted(set(references)):
            try:
                resolved[reference] = self._project_id(reference)
            except UnresolvedProject as error:
                unresolved[reference] = " ".join(error.lines)
        return resolved, unresolved

    def _project_id(self, reference: str) -> str:
        looks_like_id = PROJECT_ID.fullmatch(reference) is not None
        by_name = self._session.keystone(
            "/projects", f"member project '{reference}'", params={"name": reference}
        )
        if by_name.status_code == 403 and looks_like_id:
            return reference
        if by_name.status_code == 403:
            raise UnresolvedProject(
                f"member project '{reference}': these credentials may not look projects up by "
                "name in Keystone; give the project id instead"
            )
        if by_name.status_code != 200:
            raise CloudError(
                f"member project '{reference}': Keystone answered HTTP {by_name.status_code}: "
                f"{glance_message(by_name)}"
            )
        body = self._session.json(by_name, f"member project '{reference}'")
        listed = body.get("projects", []) if isinstance(body, dict) else []
        matches = sorted(str(project["id"]) for project in listed)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UnresolvedProject(
                f"member project '{reference}': {len(matches)} projects have this name "
                f"({', '.join(matches)}); give the id"
            )
        if looks_like_id:
            by_id = self._session.keystone(
                f"/projects/{reference}", f"member project '{reference}'"
            )
            if by_id.status_code in (200, 403):
                return reference
        raise UnresolvedProject(f"member project '{reference}' does not exist in Keystone")

    # Writing: one method per action kind

    def reserve(self, changes: Iterable[FieldChange]) -> str:
        """Create the image with exactly these fields, under the id the changes pin or a fresh
        one chosen here. The create is safe to repeat: a retry sends the same id, and Glance's
        409 for it means an earlier try made the image (checked: it carries the same name and
        tags), so no image is ever created twice."""
        body = create_body(changes)
        pinned = "id" in body
        body.setdefault("id", str(uuid.uuid4()))
        image_id = str(body["id"])
        what = f"creating image '{body.get('name')}'"
        response = self._session.glance("POST", "/images", json=body, expect=(201, 409), what=what)
        if response.status_code == 201:
            return image_id
        existing = self._existing(image_id, what)
        wanted_tags = set(body.get("tags") or ())
        if (
            existing is not None
            and existing.get("name") == body.get("name")
            and wanted_tags <= set(existing.get("tags") or ())
        ):
            return image_id
        reason = glance_message(response)
        if pinned:
            reason = (
                f"Glance refuses id {image_id}: an image had it before (Glance keeps the "
                "ids of deleted images and never gives them out again); choose a new id:"
            )
        raise CloudError(f"{what}: {reason}")

    def _existing(self, image_id: str, what: str) -> dict[str, Any] | None:
        response = self._session.glance(
            "GET", f"/images/{image_id}", expect=(200, 404), what=f"{what}: reading it back"
        )
        if response.status_code == 404:
            return None
        body = self._session.json(response, what)
        return body if isinstance(body, dict) else None

    def update(self, image_id: str, changes: Iterable[FieldChange]) -> None:
        """Apply the changes; a retry (after a lost answer or a 5xx) re-reads the image and
        sends only what it does not carry yet."""
        wanted = tuple(changes)
        what = f"updating image {image_id}"
        pending = [json_patch(wanted)]

        def once() -> None:
            if not pending[0]:
                return
            self._session.glance(
                "PATCH",
                f"/images/{image_id}",
                data=json.dumps(pending[0]),
                headers={"Content-Type": JSON_PATCH},
                expect=(200,),
                what=what,
                retry=False,
            )

        def refresh(_: Exception) -> None:
            pending[0] = patch_against(wanted, show(self._session, image_id, what))

        self.retrier.run(once, before_retry=refresh)

    def deactivate(self, image_id: str) -> None:
        # Glance answers 204 to deactivating a deactivated image: safe to repeat.
        self._session.glance(
            "POST",
            f"/images/{image_id}/actions/deactivate",
            expect=(204,),
            what=f"deactivating image {image_id}",
        )

    def reactivate(self, image_id: str) -> None:
        self._session.glance(
            "POST",
            f"/images/{image_id}/actions/reactivate",
            expect=(204,),
            what=f"reactivating image {image_id}",
        )

    def delete(self, image_id: str) -> None:
        self._session.glance(
            "DELETE",
            f"/images/{image_id}",
            expect=(204, 404),  # 404: already gone, as after a retried delete
            what=f"deleting image {image_id}",
        )

    def retire(self, image_id: str) -> str | None:
        """Delete a version its retire policy rotated out. When Glance refuses (403, 409: a
        protected image, one still in use) the image is hidden instead and the refusal
        recorded on it (RETIRE_REFUSED_PROPERTY); returns Glance's reason, None once deleted."""
        what = f"deleting image {image_id}"
        response = self._session.glance(
            "DELETE", f"/images/{image_id}", expect=(204, 404, 403, 409), what=what
        )
        if response.status_code in (204, 404):
            return None
        reason = f"HTTP {response.status_code}: {glance_message(response)}"
        self.update(
            image_id,
            (
                FieldChange("hidden", None, True),
                FieldChange(f"properties.{RETIRE_REFUSED_PROPERTY}", None, reason[:255]),
            ),
        )
        return reason

    def add_member(self, image_id: str, member: str) -> None:
        # 409: already a member, which is what was asked.
        self._session.glance(
            "POST",
            f"/images/{image_id}/members",
            json={"member": member},
            expect=(200, 409),
            what=f"adding member {member} to image {image_id}",
        )

    def remove_member(self, image_id: str, member: str) -> None:
        # 404: not a member any more, which is what was asked.
        self._session.glance(
            "DELETE",
            f"/images/{image_id}/members/{member}",
            expect=(204, 404),
            what=f"removing member {member} from image {image_id}",
        )

    def recreate(self, image_id: str, image: str) -> str:
        """Delete an image that cannot take data and make it again: same fields, tags,
        properties and members, a new id. Deleted first, so that a run cut short in between
        leaves no second image under the name (the next run creates it)."""
        what = f"image '{image}': recreating it"
        body = show(self._session, image_id, what)
        members = self.members(image_id) if body.get("visibility") == "shared" else {}
        if body.get("protected"):
            self.update(image_id, (FieldChange("protected", True, False),))
        self.delete(image_id)
        fields = {
            key: value
            for key, value in body.items()
            if (key not in BASE_KEYS or key in CLONED_KEYS)
            and not key.startswith("os_glance")
            and key != SOURCE_PROPERTY
        }
        new_id = str(uuid.uuid4())
        self._create_exactly({**fields, "id": new_id}, what)
        for member in sorted(members):
            self.add_member(new_id, member)
        return new_id

    def _create_exactly(self, body: dict[str, Any], what: str) -> None:
        response = self._session.glance("POST", "/images", json=body, expect=(201, 409), what=what)
        if response.status_code == 409 and self._existing(str(body["id"]), what) is None:
            raise self._session.http_error(what, response)

    def accept_member(self, image_id: str, member: str, cloud: str) -> None:
        """Accept as the member project: only it may, so through its own clouds.yaml entry."""
        if problem := self.accept_cloud_problem(cloud, member):
            raise CloudError(problem)
        peer = self._peer(cloud)
        peer._session.glance(
            "PUT",
            f"/images/{image_id}/members/{member}",
            json={"status": "accepted"},
            expect=(200,),
            what=f"accepting image {image_id} as {member} with cloud '{cloud}'",
        )

    def _peer(self, cloud: str) -> GlanceGateway:
        with self._peers_lock:
            peer = self._peers.get(cloud)
            if peer is None:
                peer = self._peers[cloud] = GlanceGateway(
                    cloud, timeout=self.timeout, retrier=self.retrier
                )
            return peer

    def accept_cloud_problem(self, cloud: str, member: str) -> str | None:
        """Why the clouds.yaml entry ``cloud`` cannot accept a membership for the project
        ``member`` (it does not open, or it is scoped to another project); None if it can."""
        try:
            peer = self._peer(cloud)
        except CloudError as error:
            return f"accept_with: {' '.join(error.lines)}"
        if peer.project_id != member:
            return (
                f"accept_with: cloud '{cloud}' is scoped to project {peer.project_id}, "
                f"not to the member {member}"
            )
        return None

    def copy_problem(self) -> str | None:
        """Why Glance cannot copy data to another store (asked once a run), or None."""
        if self._copy_problem is None:  # two threads may both ask: harmless
            self._copy_problem = (multistore.copy_problem(self._session),)
        return self._copy_problem[0]

    def source_problem(self, source: ImageSource, image: str) -> str | None:
        """Why the source cannot be read (after the run's retries), or None if it can."""
        try:
            self.retrier.run(lambda: probe_source(source, image, min(self.timeout, 30.0)))
        except SourceError as error:
            return " ".join(error.lines)
        return None

    def upload(
        self,
        image_id: str,
        image: str,
        source: ImageSource,
        progress: ByteProgress | None = None,
        store: str | None = None,
    ) -> int:
        """Stream the source into the image, verified; see transfer.upload."""
        return transfer.upload(self._session, image_id, image, source, progress, store)

    def web_download(
        self, image_id: str, image: str, source: ImageSource, store: str | None = None
    ) -> None:
        """Have Glance pull the URL, verified; see transfer.web_download."""
        transfer.web_download(self._session, image_id, image, source, self.import_timeout, store)

    def copy_to_stores(self, image_id: str, image: str, stores: tuple[str, ...]) -> None:
        """Copy the data to more stores; see stores.copy_to_stores."""
        multistore.copy_to_stores(self._session, image_id, image, stores, self.import_timeout)

    def remove_from_store(self, image_id: str, image: str, store: str) -> None:
        """Delete the data from one store, never the last copy; see stores.remove_from_store."""
        multistore.remove_from_store(self._session, image_id, image, store)
