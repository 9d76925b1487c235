"""Stream a batch file into the profile store: read a chunk, parse its lines, write big batches.

Memory stays flat whatever the file's size: one read chunk, one batch of mutations and the first
MAX_REJECTED rejections are all that is held. A batch is a fixed number of the file's lines (so
the same lines always make the same batch) and goes straight to the profile store (which counts
its loads, source "batch") under the token (writer, n): a store applies a token at most once, so a
batch retried after a lost reply, or again after a crash, is never applied twice.

An upload can resume: `BatchReport.as_progress()` says how far it got (lines, counters and the
byte offset of the next batch, with its number), `BatchReport.from_progress` reads it back, and
`run` goes on from there. Re-reading from the last saved point makes the same batches again;
those the store had already applied are skipped by their tokens and counted as done.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from segpixel.domain.batch_format import DEFAULT_FORMAT, BatchFormat
from segpixel.domain.batch_lines import (
    INVALID_FORMAT,
    BatchScope,
    LineRejected,
    line_mutation,
    parse_line,
)
from segpixel.domain.catalog_view import CatalogView
from segpixel.domain.profile import Mutation
from segpixel.errors import StoreUnavailable
from segpixel.profiles.base import BatchToken, ProfileStore

READ_BYTES = 1 << 20
MAX_LINE_BYTES = 64 << 10
MAX_REJECTED = 1000
MAX_ERROR_LOG = 200  # the reference's error_log_lines
LOGGED_LINE_CHARS = 200  # of a rejected line quoted in the error log
RETRY_DELAYS = (0.2, 1.0, 3.0)  # then the upload fails with what it has done so far
BOM = b"\xef\xbb\xbf"


@dataclass
class BatchReport:
    """Where an upload stands; `as_progress()` is what the job status shows (and resumes from)."""

    lines_read: int = 0
    users_updated: int = 0
    rejected_lines: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # the first MAX_REJECTED
    bytes_read: int = 0  # the byte offset of the next line: where a resumed run starts
    batches: int = 0  # batches done: the next one's token is batches + 1
    # The reference's counters (SPEC §9.2): rejected lines by kind ("num_invalid_user": 2),
    # user/segment pairs applied, the first MAX_ERROR_LOG rejections as `KIND-LINE failed:
    # REASON`, users added per segment id, and how much of the file (compressed) was read.
    rejections: dict[str, int] = field(default_factory=dict)
    num_valid: int = 0
    error_log: list[str] = field(default_factory=list)
    segment_users: dict[str, int] = field(default_factory=dict)
    raw_read: int = 0

    def reject(
        self, line: int, reason: str, kind: str = INVALID_FORMAT, text: str | None = None
    ) -> None:
        self.rejected_lines += 1
        self.rejections[kind] = self.rejections.get(kind, 0) + 1
        if len(self.rejected) < MAX_REJECTED:
            self.rejected.append({"line": line, "reason": reason})
        if len(self.error_log) < MAX_ERROR_LOG:
            shown = "(too long to show)" if text is None else text.strip("\r\n")
            if len(shown) > LOGGED_LINE_CHARS:
                shown = shown[:LOGGED_LINE_CHARS] + "…"
            self.error_log.append(f"{kind}-{shown} failed: {reason}")

    def applied(self, batch: list[Mutation]) -> None:
        """Count a batch the store took: users, user/segment pairs, users added per segment."""
        self.users_updated += len(batch)
        for mutation in batch:
            self.num_valid += len(mutation.adds) + len(mutation.removes) + len(mutation.call_only)
            for sid in (*(a.segment_id for a in mutation.adds), *mutation.call_only):
                key = str(sid)
                self.segment_users[key] = self.segment_users.get(key, 0) + 1

    def as_progress(self) -> dict[str, Any]:
        return {
            "lines_read": self.lines_read,
            "users_updated": self.users_updated,
            "rejected_lines": self.rejected_lines,
            "rejected": self.rejected,
            "bytes_read": self.bytes_read,
            "batches": self.batches,
            "rejections": self.rejections,
            "num_valid": self.num_valid,
            "error_log": self.error_log,
            "segment_users": self.segment_users,
            "raw_read": self.raw_read,
        }

    @classmethod
    def from_progress(cls, progress: dict[str, Any]) -> BatchReport:
        return cls(
            lines_read=int(progress.get("lines_read", 0)),
            users_updated=int(progress.get("users_updated", 0)),
            rejected_lines=int(progress.get("rejected_lines", 0)),
            rejected=list(progress.get("rejected", [])),
            bytes_read=int(progress.get("bytes_read", 0)),
            batches=int(progress.get("batches", 0)),
            rejections=dict(progress.get("rejections", {})),
            num_valid=int(progress.get("num_valid", 0)),
            error_log=list(progress.get("error_log", [])),
            segment_users=dict(progress.get("segment_users", {})),
            raw_read=int(progress.get("raw_read", 0)),
        )


def read_lines(
    stream: BinaryIO, report: BatchReport, read_bytes: int = READ_BYTES
) -> Iterator[tuple[int, bytes | None, int]]:
    """(line number, the line, the byte offset just past it) for each line from where `report`
    stands (`stream` positioned there); None for a line over MAX_LINE_BYTES, whose bytes are
    skipped as they come instead of being gathered."""
    number, offset = report.lines_read, report.bytes_read
    tail, tail_len, too_long = b"", 0, False
    while chunk := stream.read(read_bytes):
        if offset == 0 and not tail_len and chunk.startswith(BOM):
            chunk, offset = chunk[3:], 3  # a UTF-8 byte order mark from a spreadsheet export
        parts = chunk.split(b"\n")
        for part in parts[:-1]:
            number += 1
            length = tail_len + len(part)
            offset += length + 1
            yield number, None if too_long or length > MAX_LINE_BYTES else tail + part, offset
            tail, tail_len, too_long = b"", 0, False
        tail_len += len(parts[-1])
        if not too_long:
            tail += parts[-1]
            if len(tail) > MAX_LINE_BYTES:
                tail, too_long = b"", True
    if tail_len:
        yield number + 1, None if too_long else tail, offset + tail_len


class BatchUpload:
    """Streams one file into the store; `checkpoint` hears of every batch done (to save it),
    `guard` is asked before every write (a job runner that lost its lease raises there)."""

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
        writer: str | None = None,
        report: BatchReport | None = None,
        checkpoint: Callable[[BatchReport, bool], Awaitable[None]] | None = None,
        guard: Callable[[], None] | None = None,
        pause: float = 0.0,
        write_share: float = 1.0,
        fmt: BatchFormat = DEFAULT_FORMAT,
    ):
        self.store = store
        self.view = view  # the current catalog view, asked again for every batch
        self.scope = scope
        self.clock = clock
        self.batch_size = batch_size  # lines a batch
        self.on_progress = on_progress
        self.progress_every = progress_every
        self.read_bytes = read_bytes
        self.report = report or BatchReport()
        self.checkpoint = checkpoint
        self.guard = guard
        self.pause = pause  # seconds between batches: the store's other writers get a turn
        # At most this share of the store's time: a batch that held the store (its write lock on
        # SQLite, its one thread on Redis) for t seconds is followed by a rest of
        # t * (1 - share) / share, in which the pixels' writes get in.
        if not 0 < write_share <= 1:
            raise ValueError("write_share must be in (0, 1]")
        self.write_share = write_share
        self.fmt = fmt  # the file's separators and segment fields
        self._writer = writer or f"batch-{uuid.uuid4().hex[:12]}"
        self._told = 0.0
        self._stream: BinaryIO | None = None

    async def run(self, stream: BinaryIO) -> BatchReport:
        report, pending, lines = self.report, [], 0
        stream.seek(report.bytes_read)
        view, now = self.view(), int(self.clock())
        end = report.bytes_read
        self._stream = stream
        for number, raw, end in read_lines(stream, report, self.read_bytes):
            report.lines_read = number
            lines += 1
            text = None if raw is None else _text(raw)
            try:
                if text is None:
                    raise LineRejected(f"the line is longer than {MAX_LINE_BYTES} bytes")
                if text.strip():  # a blank line (the last one, often): nothing to do or wrong
                    line = parse_line(text, self.fmt)
                    pending.append(line_mutation(line, view, self.scope, now))
            except LineRejected as exc:
                report.reject(number, str(exc), exc.kind, text)
            if lines >= self.batch_size:
                await self._end_batch(pending, end)
                pending, lines = [], 0
                view, now = self.view(), int(self.clock())
        if lines:
            await self._end_batch(pending, end)
        if self.on_progress is not None:
            await self.on_progress(report)
        return report

    async def _end_batch(self, batch: list[Mutation], end: int) -> None:
        report = self.report
        rest = self.pause
        if batch:
            started = time.perf_counter()
            await self._apply(batch, BatchToken(self._writer, report.batches + 1))
            held = time.perf_counter() - started
            rest = max(rest, held * (1 - self.write_share) / self.write_share)
            report.applied(batch)
        report.batches += 1
        report.bytes_read = end
        report.raw_read = getattr(self._stream, "raw_read", end)  # a gzip file's compressed
        if self.checkpoint is not None:
            await self.checkpoint(report, bool(batch))
        if self.on_progress is not None and time.monotonic() - self._told >= self.progress_every:
            self._told = time.monotonic()
            await self.on_progress(report)
        await asyncio.sleep(rest)  # (0: still a turn for the loop's other tasks)

    async def _apply(self, batch: list[Mutation], token: BatchToken) -> None:
        for delay in (*RETRY_DELAYS, None):
            if self.guard is not None:
                self.guard()
            try:
                await self.store.apply(batch, token)
                return
            except StoreUnavailable:
                if delay is None:
                    raise
                await asyncio.sleep(delay)


def _text(raw: bytes) -> str:
    """A line as text: UTF-8, or else Latin-1 (the reference's charset), which decodes any byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
