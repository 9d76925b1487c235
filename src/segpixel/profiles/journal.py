"""The on-disk journal: where acknowledged writes wait while the profile store is unreachable.

An append-only file per worker process, one record per batch: `u32 length, u32 crc32, payload`
(payload: the batch's mutations as JSON), fsync'd before the batch's requests are answered. A torn
last record (a crash mid-write) fails its checksum and is ignored: those requests were never
answered. Each file is held under an exclusive flock by its writer; a file nobody holds belongs to a
worker that died, and any live worker adopts and replays it.
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
SUFFIX = ".journal"


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

    @classmethod
    def create(cls, directory: Path) -> JournalFile:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
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

    def clear(self) -> None:
        self._truncate_to(0)

    def _truncate_to(self, size: int) -> None:
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, max(size, 0))

    def close(self, remove: bool) -> None:
        if remove:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)  # releases the lock


def orphans(directory: Path, own: Path | None) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"*{SUFFIX}") if p != own)
