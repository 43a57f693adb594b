"""reconciler.sources: streamed, hashed, and the last chunk withheld when the checksum is wrong."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from catalog.model import Checksum, ImageSource
from reconciler import sources
from reconciler.errors import SourceError
from reconciler.sources import VerifiedStream, open_source


def source_for(data: bytes, algorithm: str = "sha256") -> ImageSource:
    digest = hashlib.new(algorithm, data).hexdigest()
    return ImageSource(
        url=None, file=Path("/nowhere"), checksum=Checksum.parse(f"{algorithm}:{digest}")
    )


def test_a_matching_stream_yields_every_byte_and_knows_its_hashes() -> None:
    data = [b"a" * 10, b"b" * 10, b"c" * 5]
    stream = VerifiedStream(iter(data), source_for(b"".join(data), "sha512"), "img")
    assert b"".join(stream) == b"".join(data)
    assert stream.size == 25
    assert stream.digests == {"sha512": hashlib.sha512(b"".join(data)).hexdigest()}
    sha256 = VerifiedStream(iter(data), source_for(b"".join(data)), "img")
    assert b"".join(sha256) == b"".join(data)
    assert sha256.digests == {
        "sha256": hashlib.sha256(b"".join(data)).hexdigest(),
        "sha512": hashlib.sha512(b"".join(data)).hexdigest(),
    }


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple[str, int | None]] = []

    def start(self, total: int | None) -> None:
        self.events.append(("start", total))

    def advance(self, count: int) -> None:
        self.events.append(("advance", count))

    def finish(self, ok: bool) -> None:
        self.events.append(("finish", int(ok)))


def test_progress_hears_the_announced_size_and_every_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources, "CHUNK_SIZE", 1000)
    path = tmp_path / "disk.raw"
    path.write_bytes(b"x" * 2500)
    progress = RecordingProgress()
    with open_source(ImageSource(url=None, file=path, checksum=None), "img", progress) as stream:
        assert stream.expected_size == 2500
        assert len(b"".join(stream)) == 2500
    assert progress.events == [
        ("start", 2500),
        ("advance", 1000),
        ("advance", 1000),
        ("advance", 500),
    ]


def test_a_mismatch_raises_before_the_last_chunk_is_sent() -> None:
    data = [b"a" * 10, b"b" * 10, b"c" * 5]
    stream = VerifiedStream(iter(data), source_for(b"other"), "img")
    sent: list[bytes] = []
    with pytest.raises(SourceError, match="image 'img': checksum mismatch") as raised:
        for chunk in stream:
            sent.append(chunk)
    assert sent == data[:-1]
    assert stream.failure is raised.value
    assert "expected sha256:" in str(raised.value) and "the upload was aborted" in str(raised.value)


def test_a_file_source_streams_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "CHUNK_SIZE", 4096)
    path = tmp_path / "disk.raw"
    path.write_bytes(bytes(range(256)) * 100)
    source = ImageSource(url=None, file=path, checksum=None)
    with open_source(source, "img") as stream:
        chunks = list(stream)
    assert max(len(chunk) for chunk in chunks) == 4096
    assert b"".join(chunks) == path.read_bytes()


def test_an_unreadable_file_is_a_source_error(tmp_path: Path) -> None:
    source = ImageSource(url=None, file=tmp_path / "gone.raw", checksum=None)
    with pytest.raises(SourceError, match="image 'img': cannot read"), open_source(source, "img"):
        pass
