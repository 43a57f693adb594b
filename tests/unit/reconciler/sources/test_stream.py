"""reconciler.sources.stream: streamed, hashed, and the last chunk withheld when the checksum is
wrong."""

from __future__ import annotations

import hashlib
import lzma
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

import pytest

from catalog.model import Checksum, Compression, ImageSource
from reconciler.errors import SourceError
from reconciler.sources import file_reader
from reconciler.sources import stream as sources
from reconciler.sources.stream import SourceData, SourceProbe, VerifiedStream, open_source


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
    monkeypatch.setattr(file_reader, "CHUNK_SIZE", 1000)
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
    monkeypatch.setattr(file_reader, "CHUNK_SIZE", 4096)
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


def xz_source(published: bytes, checksum_of: bytes | None = None) -> ImageSource:
    digest = hashlib.sha256(published if checksum_of is None else checksum_of).hexdigest()
    return ImageSource(
        url="https://127.0.0.1/disk.raw.xz",
        file=None,
        checksum=Checksum.parse(f"sha256:{digest}"),
        compression=Compression.XZ,
    )


def chunks_of(data: bytes, size: int = 1000) -> list[bytes]:
    return [data[offset : offset + size] for offset in range(0, len(data), size)]


def test_a_compressed_source_yields_the_decompressed_bytes_checked_against_the_published() -> None:
    disk = bytes(range(256)) * 2000 + bytes(300_000)
    published = lzma.compress(disk)
    stream = VerifiedStream(iter(chunks_of(published)), xz_source(published), "img")
    sent = list(stream)
    assert b"".join(sent) == disk and max(len(piece) for piece in sent) <= sources.SEND_SIZE
    assert stream.complete and stream.size == len(disk) and stream.read == len(published)
    # Glance's hash is of what it stores: the decompressed bytes.
    assert stream.digests == {"sha512": hashlib.sha512(disk).hexdigest()}


def test_a_compressed_source_with_a_wrong_published_checksum_withholds_its_last_piece() -> None:
    disk = bytes(range(256)) * 2000
    published = lzma.compress(disk)
    # The checksum of the decompressed bytes is not the published bytes' checksum.
    stream = VerifiedStream(iter(chunks_of(published)), xz_source(published, disk), "img")
    sent: list[bytes] = []
    with pytest.raises(SourceError, match="image 'img': checksum mismatch for https://") as raised:
        sent.extend(stream)
    assert len(b"".join(sent)) < len(disk) and not stream.complete
    assert stream.failure is raised.value


@pytest.mark.parametrize(
    ("published", "reason"),
    [
        (
            lzma.compress(bytes(range(256)) * 2000)[:-20],
            "the data ends before the end of the xz stream (truncated after ",
        ),
        (b"plain bytes, not xz", "it is not xz data (it does not begin as xz data does); if the "),
    ],
)
def test_a_truncated_or_foreign_compressed_source_is_a_source_error_before_its_last_piece(
    published: bytes, reason: str
) -> None:
    stream = VerifiedStream(iter(chunks_of(published)), xz_source(published), "img")
    with pytest.raises(SourceError) as raised:
        list(stream)
    message = str(raised.value)
    assert message.startswith(
        f"image 'img': cannot decompress https://127.0.0.1/disk.raw.xz as xz: {reason}"
    ), message
    assert "\n" not in message and "so Glance did not activate the image" in message
    assert stream.failure is raised.value and not stream.complete


def test_progress_counts_the_bytes_read_from_a_compressed_source(tmp_path: Path) -> None:
    path = tmp_path / "disk.raw.xz"
    path.write_bytes(lzma.compress(bytes(5_000_000)))
    progress = RecordingProgress()
    source = ImageSource(url=None, file=path, checksum=None, compression=Compression.XZ)
    with open_source(source, "img", progress) as stream:
        assert sum(len(piece) for piece in stream) == 5_000_000
    assert progress.events[0] == ("start", path.stat().st_size)
    assert sum(count for event, count in progress.events[1:] if count) == path.stat().st_size


def test_source_data_reads_the_source_again_from_byte_0_at_each_open(tmp_path: Path) -> None:
    path = tmp_path / "disk.raw"
    path.write_bytes(b"0123456789")
    source = replace(source_for(b"0123456789"), url=None, file=path)
    data = SourceData(source, "img")
    assert (data.location, data.checksum) == (str(path), source.checksum)
    for _ in range(2):
        with data.open() as stream:
            assert b"".join(stream) == b"0123456789" and stream.complete
    data.probe()


def test_the_source_probe_retries_and_names_what_it_could_not_read(tmp_path: Path) -> None:
    tries: list[int] = []

    def retrying(probe: Callable[[], None]) -> None:
        for _ in range(3):
            tries.append(1)
            with suppress(SourceError):
                probe()
        probe()

    missing = ImageSource(url=None, file=tmp_path / "gone.raw", checksum=None)
    problem = SourceProbe(retrying, 60.0).source_problem(missing, "img")
    assert problem is not None and problem.startswith("image 'img': cannot read ")
    assert len(tries) == 3
    (tmp_path / "gone.raw").write_bytes(b"x")
    assert SourceProbe(retrying, 60.0).source_problem(missing, "img") is None
