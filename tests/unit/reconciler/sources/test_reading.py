"""reconciler.sources.reading: what a reader of one source scheme promises, held by the readers
the registry (readers.py) maps schemes to: a source opened as chunks of at most CHUNK_SIZE
with its size announced up front, closed on exit, and every failure a SourceError naming the
image and the source by its redacted location."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from catalog.model import ImageSource
from catalog.schemes import SOURCE_SCHEMES
from reconciler.errors import SourceError
from reconciler.sources.readers import READER_BY_SCHEME
from reconciler.sources.reading import (
    CHUNK_SIZE,
    PROBE_TIMEOUT,
    READ_TIMEOUT,
    SourceBytes,
    SourceReader,
)

# Nothing listens on port 1 of 127.0.0.1: the connection is refused at once.
SECRET_URL = "http://reader:s3cret@127.0.0.1:1/u.img?token=t0ken"


def file_source(path: Path) -> ImageSource:
    return ImageSource(url=None, file=path, checksum=None)


def test_every_scheme_the_catalog_accepts_has_a_reader_and_no_other() -> None:
    assert set(READER_BY_SCHEME) == {scheme.name for scheme in SOURCE_SCHEMES}
    readers: list[SourceReader] = list(READER_BY_SCHEME.values())
    assert READER_BY_SCHEME["http"] is not READER_BY_SCHEME["file"] and len(readers) == 3


def test_a_file_opens_as_chunks_of_at_most_chunk_size_with_its_size_up_front(
    tmp_path: Path,
) -> None:
    data = bytes(range(256)) * ((2 * CHUNK_SIZE + 5) // 256 + 1)
    path = tmp_path / "disk.raw"
    path.write_bytes(data)
    opened: AbstractContextManager[SourceBytes] = READER_BY_SCHEME["file"].open(
        file_source(path), "ubuntu", READ_TIMEOUT
    )
    with opened as read:
        assert isinstance(read, SourceBytes)
        assert read.size == len(data)
        chunks = list(read.chunks)
    assert b"".join(chunks) == data
    assert all(0 < len(chunk) <= CHUNK_SIZE for chunk in chunks)
    assert len(chunks) == -(-len(data) // CHUNK_SIZE)


def test_a_file_is_closed_when_its_reading_ends(tmp_path: Path) -> None:
    path = tmp_path / "disk.raw"
    path.write_bytes(b"x" * 10)
    with READER_BY_SCHEME["file"].open(file_source(path), "ubuntu", READ_TIMEOUT) as read:
        chunks = read.chunks
    # The generator reads a closed file: it fails as a read, never hangs or yields.
    with pytest.raises(ValueError, match="closed file"):
        next(chunks)


def test_a_missing_file_fails_open_and_probe_naming_the_image_and_the_path(
    tmp_path: Path,
) -> None:
    missing = file_source(tmp_path / "nowhere.raw")
    reader = READER_BY_SCHEME["file"]
    with pytest.raises(SourceError) as probed:
        reader.probe(missing, "ubuntu", PROBE_TIMEOUT)
    with pytest.raises(SourceError) as opened, reader.open(missing, "ubuntu", READ_TIMEOUT):
        pass
    for error in (probed.value, opened.value):
        assert error.lines == (
            f"image 'ubuntu': cannot read {tmp_path / 'nowhere.raw'}: No such file or directory",
        )


def test_a_url_that_cannot_be_read_fails_naming_the_image_never_the_credentials() -> None:
    source = ImageSource(url=SECRET_URL, file=None, checksum=None)
    reader = READER_BY_SCHEME["http"]
    with pytest.raises(SourceError) as probed:
        reader.probe(source, "ubuntu", PROBE_TIMEOUT)
    with pytest.raises(SourceError) as opened, reader.open(source, "ubuntu", READ_TIMEOUT):
        pass
    for error in (probed.value, opened.value):
        (line,) = error.lines
        assert line.startswith(f"image 'ubuntu': cannot fetch {source.location}: ")
        assert "s3cret" not in line and "t0ken" not in line
        # A refused connection may answer next time.
        assert error.transient


def test_a_document_url_that_cannot_be_read_fails_naming_its_location() -> None:
    reader = READER_BY_SCHEME["https"]
    location = "the checksum file of 'ubuntu'"
    with pytest.raises(SourceError) as failed, reader.document(SECRET_URL, location, PROBE_TIMEOUT):
        pass
    (line,) = failed.value.lines
    assert line.startswith(f"cannot fetch {location}: ") and "s3cret" not in line
    # A file source is a path: a reader of files is never asked for a document.
    with pytest.raises(SourceError, match="a file source is a path, not a URL"):
        READER_BY_SCHEME["file"].document("/etc/hostname", "a path", PROBE_TIMEOUT)
