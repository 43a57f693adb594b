"""glance-download: Glance pulls an image's data from the Glance of another region itself,
with the user's token, from the endpoint Keystone's catalog lists for that region; the bytes
never pass through glance-catalog (unless it reads them back to verify them, when Glance's
hash uses another algorithm than the manifest's checksum).

The image pulled from (the origin) is this catalog's image of the same name in that region
(or a version of it), owned by the same project, active, whose recorded verified checksum
(SOURCE_PROPERTY) is the manifest's: the data glance-catalog verified when it put it there.
The pulled data is verified like a web-download's, against the manifest's checksum; for a
compressed source, whose checksum is of bytes neither Glance holds, against the origin's data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from catalog.model import Compression, ImageSource
from reconciler.core.actions import FieldChange
from reconciler.core.observed import (
    BASE_KEYS,
    FOREIGN_PROPERTY_PREFIXES,
    SOURCE_PROPERTY,
    VERSION_OF_PROPERTY,
)
from reconciler.errors import CloudError
from reconciler.gateway.imports import enabled_methods, run_import, show
from reconciler.gateway.session import CloudSession
from reconciler.gateway.transfer import QueuedImport, reject_data, stored_digest, verify_imported

METHOD = "glance-download"
# Which of the other region's endpoints Glance pulls from (Glance's own default).
SERVICE_INTERFACE = "public"


def pulled_region(source: ImageSource, image: str, own_region: str | None) -> str:
    """The region ``source`` pulls from; a CloudError when it is the cloud's own region or
    when the source has no checksum to verify the data with."""
    region = source.region
    if region is None:
        raise CloudError(f"image '{image}': the source is not a glance-download")
    if own_region is not None and region.lower() == own_region.lower():
        raise CloudError(
            f"image '{image}': glance-download from region {region}, which is this cloud's own "
            "region: there is nothing to pull from",
        )
    if source.checksum is None:
        raise CloudError(f"image '{image}': glance-download without a checksum cannot be verified")
    return region


def find_origin(
    list_images: Callable[[dict[str, Any]], Iterator[dict[str, Any]]],
    project_id: str,
    image: str,
    source: ImageSource,
    marker: str,
) -> dict[str, Any]:
    """The origin among the images ``list_images`` lists (the other region's Glance, paged),
    the one with the smallest id if several hold the data; a CloudError when there is none."""
    wanted = str(source.checksum)
    query = {"owner": project_id, "tag": marker, "status": "active", SOURCE_PROPERTY: wanted}
    found = [
        body
        for hidden in ("false", "true")
        for body in list_images({**query, "os_hidden": hidden})
        if is_origin(body, project_id, image, wanted, marker)
    ]
    if not found:
        raise CloudError(
            f"image '{image}': not (yet) in region {source.region} with checksum {wanted}, so "
            f"Glance has nothing to pull; apply the catalog in region {source.region} first"
        )
    return min(found, key=lambda body: str(body.get("id")))


def is_origin(
    body: Mapping[str, Any], project_id: str, image: str, wanted: str, marker: str
) -> bool:
    """Whether the image Glance shows as ``body`` holds the verified data of ``image`` (Glance
    may drop a filter it does not know: each is checked again here)."""
    return (
        body.get("owner") == project_id
        and marker in (body.get("tags") or ())
        and body.get("status") == "active"
        and body.get(SOURCE_PROPERTY) == wanted
        and image in (body.get("name"), body.get(VERSION_OF_PROPERTY))
    )


def method_problem(session: CloudSession) -> str | None:
    """Why this Glance cannot pull from another region (its import methods lack
    glance-download), or None if it can."""
    methods = enabled_methods(session)
    if METHOD in methods:
        return None
    return (
        f"this Glance does not enable the {METHOD} import method (enabled: "
        f"{', '.join(methods) or 'none'}), so it cannot pull the image from another region"
    )


def formats_problem(
    formats: tuple[str | None, str | None], origin: Mapping[str, Any], region: str
) -> str | None:
    """Why the origin cannot give its data to an image of these (disk, container) formats:
    Glance gives the pulled image the origin's formats, which would then differ from the
    manifest's for good."""
    theirs = (origin.get("disk_format"), origin.get("container_format"))
    if theirs == formats:
        return None
    return (
        f"the image in region {region} ({origin.get('id')}) is {theirs[0]}/{theirs[1]}, not "
        f"{formats[0]}/{formats[1]} as here: Glance would give this image its formats"
    )


def glance_download(
    session: CloudSession,
    image_id: str,
    image: str,
    source: ImageSource,
    origin: Callable[[], dict[str, Any]],
    timeout: float,
    store: str | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Have Glance pull the data of the image ``origin()`` finds (into ``store``, else its
    default store), wait for the import (at most ``timeout`` seconds over every try) and
    verify the data; returns the image as Glance showed it (before the import, once verified).

    Tried again like a web-download while Glance puts the image back to queued; when the
    tries are spent the origin is looked up again: gone, that is the error, else DataRefused
    (the executor may make the image again). Wrong data is deleted."""
    assert source.region is not None and source.checksum is not None
    found = origin()
    before = show(session, image_id, f"image '{image}': reading")
    formats = (before.get("disk_format"), before.get("container_format"))
    if problem := formats_problem(formats, found, source.region):
        raise CloudError(f"image '{image}': {problem}")
    follower = GlanceDownload(session, image_id, image, timeout, source, str(found["id"]), store)

    def origin_still_there(_: CloudError) -> None:
        origin()  # raises when the origin is gone: that is the error then

    stored = run_import(session, follower, origin_still_there)
    if source.compression is Compression.NONE:
        verify_imported(session, image_id, image, source.checksum, stored)
    else:
        _verify_against(session, image_id, image, found, stored, source.region)
    return before, stored


def _verify_against(
    session: CloudSession,
    image_id: str,
    image: str,
    origin: Mapping[str, Any],
    stored: dict[str, Any],
    region: str,
) -> None:
    """The pulled data must be the origin's: both Glances hash what they store."""
    algorithm, wanted = str(origin.get("os_hash_algo") or ""), origin.get("os_hash_value")
    if not algorithm or not wanted:
        reject_data(session, image_id, image, stored, f"the image in region {region} shows no hash")
    actual = stored_digest(session, image_id, image, algorithm, stored)
    if actual != wanted:
        reject_data(
            session,
            image_id,
            image,
            stored,
            f"Glance pulled data with {algorithm}:{actual}, but the image in region {region} "
            f"holds {algorithm}:{wanted}",
        )


def undone_properties(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[FieldChange, ...]:
    """The changes that put back the custom properties the import changed: Glance copies some
    of the origin's (hw_*, os_distro, ... its [glance_download_properties]) onto the image,
    whose properties are the manifest's, as with any other method."""
    keys = sorted(key for key in {*before, *after} if _custom(key))
    return tuple(
        FieldChange(f"properties.{key}", after.get(key), before.get(key))
        for key in keys
        if before.get(key) != after.get(key)
    )


def _custom(key: str) -> bool:
    return (
        key not in BASE_KEYS and not key.startswith(FOREIGN_PROPERTY_PREFIXES)
    ) and key != SOURCE_PROPERTY


class GlanceDownload(QueuedImport):
    """A glance-download: like a web-download (queued until Glance has the data, importing
    meanwhile, back to queued when it fails), from the image ``origin_id`` in the source's
    region."""

    def __init__(
        self,
        session: CloudSession,
        image_id: str,
        image: str,
        timeout: float,
        source: ImageSource,
        origin_id: str,
        store: str | None,
    ) -> None:
        self._source = source
        self._origin_id = origin_id
        super().__init__(session, image_id, image, timeout, store)

    @property
    def what(self) -> str:
        return f"glance-download from region {self._source.region}"

    def body(self, stored: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "method": {
                "name": METHOD,
                "glance_image_id": self._origin_id,
                "glance_region": self._source.region,
                "glance_service_interface": SERVICE_INTERFACE,
            }
        }
        return self.into_store(body)

    @property
    def asked(self) -> str:
        return f"pull image {self._origin_id} from region {self._source.region}"
