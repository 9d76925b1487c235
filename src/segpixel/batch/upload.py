"""Stream a batch file into the profile store: read a chunk, parse its lines, write big batches.

Memory stays flat whatever the file's size: one read chunk, one batch of mutations and the first
MAX_REJECTED rejections are all that is held. Batches go straight to the profile store (which
counts their loads, source "batch"), named by a token of their own so that a retry after a lost
reply never applies one twice. Between batches the event loop gets a turn, so pixels served by
the same worker wait at most one batch.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from segpixel.domain.batch_lines import BatchScope, LineRejected, line_mutation, parse_line
from segpixel.domain.catalog_view import CatalogView
from segpixel.domain.profile import Mutation
from segpixel.errors import StoreUnavailable
from segpixel.profiles.base import BatchToken, ProfileStore

READ_BYTES = 1 << 20
MAX_LINE_BYTES = 64 << 10
MAX_REJECTED = 1000
RETRY_DELAYS = (0.2, 1.0, 3.0)  # then the upload fails with what it has done so far


@dataclass
class BatchReport:
    """Where an upload stands; `as_progress()` is what the job status shows."""

    lines_read: int = 0
    users_updated: int = 0
    rejected_lines: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # the first MAX_REJECTED
    bytes_read: int = 0

    def reject(self, line: int, reason: str) -> None:
        self.rejected_lines += 1
        if len(self.rejected) < MAX_REJECTED:
            self.rejected.append({"line": line, "reason": reason})

    def as_progress(self) -> dict[str, Any]:
        return {
            "lines_read": self.lines_read,
            "users_updated": self.users_updated,
            "rejected_lines": self.rejected_lines,
            "rejected": self.rejected,
            "bytes_read": self.bytes_read,
        }


def read_lines(
    stream: BinaryIO, report: BatchReport, read_bytes: int = READ_BYTES
) -> Iterator[tuple[int, bytes | None]]:
    """(line number from 1, the line) for each line; None for a line over MAX_LINE_BYTES,
    whose bytes are skipped as they come instead of being gathered."""
    number, tail, too_long = 0, b"", False
    while chunk := stream.read(read_bytes):
        report.bytes_read += len(chunk)
        if number == 0 and not tail and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]  # a UTF-8 byte order mark from a spreadsheet export
        parts = chunk.split(b"\n")
        for part in parts[:-1]:
            number += 1
            line = None if too_long or len(tail) + len(part) > MAX_LINE_BYTES else tail + part
            yield number, line
            tail, too_long = b"", False
        tail += parts[-1]
        if len(tail) > MAX_LINE_BYTES:
            tail, too_long = b"", True
    if tail or too_long:
        yield number + 1, None if too_long else tail


class BatchUpload:
    def __init__(
        self,
        store: ProfileStore,
        view: Callable[[], CatalogView],
        scope: BatchScope,
        clock: Callable[[], float] = time.time,
        *,
        batch_size: int = 1000,
        on_progress: Callable[[BatchReport], Awaitable[None]] | None = None,
        progress_every: float = 1.0,
        read_bytes: int = READ_BYTES,
    ):
        self.store = store
        self.view = view  # the current catalog view, asked again for every batch
        self.scope = scope
        self.clock = clock
        self.batch_size = batch_size
        self.on_progress = on_progress
        self.progress_every = progress_every
        self.read_bytes = read_bytes
        self.report = BatchReport()
        self._writer = f"batch-{uuid.uuid4().hex[:12]}"
        self._seq = 0
        self._told = 0.0

    async def run(self, stream: BinaryIO) -> BatchReport:
        report, pending = self.report, []
        view, now = self.view(), int(self.clock())
        for number, raw in read_lines(stream, report, self.read_bytes):
            report.lines_read += 1
            try:
                if raw is None:
                    raise LineRejected(f"the line is longer than {MAX_LINE_BYTES} bytes")
                text = raw.decode("utf-8")
                if not text.strip():
                    continue  # a blank line (the last one, often): nothing to do, nothing wrong
                pending.append(line_mutation(parse_line(text), view, self.scope, now))
            except LineRejected as exc:
                report.reject(number, str(exc))
            except UnicodeDecodeError:
                report.reject(number, "the line is not UTF-8 text")
            if len(pending) >= self.batch_size:
                await self._apply(pending)
                pending = []
                view, now = self.view(), int(self.clock())
        if pending:
            await self._apply(pending)
        if self.on_progress is not None:
            await self.on_progress(report)
        return report

    async def _apply(self, batch: list[Mutation]) -> None:
        self._seq += 1
        token = BatchToken(self._writer, self._seq)
        for delay in (*RETRY_DELAYS, None):
            try:
                await self.store.apply(batch, token)
                break
            except StoreUnavailable:
                if delay is None:
                    raise
                await asyncio.sleep(delay)
        self.report.users_updated += len(batch)
        await asyncio.sleep(0)  # let the pixels of this worker through between batches
        if self.on_progress is not None and time.monotonic() - self._told >= self.progress_every:
            self._told = time.monotonic()
            await self.on_progress(self.report)
