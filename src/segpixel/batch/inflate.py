"""Read a batch file as the lines it holds: plain, or gzip inflated as it is read (SPEC §9.2).

A gzip file is never inflated whole: `Inflating.read(n)` feeds the compressed file to a zlib
decompressor a chunk at a time and asks it for at most `n` bytes, so memory stays at one chunk
each side however far the file inflates. What it inflates to counts against `max_bytes`
(SEGPIXEL_BATCH_MAX_BYTES): a small file that inflates past it (a gzip bomb) stops the upload
there with `FileTooLarge`. Several gzip members one after the other (`cat a.gz b.gz`) are one file.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

from segpixel.errors import SegpixelError

GZIP_MAGIC = b"\x1f\x8b"
COMPRESSED_CHUNK = 256 << 10
FILE_TOO_LARGE = "FILESIZE_LIMIT_EXCEEDED"  # the reference's error_code
BAD_GZIP = "invalid-gzip"


class BatchFileError(SegpixelError):
    """The file cannot be read on: the job ends in error with `error_code`."""

    error_code = "processing-error"


class FileTooLarge(BatchFileError):
    error_code = FILE_TOO_LARGE


class BadGzip(BatchFileError):
    error_code = BAD_GZIP


def is_gzip(head: bytes) -> bool:
    return head.startswith(GZIP_MAGIC)


def readable(raw: BinaryIO, max_bytes: int, said_gzip: bool = False) -> BinaryIO:
    """The file's lines as bytes: `raw` itself, or inflated as it is read when it is gzip (its
    magic bytes). `said_gzip`: the upload said `Content-Encoding: gzip`, so it must be."""
    head = raw.read(len(GZIP_MAGIC))
    raw.seek(0)
    if said_gzip and not is_gzip(head):
        raise BadGzip("the upload said Content-Encoding: gzip but is no gzip file")
    return Inflating(raw, max_bytes) if is_gzip(head) else raw


class Inflating:
    """A read-only, forward-only binary stream of a gzip file's inflated bytes.

    `seek(n)` (to resume where a crashed run stopped) inflates up to `n` and drops it; `raw_read`
    is how much of the compressed file was consumed (what `percent_complete` counts)."""

    def __init__(self, raw: BinaryIO, max_bytes: int):
        self.raw = raw
        self.max_bytes = max_bytes
        self.position = 0  # inflated bytes handed out (or skipped)
        self.raw_read = 0
        self._inflater = _new_inflater()
        self._pending = b""  # compressed input the inflater has not taken yet
        self._open = False  # the inflater took bytes of a member it has not ended
        self._eof = False

    def read(self, size: int = COMPRESSED_CHUNK) -> bytes:
        out = bytearray()
        while len(out) < size and not self._eof:
            if not self._pending:
                self._pending = self.raw.read(COMPRESSED_CHUNK)
                self.raw_read += len(self._pending)
                if not self._pending:
                    self._finish()
                    break
            self._open = True
            try:
                data = self._inflater.decompress(self._pending, size - len(out))
            except zlib.error as exc:
                raise BadGzip(f"the gzip file is corrupt at byte {self.raw_read}: {exc}") from None
            self._pending = self._inflater.unconsumed_tail
            if self._inflater.eof:  # a member ended: another may follow
                # (the rest of the input is in unused_data; unconsumed_tail repeats it)
                self._pending = self._inflater.unused_data
                self._inflater, self._open = _new_inflater(), False
                if self._pending and not is_gzip(self._pending) and not self._pending.strip(b"\0"):
                    self._pending = b""  # zero padding after the last member
            out += data
            self.position += len(data)
            if self.position > self.max_bytes:
                raise FileTooLarge(
                    f"the file inflates to more than SEGPIXEL_BATCH_MAX_BYTES ({self.max_bytes} "
                    f"bytes); the upload stopped there after {self.raw_read} compressed bytes"
                )
        return bytes(out)

    def _finish(self) -> None:
        # A member started (its header read) but not ended: the file was cut short.
        self._eof = True
        if self._open:
            raise BadGzip("the gzip file ends in the middle of its data (truncated)")

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence != 0 or offset < self.position:
            raise OSError("an inflating stream only moves forward")
        while self.position < offset:
            if not self.read(min(COMPRESSED_CHUNK, offset - self.position)):
                break
        return self.position

    def tell(self) -> int:
        return self.position


def _new_inflater() -> zlib._Decompress:
    return zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip header and trailer
