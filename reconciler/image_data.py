"""The boundary between the sources of image data and the gateway that sends it to Glance.

``sources/`` makes an ImageData (it opens, hashes and decompresses the bytes, and counts them
for a ByteProgress); the executor hands it to the gateway, which opens it once per try, each
time from byte 0, and never learns where the bytes come from. Only types live here, so that
both sides may import it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Protocol

from catalog.model import Checksum
from reconciler.errors import SourceError


class ByteProgress(Protocol):
    """Follows one transfer: ``start`` (again on a retry, from byte 0) with the size when it is
    known, ``advance`` per chunk sent, ``finish`` once at the end."""

    def start(self, total: int | None) -> None: ...
    def advance(self, count: int) -> None: ...
    def finish(self, ok: bool) -> None: ...


class ImageStream(Protocol):
    """One read of the data from byte 0: iterating it yields the bytes to send, and raises
    SourceError before the last piece when the source's published checksum is wrong (so
    that Glance never sees a complete upload of wrong data).

    ``failure`` is that SourceError once raised (a client library may wrap what the
    iterator raised); ``complete`` says every byte was handed out; ``size`` and ``digests``
    (algorithm -> hex digest, Glance's own algorithm among them) describe exactly the bytes
    handed out so far."""

    @property
    def failure(self) -> SourceError | None: ...
    @property
    def complete(self) -> bool: ...
    @property
    def size(self) -> int: ...
    @property
    def digests(self) -> Mapping[str, str]: ...
    def __iter__(self) -> Iterator[bytes]: ...


class ImageData(Protocol):
    """One image's data, made by ``sources/``: ``open`` reads it again from byte 0 (the file or
    connection is closed on exit); ``fetch_url`` is the URL Glance fetches for a web-download,
    ``probe`` raises SourceError when the source cannot be read. ``location`` names the
    source in messages (redacted); ``checksum`` is the published one, recorded on the image
    once its data is verified."""

    @property
    def location(self) -> str: ...
    @property
    def checksum(self) -> Checksum | None: ...
    def open(self) -> AbstractContextManager[ImageStream]: ...
    def fetch_url(self) -> str: ...
    def probe(self) -> None: ...


# Makes the ByteProgress of one upload, given the image name.
ProgressFactory = Callable[[str], ByteProgress | None]
