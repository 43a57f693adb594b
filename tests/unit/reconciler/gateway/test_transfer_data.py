"""reconciler.gateway.transfer: an upload sends the bytes an ImageData yields (it opens no file
and no URL), opens it again from byte 0 for a retry, and verifies what Glance stored against
the digests of the bytes sent, as strictly as ever."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from catalog.model import Checksum
from reconciler.core.observed import SOURCE_PROPERTY
from reconciler.errors import CloudError, SourceError
from reconciler.gateway import transfer
from reconciler.retry import Retrier, RetryPolicy

PAYLOAD = b"disk bytes " * 1000
CHECKSUM = Checksum.parse(f"sha256:{hashlib.sha256(PAYLOAD).hexdigest()}")


class BytesStream:
    """One read of bytes in memory, hashed as it is handed out."""

    failure: SourceError | None = None

    def __init__(self, payload: bytes) -> None:
        self._payload = payload
        self._hash = hashlib.sha512()
        self.size = 0
        self.complete = False

    @property
    def digests(self) -> dict[str, str]:
        return {"sha512": self._hash.hexdigest()}

    def __iter__(self) -> Iterator[bytes]:
        for start in range(0, len(self._payload), 4096):
            piece = self._payload[start : start + 4096]
            self._hash.update(piece)
            self.size += len(piece)
            yield piece
        self.complete = True


class BytesData:
    """An ImageData over bytes in memory that counts how often it is opened."""

    location = "memory"
    checksum = CHECKSUM

    def __init__(self, payload: bytes = PAYLOAD) -> None:
        self.payload = payload
        self.opens = 0

    @contextmanager
    def open(self) -> Iterator[BytesStream]:
        self.opens += 1
        yield BytesStream(self.payload)

    def fetch_url(self) -> str:
        raise AssertionError("an upload has Glance fetch nothing")

    def probe(self) -> None:
        raise AssertionError("an upload probes nothing")


class Answer:
    def __init__(self, status_code: int, body: Any = None) -> None:
        self.status_code = status_code
        self._body = body

    def json(self) -> Any:
        return self._body


class FakeSession:
    """Glance as the upload sees it: the first ``resets`` PUTs lose their answer after the
    body went out (the image stays queued); the next stores the bytes, with ``stored_hash``
    as Glance's hash of them (the real one when None)."""

    timeout = 5.0

    def __init__(self, resets: int = 0, stored_hash: str | None = None) -> None:
        self.retrier = Retrier(RetryPolicy(base=0.0))
        self.resets = resets
        self.stored_hash = stored_hash
        self.bodies: list[bytes] = []
        self.image: dict[str, Any] = {"id": "i", "status": "queued"}
        self.calls: list[tuple[str, str]] = []

    def raw(self, method: str, url: str, *, what: str, data: Any, **_: Any) -> Answer:
        self.bodies.append(b"".join(data))
        if len(self.bodies) <= self.resets:
            raise CloudError(f"{what}: connection reset", transient=True)
        body = self.bodies[-1]
        digest = self.stored_hash or hashlib.sha512(body).hexdigest()
        self.image.update(
            status="active", size=len(body), os_hash_algo="sha512", os_hash_value=digest
        )
        return Answer(204)

    def glance(self, method: str, url: str, *, expect: Any, what: str, **kwargs: Any) -> Answer:
        self.calls.append((method, url))
        if method == "PATCH":
            for op in json.loads(kwargs["data"]):
                self.image[op["path"].lstrip("/")] = op["value"]
            return Answer(200, self.image)
        if method == "DELETE":
            self.image["status"] = "deleted"
            return Answer(204)
        return Answer(200, dict(self.image))

    def json(self, response: Answer, what: str) -> Any:
        return response.json()


def test_a_retried_upload_opens_the_data_again_from_byte_0_and_records_the_checksum() -> None:
    session, data = FakeSession(resets=1), BytesData()
    assert transfer.upload(session, "i", "img", data) == len(PAYLOAD)  # type: ignore[arg-type]
    assert data.opens == 2 and session.bodies == [PAYLOAD, PAYLOAD]
    assert session.image[SOURCE_PROPERTY] == str(CHECKSUM)


def test_data_glance_stored_with_another_hash_is_deleted_and_nothing_recorded() -> None:
    session, data = FakeSession(stored_hash="0" * 128), BytesData()
    with pytest.raises(CloudError, match=r"Glance stored sha512 0{128} but we sent [0-9a-f]{128}"):
        transfer.upload(session, "i", "img", data)  # type: ignore[arg-type]
    assert ("DELETE", "/images/i") in session.calls
    assert SOURCE_PROPERTY not in session.image
