"""Image data into Glance: streamed uploads and web-download imports, retried under the run's
policy when a failure is transient, and verified against what Glance says it stored.

When an answer is lost (a reset after the request went out, a timeout, a 5xx), the next try
first reads the image back and decides from what Glance shows: an upload that made the image
active has its data verified and is accepted; an import already running is followed rather
than started again; an image Glance cannot take data into raises DataRefused, which lets the
executor make the image again.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, NoReturn

import urllib3

from catalog.model import ImageSource
from reconciler.errors import CloudError, DataRefused, ImportTimedOut, SourceError
from reconciler.gateway.clouds import CLIENT_ERRORS
from reconciler.gateway.retry import TRANSIENT_STATUS
from reconciler.gateway.session import JSON_PATCH, CloudSession, glance_message
from reconciler.observed import SOURCE_PROPERTY
from reconciler.sources import (
    ByteProgress,
    VerifiedStream,
    fetch_url,
    open_source,
    probe_source,
)

IMPORT_POLL_SECONDS = 0.5
# Each try of an import costs Glance a whole fetch: fewer than the policy's attempts.
IMPORT_ATTEMPTS = 3
IMPORT_TIMEOUT_SECONDS = 600.0
# After a dropped upload Glance may still say "saving" for a moment before it resets to queued.
SETTLE_SECONDS = 10.0
RUNNING_TASK = frozenset({"pending", "processing"})


def upload(
    session: CloudSession,
    image_id: str,
    image: str,
    source: ImageSource,
    progress: ByteProgress | None = None,
) -> int:
    """Stream the source into the image; returns the bytes sent. The image is active and holds
    exactly the verified bytes when this returns. A transient failure is tried again from byte
    0 (a new read of the source, a new PUT) once Glance shows the image queued again; if it
    shows it active, the data sent is verified and accepted."""
    sent: list[VerifiedStream] = []

    def attempt() -> int:
        if sent:
            stored = _settled(session, image_id, image)
            status = stored.get("status")
            if status == "active" and sent[-1].complete:
                verify_stored(session, image_id, image, sent[-1], stored)
                return sent[-1].size
            if status != "queued":
                raise DataRefused(
                    f"image '{image}': after a failed upload Glance shows the image {status}"
                )
        return _upload_once(session, image_id, image, source, progress, sent)

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
    source: ImageSource,
    progress: ByteProgress | None,
    sent: list[VerifiedStream],
) -> int:
    with open_source(source, image, progress, session.timeout) as stream:
        sent.append(stream)
        try:
            response = session.raw(
                "PUT",
                f"/images/{image_id}/file",
                what=f"image '{image}': upload",
                data=iter(stream),
                headers={"Content-Type": "application/octet-stream"},
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
                # 401: the token expired mid-upload; the next request logs in again.
                transient=response.status_code in TRANSIENT_STATUS or response.status_code == 401,
            )
    verify_stored(session, image_id, image, stream)
    return stream.size


def _settled(session: CloudSession, image_id: str, image: str) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        stored = show(session, image_id, f"image '{image}': reading")
        if stored.get("status") != "saving" or time.monotonic() > deadline:
            return stored
        time.sleep(IMPORT_POLL_SECONDS)


def show(session: CloudSession, image_id: str, what: str) -> dict[str, Any]:
    response = session.glance("GET", f"/images/{image_id}", expect=(200,), what=what)
    body = session.json(response, what)
    if not isinstance(body, dict):
        raise CloudError(f"{what}: Glance answered JSON that is not an image")
    return body


def verify_stored(
    session: CloudSession,
    image_id: str,
    image: str,
    stream: VerifiedStream,
    stored: dict[str, Any] | None = None,
) -> None:
    """Glance's record of the upload must match what was sent: active, same size, same hash.
    Data that does not is deleted; data that does gets its source checksum recorded."""
    if stored is None:
        stored = show(session, image_id, f"image '{image}': reading")
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
    stored: dict[str, Any],
) -> None:
    """Write the source checksum on the image, only once its data is verified: the planner
    trusts the data of an image that carries it."""
    if source.checksum is None:
        return
    wanted = str(source.checksum)
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


def _reject(
    session: CloudSession, image_id: str, image: str, stored: dict[str, Any], why: str
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
    source: ImageSource,
    timeout: float = IMPORT_TIMEOUT_SECONDS,
) -> None:
    """Have Glance pull the URL, wait for the import (at most ``timeout`` seconds in all, over
    every try), and verify the stored bytes. A failed import puts the image back to queued, so
    it is tried again like a transient fault; an import already running is followed."""
    expected = source.checksum
    if expected is None:
        raise CloudError(f"image '{image}': web-download without a checksum cannot be verified")
    follower = _ImportFollower(session, image_id, image, source, timeout)
    try:
        stored = session.retrier.run(follower.attempt, attempts=IMPORT_ATTEMPTS)
    except ImportTimedOut:
        raise
    except CloudError as error:
        if not error.transient:
            raise
        # Glance says no more than that the task failed: ask the source ourselves whose
        # side the failure is on.
        try:
            probe_source(source, image, session.timeout)
        except SourceError as source_error:
            raise SourceError(
                *error.lines, f"the source fails for glance-catalog too: {source_error}"
            ) from error
        raise DataRefused(*error.lines) from error
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


class _ImportFollower:
    """One web-download across its tries: starts an import only when none of ours is running,
    and follows the import task Glance records for it."""

    def __init__(
        self,
        session: CloudSession,
        image_id: str,
        image: str,
        source: ImageSource,
        timeout: float,
    ) -> None:
        self._session = session
        self._image_id = image_id
        self._image = image
        self._source = source
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout
        # A failed import leaves os_glance_failed_import set for good, even across a new
        # import; the tasks of this run (those not seen before it) tell how ours ended.
        self._before = {str(task.get("id")) for task in self._tasks()}

    def _tasks(self) -> list[dict[str, Any]]:
        what = f"image '{self._image}': reading import tasks"
        response = self._session.glance(
            "GET", f"/images/{self._image_id}/tasks", expect=(200,), what=what
        )
        body = self._session.json(response, what)
        tasks = body.get("tasks", []) if isinstance(body, dict) else []
        return [task for task in tasks if isinstance(task, dict)]

    def _ours(self) -> list[dict[str, Any]]:
        return [task for task in self._tasks() if str(task.get("id")) not in self._before]

    def attempt(self) -> dict[str, Any]:
        stored = show(self._session, self._image_id, f"image '{self._image}': reading")
        if stored.get("status") == "active":
            return stored  # an earlier try whose answer was lost has finished
        running = [task for task in self._ours() if task.get("status") in RUNNING_TASK]
        if not running and stored.get("status") != "importing":
            self._start()
        return self._follow()

    def _start(self) -> None:
        what = f"image '{self._image}': starting web-download"
        response = self._session.raw(
            "POST",
            f"/images/{self._image_id}/import",
            what=what,
            json={"method": {"name": "web-download", "uri": fetch_url(self._source)}},
        )
        if response.status_code == 202:
            return
        if response.status_code == 409 and not any(
            task.get("status") in RUNNING_TASK for task in self._ours()
        ):
            raise DataRefused(
                f"{what}: Glance answered HTTP 409: {glance_message(response)} (an import "
                "lock left by an earlier import that is not running)"
            )
        if response.status_code != 409:
            raise self._session.http_error(what, response)

    def _follow(self) -> dict[str, Any]:
        location = self._source.location
        while True:
            stored = show(self._session, self._image_id, f"image '{self._image}': reading")
            status = stored.get("status")
            if status == "active":
                return stored
            ours = self._ours()
            failed = [task for task in ours if task.get("status") == "failure"]
            if (
                not failed
                and status == "queued"
                and not any(task.get("status") in RUNNING_TASK for task in ours)
            ):
                # The import we followed (one started before this run) ended without data.
                raise CloudError(
                    f"image '{self._image}': the import under way ended without data",
                    transient=True,
                )
            if failed:
                self._before |= {str(task.get("id")) for task in failed}
                reason = str(failed[0].get("message") or "no reason given")
                raise CloudError(
                    f"image '{self._image}': Glance could not import {location}: {reason}",
                    transient=status == "queued",
                )
            if status in ("killed", "deleted", "deactivated"):
                raise DataRefused(
                    f"image '{self._image}': import of {location} ended with status {status}"
                )
            if time.monotonic() > self._deadline:
                raise ImportTimedOut(
                    f"image '{self._image}': import of {location} still {status} after "
                    f"{self._timeout:g} s (--import-timeout)"
                )
            time.sleep(IMPORT_POLL_SECONDS)


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
