"""Undo a source's compression (xz, gz, bz2, zst) as its bytes stream by, in constant memory.

Input is fed in slices of at most ``INPUT_SLICE`` bytes and every decoder call is capped at
``piece_size`` bytes of output, so that neither a large read chunk nor a highly compressible one
(256 MiB of zeros is a few KiB of xz) ever expands in memory: what is held is one slice, one
piece and the decoder's own window. Concatenated streams (multi-member gzip, pbzip2's streams,
xz streams, zstd frames) are decoded one after the other; zero bytes between or after them are
padding. Anything else after a stream must be another stream of the same format.
"""

from __future__ import annotations

import bz2
import lzma
import sys
import zlib
from collections.abc import Callable, Iterator
from typing import Protocol

from catalog.model import Compression

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

INPUT_SLICE = 64 * 1024
# How each format's streams begin: bytes that do not are not that format at all.
_MAGIC: dict[Compression, tuple[bytes, ...]] = {
    Compression.GZ: (b"\x1f\x8b",),
    Compression.BZ2: (b"BZh",),
    Compression.XZ: (b"\xfd7zXZ\x00",),
    # A frame, or one of the 16 kinds of skippable frame.
    Compression.ZST: (
        b"\x28\xb5\x2f\xfd",
        *(bytes([n, 0x2A, 0x4D, 0x18]) for n in range(0x50, 0x60)),
    ),
}
# Every decoder's error type: bz2 raises OSError, and EOFError is data after the end.
DECODE_ERRORS = (zlib.error, lzma.LZMAError, zstd.ZstdError, OSError, EOFError, ValueError)


class CorruptData(ValueError):
    """The bytes are not a complete, valid stream of the compression. ``reason`` is a phrase
    that can follow 'cannot decompress SOURCE as xz: '; ``at_start`` is true when the source
    does not even begin as the format's streams do (it may not be compressed at all)."""

    def __init__(self, reason: str, *, at_start: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.at_start = at_start


class _Decoder(Protocol):
    """The interface of bz2's, lzma's and zstd's decompressors (zlib's is adapted to it)."""

    @property
    def eof(self) -> bool: ...
    @property
    def needs_input(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...
    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class _Gzip:
    """zlib's gzip decoder behind the bz2/lzma interface: zlib hands back the input it did not
    reach as ``unconsumed_tail`` rather than keeping it."""

    def __init__(self) -> None:
        # 16 + 15: a gzip header and trailer (whose CRC-32 and size zlib checks), 32 KiB window.
        self._zlib = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self._tail = b""
        self._full = False

    @property
    def eof(self) -> bool:
        return self._zlib.eof

    @property
    def needs_input(self) -> bool:
        return not self._tail and not self._full and not self._zlib.eof

    @property
    def unused_data(self) -> bytes:
        return self._zlib.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        out = self._zlib.decompress(self._tail + data if self._tail else data, max(max_length, 0))
        self._tail = self._zlib.unconsumed_tail
        # A full piece may leave output inside zlib even with all input taken: ask again.
        self._full = max_length > 0 and len(out) == max_length
        return out


_DECODERS: dict[Compression, Callable[[], _Decoder]] = {
    Compression.GZ: _Gzip,
    Compression.BZ2: bz2.BZ2Decompressor,
    Compression.XZ: lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ),
    Compression.ZST: zstd.ZstdDecompressor,
}


class StreamDecompressor:
    """Decompresses one source fed chunk by chunk: ``feed`` yields the output in pieces of at
    most ``piece_size`` bytes and raises CorruptData on bytes that are not valid; ``finish``,
    once the input has ended, raises CorruptData unless the last stream was complete. ``size``
    counts the bytes yielded."""

    def __init__(self, compression: Compression, piece_size: int) -> None:
        if compression is Compression.NONE:
            raise ValueError("nothing to decompress")
        self.compression = compression
        self._piece_size = piece_size
        self._decoder = _DECODERS[compression]()
        self._streams = 1
        self._stream_size = 0  # output of the current stream
        self._head = b""  # the current stream's first bytes
        self._between = False  # after a complete stream, before any byte of another
        self.size = 0

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        view = memoryview(chunk)
        for offset in range(0, len(chunk), INPUT_SLICE):
            yield from self._decode(bytes(view[offset : offset + INPUT_SLICE]))

    def finish(self) -> None:
        # feed drains the decoder before it returns: nothing is pending here.
        if self._between:
            return
        if not self._head:
            raise CorruptData(f"the source is empty, not {self.compression} data", at_start=True)
        if not self._magic():
            raise self._foreign()
        raise CorruptData(
            f"the data ends before the end of {self._stream()} (truncated after "
            f"{self.size} decompressed bytes)"
        )

    def _decode(self, data: bytes) -> Iterator[bytes]:
        while True:
            if self._between:
                data = data.lstrip(b"\0")
                if not data:
                    return
                self._decoder = _DECODERS[self.compression]()
                self._streams += 1
                self._stream_size = 0
                self._head = b""
                self._between = False
            if len(self._head) < 8:
                self._head += data[: 8 - len(self._head)]
            try:
                out = self._decoder.decompress(data, self._piece_size)
            except DECODE_ERRORS as error:
                raise self._corrupt(error) from error
            data = b""
            if out:
                self.size += len(out)
                self._stream_size += len(out)
                yield out
            if self._decoder.eof:
                self._between = True
                data = self._decoder.unused_data
                if not data:
                    return
            elif self._decoder.needs_input:
                return

    def _stream(self) -> str:
        if self._streams == 1:
            return f"the {self.compression} stream"
        return f"{self.compression} stream {self._streams}"

    def _magic(self) -> bool:
        """The current stream begins as the format's do (as far as its bytes go)."""
        head = self._head
        return any(magic[: len(head)] == head[: len(magic)] for magic in _MAGIC[self.compression])

    def _foreign(self) -> CorruptData:
        if self._streams == 1:
            return CorruptData(
                f"it is not {self.compression} data (it does not begin as {self.compression} "
                "data does)",
                at_start=True,
            )
        return CorruptData(
            f"the bytes after the end of {self.compression} stream {self._streams - 1} are "
            f"not {self.compression} data"
        )

    def _corrupt(self, error: Exception) -> CorruptData:
        if not self._stream_size and not self._magic():
            return self._foreign()
        return CorruptData(
            f"corrupt data in {self._stream()} after {self.size} decompressed bytes "
            f"({str(error) or type(error).__name__})"
        )
