"""The only package that talks to the cloud (through openstacksdk's authenticated session).

GlanceGateway reads a Snapshot in a few paginated requests (members of shared images read
concurrently) and performs one API call per action kind; ``session`` holds the connection and
the retry rules, ``transfer`` moves image data, ``imports`` follows Glance's imports and
``stores`` copies data between Glance's stores and removes it from them.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from catalog.fields import CLONED_KEYS
from catalog.model import ImageSource
from reconciler.core.actions import FieldChange
from reconciler.core.glance_patch import json_patch, patch_against
from reconciler.core.observed import (
    BASE_KEYS,
    RETIRE_REFUSED_PROPERTY,
    SOURCE_PROPERTY,
    ObservedImage,
    Snapshot,
)
from reconciler.errors import CloudError, SourceError
from reconciler.gateway import images, pull, transfer
from reconciler.gateway import stores as multistore
from reconciler.gateway.imports import IMPORT_TIMEOUT_SECONDS, show
from reconciler.gateway.projects import lookup_projects
from reconciler.gateway.retry import Retrier
from reconciler.gateway.session import DEFAULT_TIMEOUT, JSON_PATCH, CloudSession, glance_message
from reconciler.sources.stream import ByteProgress, probe_source

READ_CONCURRENCY = 4


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
        self._pull_problem: tuple[str | None] | None = None

    @property
    def glance_endpoint(self) -> str:
        """Glance's v2 root this gateway talks to (``https://host:9292/v2``)."""
        return self._session.glance_endpoint

    def close(self) -> None:
        for peer in self._peers.values():
            peer.close()
        self._session.close()

    # Reading

    def _list(self, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        return images.list_images(self._session, params)

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
        """See projects.lookup_projects."""
        return lookup_projects(self._session, references)

    # Writing: one method per action kind

    def reserve(self, changes: Iterable[FieldChange]) -> str:
        """Create the image with exactly these fields; see images.reserve."""
        return images.reserve(self._session, changes)

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
        images.create_exactly(self._session, {**fields, "id": new_id}, what)
        for member in sorted(members):
            self.add_member(new_id, member)
        return new_id

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

    def _peer(self, cloud: str, region: str | None = None) -> GlanceGateway:
        """A gateway to the clouds.yaml entry ``cloud`` (in ``region``, else the entry's own),
        opened once a run, under the run's retry policy."""
        key = f"{cloud}\0{region or ''}"
        with self._peers_lock:
            peer = self._peers.get(key)
            if peer is None:
                peer = self._peers[key] = GlanceGateway(
                    cloud, timeout=self.timeout, retrier=self.retrier, region=region
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

    def glance_download(
        self, image_id: str, image: str, source: ImageSource, marker: str, store: str | None = None
    ) -> None:
        """Have Glance pull the data from the image of the catalog with ``marker`` in the
        source's region, verified (see pull.glance_download); the properties the import
        copied from there are put back as they were, then the checksum is recorded."""
        before, stored = pull.glance_download(
            self._session,
            image_id,
            image,
            source,
            lambda: self.origin(source, image, marker),
            self.import_timeout,
            store,
        )
        if undone := pull.undone_properties(before, stored):
            self.update(image_id, undone)
        transfer.record_checksum(self._session, image_id, image, source, stored)

    def origin(self, source: ImageSource, image: str, marker: str) -> dict[str, Any]:
        """The image a glance-download of ``source`` pulls from (see pull.find_origin), read
        with this cloud's credentials in the source's region."""
        region = pull.pulled_region(source, image, self._session.region_name)
        try:
            peer = self._peer(self.cloud, region)
        except CloudError as error:
            raise CloudError(
                f"image '{image}': glance-download from region {region}: {' '.join(error.lines)}"
            ) from error
        if peer._session.glance_endpoint == self._session.glance_endpoint:
            raise CloudError(
                f"image '{image}': glance-download from region {region}: cloud '{self.cloud}' "
                f"reaches the same Glance there ({self._session.glance_endpoint}): its "
                "clouds.yaml entry pins the image endpoint"
            )
        return pull.find_origin(peer._list, peer.project_id, image, source, marker)

    def origin_problem(
        self, source: ImageSource, image: str, marker: str, formats: tuple[str, str]
    ) -> str | None:
        """Why a glance-download of ``source`` into an image of these (disk, container)
        formats cannot work (this Glance lacks the method, the image is not in the source's
        region, or has other formats there), or None if it can."""
        if self._pull_problem is None:
            self._pull_problem = (pull.method_problem(self._session),)
        try:
            if self._pull_problem[0] is not None:
                return self._pull_problem[0]
            found = self.origin(source, image, marker)
        except CloudError as error:
            return " ".join(error.lines)
        assert source.region is not None
        return pull.formats_problem(formats, found, source.region)

    def copy_to_stores(self, image_id: str, image: str, stores: tuple[str, ...]) -> None:
        """Copy the data to more stores; see stores.copy_to_stores."""
        multistore.copy_to_stores(self._session, image_id, image, stores, self.import_timeout)

    def remove_from_store(self, image_id: str, image: str, store: str) -> None:
        """Delete the data from one store, never the last copy; see stores.remove_from_store."""
        multistore.remove_from_store(self._session, image_id, image, store)
