"""What a reader of one source scheme does (see readers.py, which maps schemes to readers):
open a source as the chunks of its bytes as published, or check that it can be read."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import NamedTuple, Protocol

from catalog.model import ImageSource

CHUNK_SIZE = 1024 * 1024
READ_TIMEOUT = 60.0
PROBE_TIMEOUT = 10.0


class SourceBytes(NamedTuple):
    """A source being read: its bytes as published, in chunks of at most CHUNK_SIZE, and its
    size announced up front (file size, Content-Length) when known. The chunks raise
    SourceError (``transient`` when trying again may help) when the read fails."""

    chunks: Iterator[bytes]
    size: int | None


class SourceReader(Protocol):
    """Reads the sources of one scheme family. Every failure is a SourceError naming the
    image (``image '<name>': ...``) and the source by its redacted location."""

    def open(
        self, source: ImageSource, image: str, timeout: float
    ) -> AbstractContextManager[SourceBytes]:
        """The source's bytes; the file or connection is closed on exit."""
        ...

    def probe(self, source: ImageSource, image: str, timeout: float) -> None:
        """Check that the source can be read, without reading it."""
        ...

    def document(
        self, url: str, location: str, timeout: float
    ) -> AbstractContextManager[Iterator[bytes]]:
        """The bytes of the document (a checksum file, a signature, a release index) at
        ``url`` (expanded), any transfer encoding undone; SourceErrors name ``location``. A
        scheme written as a path (SourceScheme.url false) is never asked."""
        ...
