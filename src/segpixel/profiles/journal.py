"""The on-disk journal: where acknowledged writes wait while the profile store is unreachable.

An append-only file per worker process, one record per batch: `u32 length, u32 crc32, payload`
(payload: the batch's mutations as JSON), fsync'd before the batch's requests are answered. A torn
last record (a crash mid-write) fails its checksum and is ignored: those requests were never
answered. Each file is held under an exclusive flock by its writer; a file nobody holds belongs to a
worker that died, and any live worker adopts and replays it.

How far a replay got is kept beside the journal (`<name>.journal.pos`), so a worker that dies
mid-replay, or the worker that adopts its journal, goes on from there. The position is written
after the store took the records it covers, without an fsync: after a power cut it may lag, and
the records replayed again are skipped by the store (each batch carries its token, base.py).
The folder is fsync'd when a journal appears or goes, so a journal that held acknowledged writes
cannot vanish in a power cut.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import uuid
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from segpixel.domain.profile import Add, Mutation
from segpixel.profiles.base import BatchToken

HEADER = struct.Struct("<II")
POSITION = struct.Struct("<QI")  # offset, crc32 of the offset's bytes
SUFFIX = ".journal"
POSITION_SUFFIX = ".pos"
NEW_SUFFIX = ".new"  # a journal being made: not yet locked, so no one may adopt it


class JournalFull(Exception):
    """The journal reached its size limit (or the disk is full): the write cannot be kept."""


def encode_batch(batch: Sequence[Mutation], token: BatchToken) -> bytes:
    return orjson.dumps(
        {
            "writer": token.writer,
            "seq": token.seq,
            "mutations": [
                [
                    m.user_id,
                    m.at,
                    [_add_record(a) for a in m.adds],
                    list(m.removes),
                    list(m.synced_partners),
                    [list(p) for p in m.partner_uids],
                    m.source,
                    list(m.call_only),
                ]
                for m in batch
            ],
        }
    )


def _add_record(add: Add) -> list[Any]:
    """A text value rides as a fourth element only when there is one (older journals: three)."""
    record: list[Any] = [add.segment_id, add.expires_at, add.value]
    if add.text is not None:
        record.append(add.text)
    return record


def decode_batch(payload: bytes) -> tuple[list[Mutation], BatchToken]:
    record = orjson.loads(payload)
    mutations = [
        Mutation(
            user_id=uid,
            at=at,
            adds=tuple(Add(*add) for add in adds),  # (segment, expires, value[, text])
            removes=tuple(removes),
            synced_partners=tuple(syncs),
            partner_uids=tuple((p, u) for p, u in partner_uids),
            source=source,
            call_only=tuple(call_only),
        )
        for uid, at, adds, removes, syncs, partner_uids, source, call_only in record["mutations"]
    ]
    return mutations, BatchToken(record["writer"], record["seq"])


class JournalFile:
    """One journal file, exclusively locked by this process while it is open."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self._fd = fd
        self._position_path = path.with_name(path.name + POSITION_SUFFIX)
        self._position_fd: int | None = None

    @classmethod
    def create(cls, directory: Path) -> JournalFile:
        """A new journal, locked before it takes its name (another worker looking for orphans
        must never lock a journal whose writer has not locked it yet)."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        making = path.with_name(path.name + NEW_SUFFIX)
        fd = os.open(making, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(making, path)
        _sync_folder(directory)
        return cls(path, fd)

    @classmethod
    def adopt(cls, path: Path) -> JournalFile | None:
        """Lock a journal left by a dead worker; None when its owner still holds it."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return cls(path, fd)

    def size(self) -> int:
        return os.fstat(self._fd).st_size

    def append(self, payload: bytes) -> None:
        record = HEADER.pack(len(payload), zlib.crc32(payload)) + payload
        before = self.size()
        try:
            written = os.write(self._fd, record)
            if written != len(record):
                raise OSError(f"short write ({written} of {len(record)} bytes)")
            os.fsync(self._fd)
        except OSError as exc:  # ENOSPC and friends: drop the partial record we may have written
            self._truncate_to(before)
            raise JournalFull(str(exc)) from exc

    def records(self, offset: int = 0) -> Iterator[tuple[bytes, int]]:
        """Every intact record from `offset`, with the offset after it; stops at a torn one."""
        with open(self.path, "rb") as f:
            f.seek(offset)
            while True:
                header = f.read(HEADER.size)
                if len(header) < HEADER.size:
                    return
                length, crc = HEADER.unpack(header)
                payload = f.read(length)
                if len(payload) < length or zlib.crc32(payload) != crc:
                    return
                offset += HEADER.size + length
                yield payload, offset

    def position(self) -> int:
        """Where the last replay stopped (0: from the start); a position the file does not
        reach, or that does not read back intact, counts as 0 (the store skips what it has)."""
        try:
            raw = self._position_path.read_bytes()
        except OSError:
            return 0
        if len(raw) != POSITION.size:
            return 0
        offset, crc = POSITION.unpack(raw)
        intact = crc == zlib.crc32(raw[:8])
        return offset if intact and offset <= self.size() else 0

    def save_position(self, offset: int, durable: bool = False) -> None:
        """Remember that the records before `offset` are in the store (best effort: see the
        module's docstring); `durable` fsyncs it."""
        raw = POSITION.pack(offset, 0)
        raw = POSITION.pack(offset, zlib.crc32(raw[:8]))
        try:
            if self._position_fd is None:
                self._position_fd = os.open(self._position_path, os.O_RDWR | os.O_CREAT, 0o600)
            os.pwrite(self._position_fd, raw, 0)  # one small write over the last: never torn
            if durable:
                os.fsync(self._position_fd)
        except OSError:
            if durable:
                raise

    def clear(self) -> None:
        """Empty the journal once replayed; raises OSError when it could not (the records then
        stay, behind the saved position). The position goes back to 0 first, durably: a
        position left beyond the start of a journal that grows again would skip its records."""
        self.save_position(0, durable=True)
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)
        with contextlib.suppress(OSError):
            _sync_folder(self.path.parent)

    def _truncate_to(self, size: int) -> None:
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, max(size, 0))

    def close(self, remove: bool) -> None:
        if remove:
            self.path.unlink(missing_ok=True)
            self._position_path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                _sync_folder(self.path.parent)
        if self._position_fd is not None:
            os.close(self._position_fd)
        os.close(self._fd)  # releases the lock


def free_bytes(directory: Path) -> int:
    """Space left on the disk of `directory` for an unprivileged writer."""
    stat = os.statvfs(directory)
    return stat.f_bavail * stat.f_frsize


def _sync_folder(directory: Path) -> None:
    """fsync a folder: a file made, renamed or removed in it survives a power cut as such."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def orphans(directory: Path, own: Path | None) -> list[Path]:
    """Journals of other workers (live or dead: `adopt` tells); leftovers of dead ones — a
    position without its journal, a journal never named — are removed on the way."""
    if not directory.is_dir():
        return []
    for leftover in directory.glob(f"*{SUFFIX}{POSITION_SUFFIX}"):
        if not leftover.with_name(leftover.name.removesuffix(POSITION_SUFFIX)).exists():
            leftover.unlink(missing_ok=True)
    for making in directory.glob(f"*{SUFFIX}{NEW_SUFFIX}"):
        unfinished = JournalFile.adopt(making)  # locked: its worker is making it right now
        if unfinished is not None:
            unfinished.close(remove=True)
    return sorted(p for p in directory.glob(f"*{SUFFIX}") if p != own)
