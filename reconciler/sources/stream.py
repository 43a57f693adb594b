"""Open an image source (http(s) URL or file) as a stream of pieces, hashed on the fly and
decompressed on the fly when the source is compressed.

The stream withholds its last piece until the manifest's checksum is verified (and a compressed
source is seen to end where its format says): a mismatch raises instead of sending the final
bytes, so Glance never sees a complete upload of wrong data. Only one read chunk and one piece
are held at a time: memory stays constant whatever the image size.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol

import requests
import urllib3

from catalog.errors import GlanceCatalogError
from catalog.model import Compression, ImageSource
from reconciler.errors import SourceError
from reconciler.failures import failure_reason
from reconciler.sources.decompress import CorruptData, StreamDecompressor

CHUNK_SIZE = 1024 * 1024
# Pieces of the upload body: a WSGI server re-buffers each HTTP chunk Glance reads from, so
# 1 MiB chunks cost Glance half again as much CPU as 64 KiB ones (bench/README.md).
SEND_SIZE = 64 * 1024
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
PROBE_TIMEOUT = 10.0
# What Glance computes by default (its os_hash_algo); hashed alongside the manifest's algorithm.
GLANCE_HASH = "sha512"


class ByteProgress(Protocol):
    """Follows one transfer: ``start`` (again on a retry, from byte 0) with the size when it is
    known, ``advance`` per chunk sent, ``finish`` once at the end."""

    def start(self, total: int | None) -> None: ...
    def advance(self, count: int) -> None: ...
    def finish(self, ok: bool) -> None: ...


class VerifiedStream:
    """Iterates the bytes to send, in pieces of at most SEND_SIZE: the source's bytes, or what
    they decompress to when the source is compressed. Raises SourceError before the last piece
    if the checksum (of the source's bytes as published) is wrong, or if a compressed source is
    corrupt or ends early.

    After a complete iteration ``size`` and ``digests`` (algorithm -> hex digest: Glance's, and
    the manifest's when the source is not compressed) describe exactly the bytes that were
    yielded; ``read`` counts the source's bytes. ``expected_size`` is the source's size
    announced up front (file size, Content-Length) when known; progress counts source bytes.
    """

    def __init__(
        self,
        chunks: Iterator[bytes],
        source: ImageSource,
        image: str,
        expected_size: int | None = None,
        progress: ByteProgress | None = None,
    ) -> None:
        self._chunks = chunks
        self.source = source
        self._image = image
        self._progress = progress
        self.expected_size = expected_size
        self._decompressor = (
            None
            if source.compression is Compression.NONE
            else StreamDecompressor(source.compression, SEND_SIZE)
        )
        algorithms = {GLANCE_HASH}
        published = source.checksum.algorithm.value if source.checksum is not None else None
        if published is not None and self._decompressor is None:
            algorithms.add(published)
        self._hashes = {algorithm: hashlib.new(algorithm) for algorithm in sorted(algorithms)}
        # The hash of the bytes as published: when nothing is undone, the sent bytes' own.
        self._published = (
            None
            if published is None
            else self._hashes[published]
            if self._decompressor is None
            else hashlib.new(published)
        )
        self.size = 0
        self.read = 0
        self.failure: SourceError | None = None
        # Every byte of the source was handed out (what Glance received is another matter).
        self.complete = False

    @property
    def digests(self) -> dict[str, str]:
        return {algorithm: digest.hexdigest() for algorithm, digest in self._hashes.items()}

    def _account(self, piece: bytes) -> None:
        for digest in self._hashes.values():
            digest.update(piece)
        self.size += len(piece)

    def _pieces(self) -> Iterator[bytes]:
        """The pieces to send, the source's bytes hashed as they are read."""
        for chunk in self._chunks:
            if not chunk:
                continue
            self.read += len(chunk)
            if self._progress is not None:
                self._progress.advance(len(chunk))
            if self._decompressor is None:
                yield from _pieces(chunk)
                continue
            if self._published is not None:
                self._published.update(chunk)
            try:
                yield from self._decompressor.feed(chunk)
            except CorruptData as error:
                raise self._fail(self._corrupt(error)) from error

    def __iter__(self) -> Iterator[bytes]:
        if self._progress is not None:
            self._progress.start(self.expected_size)
        held: bytes | None = None
        for piece in self._pieces():
            if held is not None:
                yield held
            self._account(piece)
            held = piece
        expected = self.source.checksum
        if expected is not None and self._published is not None:
            actual = self._published.hexdigest()
            if actual != expected.hexdigest:
                raise self._fail(
                    f"image '{self._image}': checksum mismatch for {self.source.location}: "
                    f"expected {expected}, got {expected.algorithm.value}:{actual}; the upload "
                    "was aborted before its last bytes, so Glance did not activate the image"
                )
        if self._decompressor is not None:
            try:
                self._decompressor.finish()
            except CorruptData as error:
                raise self._fail(self._corrupt(error)) from error
        if held is not None:
            yield held
        self.complete = True

    def _corrupt(self, error: CorruptData) -> str:
        hint = (
            "; if the source is not compressed, set source.decompress: none"
            if error.at_start
            else ""
        )
        return (
            f"image '{self._image}': cannot decompress {self.source.location} as "
            f"{self.source.compression}: {error.reason}{hint}; the upload was aborted before "
            "its last bytes, so Glance did not activate the image"
        )

    def _fail(self, message: str) -> SourceError:
        self.failure = SourceError(message)
        return self.failure


def _pieces(chunk: bytes) -> Iterator[bytes]:
    if len(chunk) <= SEND_SIZE:
        yield chunk
        return
    view = memoryview(chunk)
    for offset in range(0, len(chunk), SEND_SIZE):
        yield bytes(view[offset : offset + SEND_SIZE])


def _file_chunks(handle: IO[bytes], image: str, path: str) -> Iterator[bytes]:
    try:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk
    except OSError as error:
        raise SourceError(f"image '{image}': reading {path} failed: {error.strerror}") from error


def _url_chunks(
    response: requests.Response, image: str, url: str, timeout: float
) -> Iterator[bytes]:
    expected = response.headers.get("Content-Length")
    received = 0
    try:
        # The bytes as served: a Content-Encoding is not undone, as the checksum is of the file.
        for chunk in response.raw.stream(CHUNK_SIZE, decode_content=False):
            received += len(chunk)
            yield chunk
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as error:
        # Not tried again: a source that stalled once tends to stall again, and each try
        # would cost another full timeout.
        raise SourceError(
            f"image '{image}': {url} sent no data for {timeout:g} s after {received} bytes "
            "(--timeout); not retried"
        ) from error
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
        raise SourceError(
            f"image '{image}': reading {url} failed after {received} bytes: "
            f"{failure_reason(error, timeout)}",
            transient=True,
        ) from error
    if expected is not None and expected.isdigit() and received != int(expected):
        raise SourceError(
            f"image '{image}': {url} ended after {received} of {expected} bytes", transient=True
        )


def fetch_url(source: ImageSource) -> str:
    """The URL to fetch, its ${VAR} expanded; a variable that is unset (it was set when the
    manifest was validated) is a SourceError rather than a crash."""
    try:
        return source.fetch_url()
    except GlanceCatalogError as error:
        raise SourceError(f"source {source.location}: {' '.join(error.lines)}") from error


@contextmanager
def open_source(
    source: ImageSource,
    image: str,
    progress: ByteProgress | None = None,
    timeout: float = READ_TIMEOUT,
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
            size = os.fstat(handle.fileno()).st_size
            yield VerifiedStream(
                _file_chunks(handle, image, str(source.file)), source, image, size, progress
            )
        return
    response = _get(source, image, timeout)
    with response:
        length = response.headers.get("Content-Length")
        yield VerifiedStream(
            _url_chunks(response, image, source.location, timeout),
            source,
            image,
            int(length) if length and length.isdigit() else None,
            progress,
        )


def _get(
    source: ImageSource,
    image: str,
    timeout: float,
    headers: dict[str, str] | None = None,
) -> Any:
    return http_get(fetch_url(source), source.location, timeout, headers, f"image '{image}': ")


def http_get(
    url: str,
    location: str,
    timeout: float,
    headers: dict[str, str] | None = None,
    prefix: str = "",
) -> Any:
    """The streamed answer of a GET of ``url`` (expanded, its secrets registered), 200 or 206;
    raises SourceError (``transient`` when trying again may help) naming ``location`` (what
    to call it in messages, its URL redacted) after ``prefix``."""
    try:
        response = requests.get(
            url,
            stream=True,
            timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
            headers=headers,
        )
    except (requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL) as error:
        # Also a redirect to file:// or ftp://: the same every time, so not tried again.
        raise SourceError(
            f"{prefix}cannot fetch {location}: it leads to a URL that is not http(s) ({error})"
        ) from error
    except requests.exceptions.TooManyRedirects as error:
        raise SourceError(f"{prefix}cannot fetch {location}: too many redirects") from error
    except requests.exceptions.Timeout as error:
        raise SourceError(
            f"{prefix}cannot fetch {location}: no answer within {timeout:g} s",
            transient=isinstance(error, requests.exceptions.ConnectTimeout),
        ) from error
    except requests.RequestException as error:
        raise SourceError(
            f"{prefix}cannot fetch {location}: {failure_reason(error, timeout)}",
            transient=True,
        ) from error
    if response.status_code not in (200, 206):
        response.close()
        raise SourceError(
            f"{prefix}{location} answered HTTP {response.status_code}",
            transient=response.status_code >= 500 or response.status_code == 429,
        )
    return response


def probe_source(source: ImageSource, image: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Check that the source can be read, without reading it: the file opens, or the URL
    answers a one-byte ranged GET (a HEAD is not used: signed URLs are often signed for GET
    only). Raises SourceError (``transient`` as for a fetch) when it cannot."""
    if source.file is not None:
        try:
            with source.file.open("rb"):
                return
        except OSError as error:
            raise SourceError(
                f"image '{image}': cannot read {source.file}: {error.strerror}"
            ) from error
    response = _get(source, image, timeout, headers={"Range": "bytes=0-0"})
    response.close()
