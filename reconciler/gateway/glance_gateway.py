"""GlanceGateway: the cloud as the executor and preflight see it. To GlanceImages it adds the
image data (uploads of the bytes an ImageData yields, imports Glance runs itself, copies
between stores) and the other clouds.yaml entries a run needs (a member project accepting a
share, the Glance of another region a glance-download pulls from)."""

from __future__ import annotations

import threading
from typing import Any, Unpack

from catalog.model import ImageSource
from reconciler.errors import CloudError
from reconciler.gateway import pull, transfer
from reconciler.gateway import stores as multistore
from reconciler.gateway.glance_images import GlanceImages, GlanceOptions
from reconciler.image_data import ImageData


class GlanceGateway(GlanceImages):
    """One authenticated session to one cloud's Glance, for one project, and the sessions to
    the other entries it opens on the way (closed with it)."""

    def __init__(self, cloud: str, **options: Unpack[GlanceOptions]) -> None:
        super().__init__(cloud, **options)
        self._peers: dict[str, GlanceGateway] = {}
        self._peers_lock = threading.Lock()
        self._copy_problem: tuple[str | None] | None = None
        self._pull_problem: tuple[str | None] | None = None

    def close(self) -> None:
        for peer in self._peers.values():
            peer.close()
        super().close()

    # Other clouds.yaml entries

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

    # Data

    def upload(self, image_id: str, image: str, data: ImageData, store: str | None = None) -> int:
        """Stream the data into the image, verified (again from byte 0 on a retry, through a
        new ``data.open()``); see transfer.upload."""
        return transfer.upload(self._session, image_id, image, data, store)

    def web_download(
        self, image_id: str, image: str, data: ImageData, store: str | None = None
    ) -> None:
        """Have Glance pull the data's URL, verified; see transfer.web_download."""
        transfer.web_download(self._session, image_id, image, data, self.import_timeout, store)

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
        transfer.record_checksum(self._session, image_id, image, source.checksum, stored)

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
