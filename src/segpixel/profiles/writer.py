"""Group commit (DESIGN.md): requests wait for their write; one task stores writes in batches.

Each request hands its Mutation to `submit()` and awaits it. One writer task per process takes
everything waiting (after a short window, or at `max_batch`), stores it in one transaction /
pipeline, and only then lets those requests answer. When the store fails or is too slow, the
batch goes to the fsync'd on-disk journal instead — still durable before the answer — and new
batches follow it there until the journal is replayed into the store, so a user's writes keep
their order.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from segpixel.closing import cancel_within
from segpixel.domain.profile import Mutation
from segpixel.errors import StoreUnavailable
from segpixel.metrics import LATENCY_BUCKETS, SIZE_BUCKETS, Registry
from segpixel.profiles.base import BatchToken, ProfileStore
from segpixel.profiles.journal import (
    JournalFile,
    JournalFull,
    decode_batch,
    encode_batch,
    free_bytes,
    orphans,
)

log = logging.getLogger("segpixel.writer")
DISK_SLACK = 64 << 10  # free space beyond a refused write before the journal counts as not full


class Stored(enum.Enum):
    STORE = "store"  # in the profile store
    JOURNAL = "journal"  # in the local journal, replayed into the store later


class WriteLost(Exception):
    """Neither the store nor the journal could keep the write."""


class _Replay:
    """A journal being drained into the store, and how far it has got (kept beside the
    journal, so a worker adopting it after a crash goes on from there)."""

    def __init__(self, journal: JournalFile, own: bool):
        self.journal = journal
        self.own = own
        self.offset = journal.position()
        self.pending = sum(len(decode_batch(p)[0]) for p, _ in journal.records(self.offset))


def _read_records(replay: _Replay, limit: int) -> list[tuple[bytes, int]]:
    records = []
    for record in replay.journal.records(replay.offset):
        records.append(record)
        if len(records) >= limit:
            break
    return records


class GroupCommitWriter:
    def __init__(
        self,
        store: ProfileStore,
        journal_dir: Path,
        registry: Registry,
        *,
        max_batch: int = 1000,
        window: float = 0.001,
        store_timeout: float = 0.5,
        journal_max_bytes: int = 1 << 30,
        probe_interval: float = 0.5,
    ):
        self.store = store
        self.journal_dir = journal_dir
        self.max_batch = max_batch
        self.window = window
        self.store_timeout = store_timeout
        self.journal_max_bytes = journal_max_bytes
        self.probe_interval = probe_interval
        self.store_up = True
        self.last_error: str | None = None
        self.back = asyncio.Event()  # set each time the store answers again after an outage
        self._refused = 0  # bytes of the last write the journal could not keep (0: none since)
        self._pending: list[tuple[Mutation, asyncio.Future[Stored]]] = []
        # Every batch is named (writer, seq) so a store never applies one twice (base.py).
        self._writer_id = uuid.uuid4().hex[:16]
        self._seq = 0
        self._work = asyncio.Event()
        self._replays: list[_Replay] = []
        self._own: JournalFile | None = None
        self._own_error: str | None = None  # why this worker's journal could not be created
        self._stopping = False  # stop() was called: replays end, the queue is flushed
        self._stopped = False  # stop() has flushed the queue: nothing more is taken
        self._tasks: list[asyncio.Task[None]] = []
        self._m_batches = registry.counter(
            "segpixel_write_batches_total", "Batches written, by where"
        )
        self._m_mutations = registry.counter(
            "segpixel_write_mutations_total", "User writes, by where they were stored"
        )
        self._m_batch_size = registry.histogram(
            "segpixel_write_batch_size", "User writes per batch", SIZE_BUCKETS
        )
        self._m_latency = registry.histogram(
            "segpixel_write_batch_seconds", "Time to store one batch", LATENCY_BUCKETS
        )
        registry.gauge(
            "segpixel_journal_depth",
            "User writes waiting in the journal",
            lambda: self.journal_depth,
        )
        registry.gauge(
            "segpixel_store_up", "1 when the profile store answers", lambda: int(self.store_up)
        )
        registry.gauge(
            "segpixel_journal_bytes",
            "Size of this worker's journal file",
            lambda: self.journal_bytes,
        )
        registry.gauge(
            "segpixel_journal_full",
            "1 while the journal is full: writes the store cannot take are lost",
            lambda: int(self.journal_full),
        )

    @property
    def journal_depth(self) -> int:
        return sum(r.pending for r in self._replays)

    @property
    def journal_full(self) -> bool:
        """The journal refused a write and would refuse it still: recomputed on every look
        (its size, the disk's free space), so it clears as soon as room is back."""
        if not self._refused:
            return False
        own = self._own
        try:
            room = own is not None and own.size() + self._refused <= self.journal_max_bytes
            return not (room and free_bytes(self.journal_dir) > self._refused + DISK_SLACK)
        except OSError:
            return True

    @property
    def journal_bytes(self) -> int:
        try:
            return self._own.size() if self._own is not None else 0
        except OSError:
            return 0

    async def start(self) -> None:
        try:
            await asyncio.to_thread(self._adopt_orphans)
        except OSError as exc:  # the folder cannot be read: its journals wait for a restart
            log.error("cannot look for dead workers' journals in %s: %s", self.journal_dir, exc)
        await self._open_own()
        self._tasks = [
            asyncio.create_task(self._run(), name="group-commit"),
            asyncio.create_task(self._probe(), name="store-probe"),
        ]
        if self.journal_depth:
            log.warning("replaying %d journaled writes", self.journal_depth)
            self._work.set()

    def _adopt_orphans(self) -> None:
        for path in orphans(self.journal_dir, None):
            journal = JournalFile.adopt(path)
            if journal is not None:
                self._replays.append(_Replay(journal, own=False))

    async def _open_own(self) -> None:
        """This worker's journal; on a full disk (or an unwritable folder) it comes later, from
        the probe, and until then a write the store cannot take is refused honestly."""
        try:
            self._own = await asyncio.to_thread(JournalFile.create, self.journal_dir)
        except OSError as exc:
            if self._own_error is None:
                log.error("cannot create the write journal in %s: %s", self.journal_dir, exc)
            self._own_error = str(exc)
            self._refused = self._refused or 1
            return
        if self._own_error is not None:
            log.warning("write journal created in %s", self.journal_dir)
        self._own_error = None
        self._replays.append(_Replay(self._own, own=True))  # last: new journaled writes go here

    async def stop(self) -> None:
        """Store what is waiting (in the store, or the journal), then stop.

        A replay in progress stops at its next record, however much is left: the rest stays in
        its journal, behind the saved position, for the next start (or another worker) to go on
        with. The writer task ends the batch it is storing and stores what else waits; only then
        are the tasks cancelled, so no batch is cut off half way and no waiting request hangs.
        """
        self._stopping = True
        self._work.set()
        if self._tasks:
            await asyncio.wait({self._tasks[0]}, timeout=self.store_timeout * 4 + 1)
        while self._pending:  # the writer task was cancelled or died: store them here
            await self._flush()
        self._stopped = True  # (no await since the loop above: nothing can join _pending now)
        await cancel_within("group commit", self._tasks)
        for replay in self._replays:
            replay.journal.close(remove=replay.pending == 0)
        self._replays = []

    async def submit(self, mutation: Mutation) -> Stored:
        """Resolves once the mutation is stored (store or journal); raises WriteLost otherwise."""
        if self._stopped:
            raise WriteLost("the server is stopping")
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._pending.append((mutation, future))
        self._work.set()
        return await future

    async def _run(self) -> None:
        while True:
            await self._work.wait()
            # Classic group commit: while one batch is being stored, the next one gathers; an
            # optional window lets a batch grow further. sleep(0) lets requests that are already
            # parsed in this loop iteration join.
            await asyncio.sleep(self.window if len(self._pending) < self.max_batch else 0)
            try:
                await self._flush()
            except Exception:  # never let the writer die: requests would hang
                log.exception("group commit failed")
            if self._stopping and not self._pending:
                return
            if not self._pending and not (self.store_up and self.journal_depth):
                self._work.clear()

    async def _flush(self) -> None:
        batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
        if self.store_up and self.journal_depth and not self._stopping:
            await self._replay_some()
        if not batch:
            return
        mutations = [m for m, _ in batch]
        try:
            where = await self._write(mutations)
        except WriteLost as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for _, future in batch:
            if not future.done():
                future.set_result(where)

    async def _write(self, mutations: Sequence[Mutation]) -> Stored:
        self._m_batch_size.observe(len(mutations))
        self._seq += 1
        token = BatchToken(self._writer_id, self._seq)
        if self.store_up and not self.journal_depth:
            started = time.perf_counter()
            try:
                await asyncio.wait_for(self.store.apply(mutations, token), self.store_timeout)
            except (StoreUnavailable, TimeoutError) as exc:
                self.mark_down(exc)
            except Exception as exc:  # a bug or an unforeseen driver error: keep the writes
                log.exception("profile store failed unexpectedly; journaling the batch")
                self.mark_down(exc)
            else:
                self._m_latency.observe(time.perf_counter() - started)
                self._count(Stored.STORE, len(mutations))
                return Stored.STORE
        await self._journal(mutations, token)
        self._count(Stored.JOURNAL, len(mutations))
        return Stored.JOURNAL

    async def _journal(self, mutations: Sequence[Mutation], token: BatchToken) -> None:
        own = self._own
        payload = encode_batch(mutations, token)
        if own is None or own.size() + len(payload) > self.journal_max_bytes:
            self._count_lost(len(mutations))
            self._refused = len(payload)
            raise WriteLost("the journal is full")
        try:
            await asyncio.to_thread(own.append, payload)
        except JournalFull as exc:
            self._count_lost(len(mutations))
            self._refused = len(payload)
            raise WriteLost(f"the journal cannot be written: {exc}") from exc
        self._refused = 0
        self._replays[-1].pending += len(mutations)

    async def _replay_some(self, max_records: int = 50) -> None:
        """Drain journals into the store a few records at a time, oldest journal first."""
        done = 0
        while self._replays and done < max_records:
            replay = self._replays[0]
            if replay.pending <= 0:
                if not await self._finished(replay):
                    break
                continue
            records = await asyncio.to_thread(_read_records, replay, max_records - done)
            if not records:  # torn tail: nothing more can be read
                replay.pending = 0
                continue
            for payload, next_offset in records:
                if self._stopping:  # the rest waits in the journal, behind its position
                    return
                batch, token = decode_batch(payload)
                try:
                    await asyncio.wait_for(self.store.apply(batch, token), self.store_timeout)
                except Exception as exc:  # the record stays in the journal for the next try
                    self.mark_down(exc)
                    return
                replay.offset, replay.pending = next_offset, replay.pending - len(batch)
                replay.journal.save_position(next_offset)
                self._count_replayed(len(batch))
                done += 1
            if replay.pending <= 0 and not await self._finished(replay):
                break

    async def _finished(self, replay: _Replay) -> bool:
        """A journal is replayed: a dead worker's is removed (True: go on with the next); this
        worker's own is emptied and stays, the last in line (False)."""
        if not replay.own:
            self._replays.remove(replay)
            await asyncio.to_thread(replay.journal.close, True)
            log.info("journal %s replayed into the store", replay.journal.path.name)
            return True
        replay.pending = 0
        if replay.offset:
            try:
                await asyncio.to_thread(replay.journal.clear)
                replay.offset = 0
            except OSError as exc:  # it grows on from the saved position instead
                log.warning("could not empty the replayed journal: %s", exc)
            log.info("journal replayed into the store")
        return False

    async def _probe(self) -> None:
        """While the store is down, ask it regularly; when it answers, replay the journal."""
        while True:
            await asyncio.sleep(self.probe_interval)
            if self._own is None:
                await self._open_own()
            if self.store_up:
                continue
            try:
                await asyncio.wait_for(self.store.ping(), self.store_timeout)
            except (StoreUnavailable, TimeoutError, OSError):
                continue
            log.warning("profile store is back; replaying %d journaled writes", self.journal_depth)
            self.store_up, self.last_error = True, None
            self.back.set()
            self._work.set()

    def mark_down(self, exc: BaseException) -> None:
        """The store failed: journal writes and probe it until it answers again."""
        if self.store_up:
            log.error("profile store unavailable, journaling writes: %s", exc or type(exc).__name__)
        self.store_up = False
        self.last_error = str(exc)[:200] or type(exc).__name__

    def _count(self, where: Stored, n: int) -> None:
        self._m_batches.inc(where=where.value)
        self._m_mutations.inc(n, where=where.value)

    def _count_lost(self, n: int) -> None:
        self._m_mutations.inc(n, where="lost")

    def _count_replayed(self, n: int) -> None:
        self._m_mutations.inc(n, where="replayed")
