"""reconciler.sources.decompress: each format round trips in bounded pieces; concatenated
streams and zero padding are decoded; truncated, corrupt or foreign bytes raise CorruptData."""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
import sys
from collections.abc import Callable, Iterable

import pytest

from catalog.model import Compression
from reconciler.sources.decompress import CorruptData, StreamDecompressor

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

COMPRESSORS: dict[Compression, Callable[[bytes], bytes]] = {
    Compression.GZ: gzip.compress,
    Compression.BZ2: bz2.compress,
    Compression.XZ: lambda data: lzma.compress(data, format=lzma.FORMAT_XZ),
    # With the content checksum, as the zstd command writes it.
    Compression.ZST: lambda data: zstd.compress(
        data, options={zstd.CompressionParameter.checksum_flag: 1}
    ),
}
KINDS = list(COMPRESSORS)
PIECE = 64 * 1024


def sample(size: int, seed: int = 1) -> bytes:
    """Random blocks and repeated ones: compressible, but not trivially."""
    rng = random.Random(seed)
    block = rng.randbytes(4096)
    parts = [rng.randbytes(4096) if index % 3 else block for index in range(size // 4096 + 1)]
    return b"".join(parts)[:size]


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[offset : offset + size] for offset in range(0, len(data), size)]


def decompress(kind: Compression, chunks: Iterable[bytes], piece: int = PIECE) -> list[bytes]:
    decompressor = StreamDecompressor(kind, piece)
    pieces = [out for chunk in chunks for out in decompressor.feed(chunk)]
    decompressor.finish()
    assert decompressor.size == sum(len(out) for out in pieces)
    return pieces


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("chunk_size", [1, 1000, 1024 * 1024])
def test_each_format_round_trips_in_pieces_of_at_most_the_piece_size(
    kind: Compression, chunk_size: int
) -> None:
    data = sample(300_000 if chunk_size > 1 else 20_000)
    pieces = decompress(kind, chunked(COMPRESSORS[kind](data), chunk_size))
    assert b"".join(pieces) == data
    assert max(len(out) for out in pieces) <= PIECE


@pytest.mark.parametrize("kind", KINDS)
def test_highly_compressible_input_comes_out_in_bounded_pieces_as_it_is_read(
    kind: Compression,
) -> None:
    # 64 MiB of zeros: a few KiB compressed, handed over as one chunk.
    size = 64 * 1024 * 1024
    compressed = COMPRESSORS[kind](bytes(size))
    assert len(compressed) < 1024 * 1024
    decompressor = StreamDecompressor(kind, PIECE)
    pieces = decompressor.feed(compressed)
    first = next(pieces)
    # Lazy: one piece taken, one piece decoded, not the whole 64 MiB.
    assert len(first) <= PIECE and decompressor.size == len(first)
    total, largest = len(first), len(first)
    for out in pieces:
        total, largest = total + len(out), max(largest, len(out))
    decompressor.finish()
    assert total == size and largest <= PIECE


@pytest.mark.parametrize("kind", KINDS)
def test_concatenated_streams_and_zero_padding_are_decoded_one_after_the_other(
    kind: Compression,
) -> None:
    first, second = sample(100_000, 2), sample(70_000, 3)
    compress = COMPRESSORS[kind]
    published = compress(first) + compress(second) + bytes(8) + compress(b"") + bytes(4)
    assert b"".join(decompress(kind, chunked(published, 7000))) == first + second + b""


def test_multi_member_gzip_as_pigz_and_cat_make_it() -> None:
    members = [sample(50_000, seed) for seed in range(5)]
    published = b"".join(gzip.compress(member, mtime=0) for member in members)
    assert b"".join(decompress(Compression.GZ, [published])) == b"".join(members)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("keep", [0.5, 0.99, -1])
def test_a_truncated_stream_is_corrupt_data_at_finish(kind: Compression, keep: float) -> None:
    compressed = COMPRESSORS[kind](sample(200_000))
    cut = len(compressed) - 1 if keep == -1 else int(len(compressed) * keep)
    decompressor = StreamDecompressor(kind, PIECE)
    with pytest.raises(CorruptData) as raised:
        for _ in decompressor.feed(compressed[:cut]):
            pass
        decompressor.finish()
    reason = raised.value.reason
    assert reason.startswith(f"the data ends before the end of the {kind} stream (truncated"), (
        reason
    )
    assert not raised.value.at_start


@pytest.mark.parametrize("kind", KINDS)
def test_a_truncated_second_stream_names_it(kind: Compression) -> None:
    compress = COMPRESSORS[kind]
    published = compress(sample(10_000)) + compress(sample(10_000, 2))[:-3]
    with pytest.raises(CorruptData, match=f"before the end of {kind} stream 2 "):
        decompress(kind, [published])


@pytest.mark.parametrize("kind", KINDS)
def test_corrupt_bytes_inside_the_stream_are_corrupt_data(kind: Compression) -> None:
    compressed = bytearray(COMPRESSORS[kind](sample(400_000)))
    for offset in range(len(compressed) // 2, len(compressed) // 2 + 64):
        compressed[offset] ^= 0xFF
    with pytest.raises(CorruptData) as raised:
        decompress(kind, chunked(bytes(compressed), 4096))
    assert raised.value.reason.startswith(f"corrupt data in the {kind} stream after ")
    assert not raised.value.at_start


@pytest.mark.parametrize("kind", KINDS)
def test_bytes_that_are_not_compressed_are_refused_at_the_start(kind: Compression) -> None:
    with pytest.raises(CorruptData) as raised:
        decompress(kind, [sample(10_000)])
    assert raised.value.reason == f"it is not {kind} data (it does not begin as {kind} data does)"
    assert raised.value.at_start


@pytest.mark.parametrize("kind", KINDS)
def test_garbage_after_the_end_is_corrupt_data(kind: Compression) -> None:
    for garbage in (b"\0\0trailing garbage", b"junk"):
        published = COMPRESSORS[kind](sample(10_000)) + garbage
        with pytest.raises(CorruptData) as raised:
            decompress(kind, [published])
        expected = f"the bytes after the end of {kind} stream 1 are not {kind} data"
        assert raised.value.reason == expected


@pytest.mark.parametrize("kind", KINDS)
def test_an_empty_source_is_corrupt_data(kind: Compression) -> None:
    with pytest.raises(CorruptData, match=f"the source is empty, not {kind} data"):
        decompress(kind, [])


def test_none_is_not_a_compression_to_undo() -> None:
    with pytest.raises(ValueError, match="nothing to decompress"):
        StreamDecompressor(Compression.NONE, PIECE)
