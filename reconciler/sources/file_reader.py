"""The reader of ``file`` sources: a local path, given by the manifest's ``file:``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO

from catalog.model import ImageSource
from reconciler.errors import SourceError
from reconciler.sources.reading import CHUNK_SIZE, SourceBytes


class FileReader:
    """Opens the source's file (its ``file``)."""

    @contextmanager
    def open(self, source: ImageSource, image: str, timeout: float) -> Iterator[SourceBytes]:
        path = _path(source)
        with _opened(path, image) as handle:
            size = os.fstat(handle.fileno()).st_size
            yield SourceBytes(_chunks(handle, image, str(path)), size)

    def probe(self, source: ImageSource, image: str, timeout: float) -> None:
        with _opened(_path(source), image):
            return

    def document(
        self, url: str, location: str, timeout: float
    ) -> AbstractContextManager[Iterator[bytes]]:
        raise SourceError(f"{location}: a file source is a path, not a URL to read")


def _path(source: ImageSource) -> Path:
    assert source.file is not None, "a file reader reads file sources only"
    return source.file


def _opened(path: Path, image: str) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as error:
        raise SourceError(f"image '{image}': cannot read {path}: {error.strerror}") from error


def _chunks(handle: IO[bytes], image: str, path: str) -> Iterator[bytes]:
    try:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk
    except OSError as error:
        raise SourceError(f"image '{image}': reading {path} failed: {error.strerror}") from error
