"""GlanceImages: one session to one cloud's Glance, for one project. It reads a Snapshot in a
few paginated requests (members of shared images read concurrently) and changes images with
one API call per action kind; GlanceGateway (glance_gateway.py) builds on it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypedDict

from catalog.fields import CLONED_KEYS
from reconciler.core.actions import FieldChange
from reconciler.core.glance_patch import json_patch, patch_against
from reconciler.core.observed import (
    BASE_KEYS,
    RETIRE_REFUSED_PROPERTY,
    SOURCE_PROPERTY,
    ObservedImage,
    Snapshot,
)
from reconciler.errors import CloudError
from reconciler.gateway import images
from reconciler.gateway import stores as multistore
from reconciler.gateway.imports import IMPORT_TIMEOUT_SECONDS, show
from reconciler.gateway.projects import lookup_projects
from reconciler.gateway.session import DEFAULT_TIMEOUT, JSON_PATCH, CloudSession, glance_message
from reconciler.retry import Retrier

READ_CONCURRENCY = 4


class GlanceOptions(TypedDict, total=False):
    """How a gateway talks to its cloud (see ``GlanceImages``; what is left out, its default)."""

    concurrency: int
    timeout: float
    import_timeout: float
    retrier: Retrier | None
    region: str | None


class GlanceImages:
    """One authenticated session to one cloud's Glance, for one project: its images read, and
    changed one API call per action kind (GlanceGateway adds the data and the other clouds)."""

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
        self.import_timeout = import_timeout
        self._session = CloudSession(cloud, timeout=timeout, retrier=retrier, region=region)
        self.retrier = self._session.retrier
        self.project_id = self._session.project_id
        self._concurrency = max(1, concurrency)

    # The session's, which alone holds them: the gateway talks to its cloud through it.

    @property
    def cloud(self) -> str:
        """The clouds.yaml entry."""
        return self._session.cloud

    @property
    def region(self) -> str | None:
        """The entry's region chosen (None: the entry's own)."""
        return self._session.region

    @property
    def timeout(self) -> float:
        """Seconds without an answer after which a request gives up."""
        return self._session.timeout

    @property
    def glance_endpoint(self) -> str:
        """Glance's v2 root this gateway talks to (``https://host:9292/v2``)."""
        return self._session.glance_endpoint

    def close(self) -> None:
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
