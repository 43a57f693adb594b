"""Image data into Glance: streamed uploads and web-download imports, retried when a failure is
transient, and verified against what Glance says it stored."""

from __future__ import annotations

import hashlib
import json
import time
from typing import NoReturn

import urllib3

from catalog.model import ImageSource
from reconciler.errors import CloudError, SourceError, TransferError
from reconciler.gateway.session import (
    ATTEMPTS,
    CLIENT_ERRORS,
    JSON_PATCH,
    TRANSIENT_STATUS,
    CloudSession,
    backoff,
    glance_message,
)
from reconciler.observed import SOURCE_PROPERTY
from reconciler.sources import ByteProgress, VerifiedStream, open_source

IMPORT_POLL_SECONDS = 0.5
IMPORT_TIMEOUT_SECONDS = 600.0
# After a dropped upload Glance may still say "saving" for a moment before it resets to queued.
SETTLE_SECONDS = 10.0


def upload(
    session: CloudSession,
    image_id: str,
    image: str,
    source: ImageSource,
    progress: ByteProgress | None = None,
) -> int:
    """Stream the source into the image; returns the bytes sent. The image is active and holds
    exactly the verified bytes when this returns. A transient failure is retried from byte 0
    (a new read of the source, a new PUT) once Glance has put the image back to queued."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _upload_once(session, image_id, image, source, progress)
        except TransferError as error:
            if not error.transient or attempt == ATTEMPTS:
                raise
            status = _settled_status(session, image_id, image)
            if status != "queued":
                raise CloudError(
                    *error.lines,
                    f"image '{image}': not retried: after the failure the image is {status}",
                ) from error
        backoff(attempt)
    raise AssertionError("unreachable")


def _upload_once(
    session: CloudSession,
    image_id: str,
    image: str,
    source: ImageSource,
    progress: ByteProgress | None,
) -> int:
    with open_source(source, image, progress) as stream:
        try:
            response = session.raw(
                "PUT",
                f"/images/{image_id}/file",
                data=iter(stream),
                headers={"Content-Type": "application/octet-stream"},
                # A re-login would re-send the body from where the iterator stands.
                allow_reauth=False,
            )
        except (*CLIENT_ERRORS, SourceError) as error:
            if stream.failure is not None:
                raise stream.failure from error
            if isinstance(error, SourceError):
                raise
            raise CloudError(f"image '{image}': upload failed: {error}", transient=True) from error
        if stream.failure is not None:
            raise stream.failure
        if response.status_code != 204:
            raise CloudError(
                f"image '{image}': upload answered HTTP "
                f"{response.status_code}: {glance_message(response)}",
                # 401: the token expired mid-upload; the next request logs in again.
                transient=response.status_code in TRANSIENT_STATUS or response.status_code == 401,
            )
    verify_stored(session, image_id, image, stream)
    return stream.size


def _settled_status(session: CloudSession, image_id: str, image: str) -> str:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        status = str(show(session, image_id, image).get("status"))
        if status != "saving" or time.monotonic() > deadline:
            return status
        time.sleep(IMPORT_POLL_SECONDS)


def show(session: CloudSession, image_id: str, image: str) -> dict[str, object]:
    response = session.glance(
        "GET", f"/images/{image_id}", expect=(200,), what=f"image '{image}': reading", retry=True
    )
    body: dict[str, object] = response.json()
    return body


def verify_stored(session: CloudSession, image_id: str, image: str, stream: VerifiedStream) -> None:
    """Glance's record of the upload must match what was sent: active, same size, same hash.
    Data that does not is deleted; data that does gets its source checksum recorded."""
    stored = show(session, image_id, image)
    if stored.get("status") != "active":
        raise CloudError(f"image '{image}': status is {stored.get('status')} after upload")
    if stored.get("size") is not None and stored.get("size") != stream.size:
        _reject(
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
        _reject(
            session,
            image_id,
            image,
            stored,
            f"Glance stored {algorithm} {actual} but we sent {sent}",
        )
    record_checksum(session, image_id, image, stream.source, stored)


def record_checksum(
    session: CloudSession,
    image_id: str,
    image: str,
    source: ImageSource,
    stored: dict[str, object],
) -> None:
    """Write the source checksum on the image, only once its data is verified: the planner
    trusts the data of an image that carries it."""
    if source.checksum is None:
        return
    operation = "replace" if SOURCE_PROPERTY in stored else "add"
    session.glance(
        "PATCH",
        f"/images/{image_id}",
        data=json.dumps(
            [{"op": operation, "path": f"/{SOURCE_PROPERTY}", "value": str(source.checksum)}]
        ),
        headers={"Content-Type": JSON_PATCH},
        expect=(200,),
        what=f"image '{image}': recording the verified checksum",
        retry=True,
    )


def _reject(
    session: CloudSession, image_id: str, image: str, stored: dict[str, object], why: str
) -> NoReturn:
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
            retry=True,
        )
    session.glance(
        "DELETE",
        f"/images/{image_id}",
        expect=(204, 404),
        what=f"image '{image}': deleting wrong data",
        retry=True,
    )


def web_download(session: CloudSession, image_id: str, image: str, source: ImageSource) -> None:
    """Have Glance pull the URL, wait for the import (bounded), and verify the stored bytes.
    A failed import puts the image back to queued, so it is retried like a transient fault."""
    assert source.url is not None
    for attempt in range(1, ATTEMPTS + 1):
        try:
            stored = _import_once(session, image_id, image, source.url)
            break
        except CloudError as error:
            if not error.transient or attempt == ATTEMPTS:
                raise
        backoff(attempt)
    expected = source.checksum
    if expected is None:
        raise CloudError(f"image '{image}': web-download without a checksum cannot be verified")
    if stored.get("os_hash_algo") == expected.algorithm.value:
        actual = str(stored.get("os_hash_value"))
    else:
        actual = hash_stored(session, image_id, image, expected.algorithm.value)
    if actual != expected.hexdigest:
        _reject(
            session,
            image_id,
            image,
            stored,
            f"Glance imported data with {expected.algorithm}:{actual}, expected {expected}",
        )
    record_checksum(session, image_id, image, source, stored)


def _import_once(session: CloudSession, image_id: str, image: str, url: str) -> dict[str, object]:
    # A failed import leaves os_glance_failed_import set for good, even across a new import; the
    # import task of this attempt (one not seen before it) is what tells how it ended.
    earlier = {str(task.get("id")) for task in _import_tasks(session, image_id, image)}
    session.glance(
        "POST",
        f"/images/{image_id}/import",
        json={"method": {"name": "web-download", "uri": url}},
        expect=(202,),
        what=f"image '{image}': starting web-download",
    )
    deadline = time.monotonic() + IMPORT_TIMEOUT_SECONDS
    while True:
        stored = show(session, image_id, image)
        status = stored.get("status")
        if status == "active":
            return stored
        tasks = [t for t in _import_tasks(session, image_id, image) if t.get("id") not in earlier]
        failed = [task for task in tasks if task.get("status") == "failure"]
        if failed:
            reason = str(failed[0].get("message") or "no reason given")
            raise CloudError(
                f"image '{image}': Glance could not import {url}: {reason}",
                transient=status == "queued",
            )
        if status in ("killed", "deleted", "deactivated"):
            raise CloudError(f"image '{image}': import of {url} ended with status {status}")
        if time.monotonic() > deadline:
            raise CloudError(
                f"image '{image}': import still {status} after {IMPORT_TIMEOUT_SECONDS:.0f} s"
            )
        time.sleep(IMPORT_POLL_SECONDS)


def _import_tasks(session: CloudSession, image_id: str, image: str) -> list[dict[str, object]]:
    response = session.glance(
        "GET",
        f"/images/{image_id}/tasks",
        expect=(200,),
        what=f"image '{image}': reading import tasks",
        retry=True,
    )
    tasks: list[dict[str, object]] = response.json().get("tasks", [])
    return tasks


def hash_stored(session: CloudSession, image_id: str, image: str, algorithm: str) -> str:
    """Read the image's data back from Glance and hash it (streamed)."""
    digest = hashlib.new(algorithm)
    response = session.glance(
        "GET",
        f"/images/{image_id}/file",
        expect=(200,),
        stream=True,
        what=f"image '{image}': reading back data",
        retry=True,
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
