"""Open an image source (through the reader of its scheme) as a stream of pieces, hashed on
the fly and decompressed on the fly when the source is compressed; the SourceData the gateway
sends, and the probe preflight makes.

The stream withholds its last piece until the manifest's checksum is verified (and a compressed
source is seen to end where its format says): a mismatch raises instead of sending the final
bytes, so Glance never sees a complete upload of wrong data. Only one read chunk and one piece
are held at a time: memory stays constant whatever the image size.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from catalog.model import Checksum, Compression, ImageSource
from reconciler.errors import SourceError
from reconciler.image_data import ByteProgress
from reconciler.sources.decompress import CorruptData, StreamDecompressor
from reconciler.sources.http_reader import fetch_url
from reconciler.sources.readers import reader_for
from reconciler.sources.reading import PROBE_TIMEOUT, READ_TIMEOUT

# Pieces of the upload body: a WSGI server re-buffers each HTTP chunk Glance reads from, so
# 1 MiB chunks cost Glance half again as much CPU as 64 KiB ones (bench/README.md).
SEND_SIZE = 64 * 1024
# What Glance computes by default (its os_hash_algo); hashed alongside the manifest's algorithm.
GLANCE_HASH = "sha512"


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


@contextmanager
def open_source(
    source: ImageSource,
    image: str,
    progress: ByteProgress | None = None,
    timeout: float = READ_TIMEOUT,
) -> Iterator[VerifiedStream]:
    """A VerifiedStream over the source, opened by the reader of its scheme; the file or
    connection is closed on exit."""
    with reader_for(source, image).open(source, image, timeout) as read:
        yield VerifiedStream(read.chunks, source, image, read.size, progress)


def probe_source(source: ImageSource, image: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Check that the source can be read, without reading it (the file opens, the URL
    answers). Raises SourceError (``transient`` as for a fetch) when it cannot."""
    reader_for(source, image).probe(source, image, timeout)


class SourceData:
    """The data of one source as the gateway takes it (reconciler.image_data.ImageData): each
    ``open`` reads it again from byte 0, verified, decompressed and counted for
    ``progress``; URLs are read with ``timeout`` (--timeout)."""

    def __init__(
        self,
        source: ImageSource,
        image: str,
        progress: ByteProgress | None = None,
        timeout: float = READ_TIMEOUT,
    ) -> None:
        self._source = source
        self._image = image
        self._progress = progress
        self._timeout = timeout

    @property
    def location(self) -> str:
        return self._source.location

    @property
    def checksum(self) -> Checksum | None:
        return self._source.checksum

    def open(self) -> contextlib.AbstractContextManager[VerifiedStream]:
        return open_source(self._source, self._image, self._progress, self._timeout)

    def fetch_url(self) -> str:
        return fetch_url(self._source)

    def probe(self) -> None:
        probe_source(self._source, self._image, self._timeout)


# Runs a probe under the run's retry policy (Retrier.run).
Retrying = Callable[[Callable[[], None]], None]


class SourceProbe:
    """Preflight's question to the sources: can each be read (after the run's retries, each
    try waiting at most ``timeout`` seconds, and never more than 30)?"""

    def __init__(self, retrying: Retrying, timeout: float) -> None:
        self._retrying = retrying
        self._timeout = min(timeout, 30.0)

    def source_problem(self, source: ImageSource, image: str) -> str | None:
        """Why the source cannot be read, or None if it can."""
        try:
            self._retrying(lambda: probe_source(source, image, self._timeout))
        except SourceError as error:
            return " ".join(error.lines)
        return None
