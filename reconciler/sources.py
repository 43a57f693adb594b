"""Open an image source (http(s) URL or file) as a stream of chunks, hashed on the fly.

The stream withholds its last chunk until the manifest's checksum is verified: a mismatch raises
instead of sending the final bytes, so Glance never sees a complete upload of wrong data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import requests

from catalog.model import ImageSource
from reconciler.errors import SourceError

CHUNK_SIZE = 1024 * 1024
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0


class VerifiedStream:
    """Iterates the source's bytes; raises SourceError at the end if the checksum is wrong.

    After a complete iteration ``size``, ``sha512`` (Glance's os_hash_algo) and ``checksum`` (the
    manifest's algorithm) describe exactly the bytes that were yielded.
    """

    def __init__(
        self,
        chunks: Iterator[bytes],
        source: ImageSource,
        image: str,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self._chunks = chunks
        self._source = source
        self._image = image
        self._on_progress = on_progress
        algorithm = source.checksum.algorithm.value if source.checksum else "sha256"
        self._manifest_hash = hashlib.new(algorithm)
        self._sha512 = hashlib.sha512()
        self.size = 0
        self.failure: SourceError | None = None

    @property
    def sha512(self) -> str:
        return self._sha512.hexdigest()

    @property
    def checksum(self) -> str:
        return f"{self._manifest_hash.name}:{self._manifest_hash.hexdigest()}"

    def _account(self, chunk: bytes) -> None:
        self._manifest_hash.update(chunk)
        self._sha512.update(chunk)
        self.size += len(chunk)
        if self._on_progress is not None:
            self._on_progress(len(chunk))

    def __iter__(self) -> Iterator[bytes]:
        held: bytes | None = None
        for chunk in self._chunks:
            if not chunk:
                continue
            if held is not None:
                yield held
            self._account(chunk)
            held = chunk
        expected = self._source.checksum
        if expected is not None and self.checksum != str(expected):
            self.failure = SourceError(
                f"image '{self._image}': checksum mismatch for {self._source.location}: "
                f"expected {expected}, got {self.checksum}; the upload was aborted"
            )
            raise self.failure
        if held is not None:
            yield held


def _file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK_SIZE):
        yield chunk


def _url_chunks(response: requests.Response, image: str, url: str) -> Iterator[bytes]:
    expected = response.headers.get("Content-Length")
    received = 0
    try:
        for chunk in response.iter_content(CHUNK_SIZE):
            received += len(chunk)
            yield chunk
    except requests.RequestException as error:
        raise SourceError(
            f"image '{image}': reading {url} failed after {received} bytes: {error}"
        ) from error
    if expected is not None and expected.isdigit() and received != int(expected):
        raise SourceError(f"image '{image}': {url} ended after {received} of {expected} bytes")


@contextmanager
def open_source(
    source: ImageSource, image: str, on_progress: Callable[[int], None] | None = None
) -> Iterator[VerifiedStream]:
    """A VerifiedStream over the source; the file or connection is closed on exit."""
    if source.file is not None:
        try:
            handle = source.file.open("rb")
        except OSError as error:
            raise SourceError(
                f"image '{image}': cannot read {source.file}: {error.strerror}"
            ) from error
        with handle:
            yield VerifiedStream(_file_chunks(handle), source, image, on_progress)
        return
    assert source.url is not None
    response = _get(source.url, image)
    with response:
        yield VerifiedStream(_url_chunks(response, image, source.url), source, image, on_progress)


def _get(url: str, image: str) -> Any:
    try:
        response = requests.get(url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    except requests.RequestException as error:
        raise SourceError(f"image '{image}': cannot fetch {url}: {error}") from error
    if response.status_code != 200:
        response.close()
        raise SourceError(f"image '{image}': {url} answered HTTP {response.status_code}")
    return response
