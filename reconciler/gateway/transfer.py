"""Image data into Glance: streamed uploads and web-download imports, retried under the run's
policy when a failure is transient, and verified against what Glance says it stored.

When an answer is lost (a reset after the request went out, a timeout, a 5xx), the next try
first reads the image back and decides from what Glance shows: an upload that made the image
active has its data verified and is accepted; an import already running is followed rather
than started again (imports.py); an image Glance cannot take data into raises DataRefused,
which lets the executor make the image again. New data goes to the store given (multi-store),
else to Glance's default store.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, NoReturn

import urllib3

from catalog.model import Checksum
from reconciler.core.observed import SOURCE_PROPERTY
from reconciler.errors import CloudError, DataRefused, SourceError
from reconciler.gateway.clouds import CLIENT_ERRORS
from reconciler.gateway.imports import (
    IMPORT_POLL_SECONDS,
    IMPORT_TIMEOUT_SECONDS,
    ImportFollower,
    run_import,
    show,
)
from reconciler.gateway.session import JSON_PATCH, CloudSession, glance_message
from reconciler.image_data import ImageData, ImageStream
from reconciler.retry import UPLOAD_TRANSIENT

# After a dropped upload Glance may still say "saving" for a moment before it resets to queued.
SETTLE_SECONDS = 10.0
# The header of PUT /v2/images/{id}/file that names the store (glance/api/v2/image_data.py).
STORE_HEADER = "X-Image-Meta-Store"


def upload(
    session: CloudSession,
    image_id: str,
    image: str,
    data: ImageData,
    store: str | None = None,
) -> int:
    """Stream the data into the image (into ``store``, else Glance's default store); returns
    the bytes sent. The image is active and holds exactly the verified bytes when this returns.
    A transient failure is tried again from byte 0 (a new ``data.open()``, a new PUT) once
    Glance shows the image queued again; if it shows it active, the data sent is verified and
    accepted."""
    sent: list[ImageStream] = []

    def attempt() -> int:
        if sent:
            stored = _settled(session, image_id, image)
            status = stored.get("status")
            if status == "active" and sent[-1].complete:
                verify_stored(session, image_id, image, data, sent[-1], stored)
                return sent[-1].size
            if status != "queued":
                raise DataRefused(
                    f"image '{image}': after a failed upload Glance shows the image {status}"
                )
        return _upload_once(session, image_id, image, data, sent, store)

    try:
        return session.retrier.run(attempt)
    except SourceError:
        raise
    except CloudError as error:
        if error.transient:
            # Retries spent on Glance's side: this image may never take data.
            raise DataRefused(*error.lines) from error
        raise


def _upload_once(
    session: CloudSession,
    image_id: str,
    image: str,
    data: ImageData,
    sent: list[ImageStream],
    store: str | None,
) -> int:
    headers = {"Content-Type": "application/octet-stream"}
    if store is not None:
        headers[STORE_HEADER] = store
    with data.open() as stream:
        sent.append(stream)
        try:
            response = session.raw(
                "PUT",
                f"/images/{image_id}/file",
                what=f"image '{image}': upload",
                data=iter(stream),
                headers=headers,
                # A re-login would re-send the body from where the iterator stands.
                allow_reauth=False,
            )
        except (CloudError, SourceError) as error:
            if stream.failure is not None:
                raise stream.failure from error
            raise
        if stream.failure is not None:
            raise stream.failure
        if response.status_code != 204:
            raise CloudError(
                f"image '{image}': upload answered HTTP "
                f"{response.status_code}: {glance_message(response)}",
                transient=response.status_code in UPLOAD_TRANSIENT,
            )
    verify_stored(session, image_id, image, data, stream)
    return stream.size


def _settled(session: CloudSession, image_id: str, image: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        stored = show(session, image_id, f"image '{image}': reading")
        if stored.get("status") != "saving" or time.monotonic() > deadline:
            return stored
        time.sleep(IMPORT_POLL_SECONDS)


def verify_stored(
    session: CloudSession,
    image_id: str,
    image: str,
    data: ImageData,
    stream: ImageStream,
    stored: dict[str, Any] | None = None,
) -> None:
    """Glance's record of the upload must match what was sent: active, same size, same hash.
    Data that does not is deleted; data that does gets its source checksum recorded."""
    if stored is None:
        stored = show(session, image_id, f"image '{image}': reading")
    if stored.get("status") != "active":
        raise CloudError(f"image '{image}': status is {stored.get('status')} after upload")
    if stored.get("size") is not None and stored.get("size") != stream.size:
        reject_data(
            session,
            image_id,
            image,
            stored,
            f"Glance stored {stored.get('size')} bytes but we sent {stream.size}",
        )
    algorithm = str(stored.get("os_hash_algo") or "")
    sent = stream.digests.get(algorithm)
    if sent is None:
        sent = stream.digests.get("sha512", "")
        actual = hash_stored(session, image_id, image, "sha512")
        algorithm = "sha512 (read back)"
    else:
        actual = str(stored.get("os_hash_value"))
    if actual != sent:
        reject_data(
            session,
            image_id,
            image,
            stored,
            f"Glance stored {algorithm} {actual} but we sent {sent}",
        )
    record_checksum(session, image_id, image, data.checksum, stored)


def record_checksum(
    session: CloudSession,
    image_id: str,
    image: str,
    checksum: Checksum | None,
    stored: dict[str, Any],
) -> None:
    """Write the source's published ``checksum`` on the image, only once its data is
    verified: the planner trusts the data of an image that carries it."""
    if checksum is None:
        return
    wanted = str(checksum)
    what = f"image '{image}': recording the verified checksum"

    def once() -> None:
        # "add" sets the property whether or not it exists, so a retry is harmless.
        session.glance(
            "PATCH",
            f"/images/{image_id}",
            data=json.dumps([{"op": "add", "path": f"/{SOURCE_PROPERTY}", "value": wanted}]),
            headers={"Content-Type": JSON_PATCH},
            expect=(200,),
            what=what,
            retry=False,
        )

    if stored.get(SOURCE_PROPERTY) != wanted:
        session.retrier.run(once)


def reject_data(
    session: CloudSession, image_id: str, image: str, stored: dict[str, Any], why: str
) -> NoReturn:
    """Delete the image, whose data is wrong (``why``), and raise the CloudError that says so."""
    discard(session, image_id, image, protected=bool(stored.get("protected")))
    raise CloudError(
        f"image '{image}': {why}; the image was deleted so that nobody boots it (the next run "
        "creates it again)"
    )


def discard(session: CloudSession, image_id: str, image: str, *, protected: bool) -> None:
    """Delete an image that holds unverified data, unprotecting it first if ``protected``."""
    if protected:
        session.glance(
            "PATCH",
            f"/images/{image_id}",
            data='[{"op": "replace", "path": "/protected", "value": false}]',
            headers={"Content-Type": JSON_PATCH},
            expect=(200,),
            what=f"image '{image}': unprotecting wrong data",
        )
    session.glance(
        "DELETE",
        f"/images/{image_id}",
        expect=(204, 404),
        what=f"image '{image}': deleting wrong data",
    )


def web_download(
    session: CloudSession,
    image_id: str,
    image: str,
    data: ImageData,
    timeout: float = IMPORT_TIMEOUT_SECONDS,
    store: str | None = None,
) -> None:
    """Have Glance pull the data's URL (into ``store``, else its default store), wait for the
    import (at most ``timeout`` seconds in all, over every try), and verify the stored bytes. A
    failed import puts the image back to queued, so it is tried again like a transient fault;
    an import already running is followed."""
    expected = data.checksum
    if expected is None:
        raise CloudError(f"image '{image}': web-download without a checksum cannot be verified")

    def blame_source(error: CloudError) -> None:
        # Glance says no more than that the task failed: ask the source ourselves whose
        # side the failure is on.
        try:
            data.probe()
        except SourceError as source_error:
            raise SourceError(
                *error.lines, f"the source fails for glance-catalog too: {source_error}"
            ) from error

    follower = WebDownload(session, image_id, image, timeout, data, store)
    stored = run_import(session, follower, blame_source)
    verify_imported(session, image_id, image, expected, stored)
    record_checksum(session, image_id, image, expected, stored)


def stored_digest(
    session: CloudSession, image_id: str, image: str, algorithm: str, stored: dict[str, Any]
) -> str:
    """The ``algorithm`` digest of the data Glance stores: its own hash when it uses that
    algorithm, else the data read back and hashed."""
    if stored.get("os_hash_algo") == algorithm:
        return str(stored.get("os_hash_value"))
    return hash_stored(session, image_id, image, algorithm)


def verify_imported(
    session: CloudSession,
    image_id: str,
    image: str,
    expected: Checksum,
    stored: dict[str, Any],
) -> None:
    """The data Glance imported must have the ``expected`` digest: Glance's own hash when it
    uses that algorithm, else the data read back and hashed. Wrong data is deleted."""
    actual = stored_digest(session, image_id, image, expected.algorithm.value, stored)
    if actual != expected.hexdigest:
        reject_data(
            session,
            image_id,
            image,
            stored,
            f"Glance imported data with {expected.algorithm}:{actual}, expected {expected}",
        )


class QueuedImport(ImportFollower):
    """An import into an image without data (web-download, glance-download): the image is
    queued until Glance has the data (status active), and importing while an import runs; a
    failed one puts it back to queued, so its failure is transient while the image is queued.
    New data goes to ``store`` (None: Glance's default); subclasses say what Glance was asked
    (``asked``)."""

    def __init__(
        self, session: CloudSession, image_id: str, image: str, timeout: float, store: str | None
    ) -> None:
        self._store = store
        super().__init__(session, image_id, image, timeout)

    def into_store(self, body: dict[str, Any]) -> dict[str, Any]:
        """The import request ``body``, naming the store when there is one."""
        if self._store is not None:
            body["stores"] = [self._store]
        return body

    def done(self, stored: dict[str, Any]) -> bool:
        return stored.get("status") == "active"

    def started_before(self, stored: dict[str, Any]) -> bool:
        return stored.get("status") == "importing"

    def idle(self, stored: dict[str, Any]) -> bool:
        return stored.get("status") == "queued"

    def ended(self, stored: dict[str, Any]) -> CloudError | None:
        status = stored.get("status")
        if status in ("killed", "deleted", "deactivated"):
            return DataRefused(f"image '{self.image}': {self.what} ended with status {status}")
        return None

    def stale_lock(self, message: str) -> CloudError:
        return DataRefused(message)

    @property
    def asked(self) -> str:
        """What Glance was asked to do, in words that follow "Glance could not"."""
        raise NotImplementedError

    def failed(self, stored: dict[str, Any], reason: str) -> CloudError:
        # Glance puts an image whose import failed back to queued, ready for another try.
        return CloudError(
            f"image '{self.image}': Glance could not {self.asked}: {reason}",
            transient=stored.get("status") == "queued",
        )


class WebDownload(QueuedImport):
    """A web-download: Glance fetches the data's URL."""

    def __init__(
        self,
        session: CloudSession,
        image_id: str,
        image: str,
        timeout: float,
        data: ImageData,
        store: str | None,
    ) -> None:
        self._data = data
        super().__init__(session, image_id, image, timeout, store)

    @property
    def what(self) -> str:
        return f"import of {self._data.location}"

    def body(self, stored: dict[str, Any]) -> dict[str, Any]:
        return self.into_store({"method": {"name": "web-download", "uri": self._data.fetch_url()}})

    @property
    def asked(self) -> str:
        return f"import {self._data.location}"


def hash_stored(session: CloudSession, image_id: str, image: str, algorithm: str) -> str:
    """Read the image's data back from Glance and hash it (streamed), again from byte 0 when
    the read fails on the way."""
    what = f"image '{image}': reading back data"

    def once() -> str:
        digest = hashlib.new(algorithm)
        response = session.glance(
            "GET", f"/images/{image_id}/file", expect=(200,), stream=True, what=what, retry=False
        )
        with response:
            try:
                for chunk in response.raw.stream(1024 * 1024, decode_content=False):
                    digest.update(chunk)
            except (*CLIENT_ERRORS, urllib3.exceptions.HTTPError, OSError) as error:
                raise CloudError(
                    f"image '{image}': reading the data back to verify it failed: {error}",
                    transient=True,
                ) from error
        return digest.hexdigest()

    return session.retrier.run(once)
