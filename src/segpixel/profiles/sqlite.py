"""The embedded profile store: one SQLite file in WAL mode (stdlib sqlite3).

sqlite3 blocks, so every write runs on one dedicated writer thread (a single-thread executor: one
connection, one transaction at a time, batches never interleave) and reads run on their own
connection and thread. A batch is one BEGIN IMMEDIATE … COMMIT: the write lock is taken up front,
so several processes sharing the file serialize instead of failing on a lock upgrade half way.
The rules themselves come from `domain.profile.apply_mutation`; this module only loads and stores.
"""

from __future__ import annotations

import asyncio
import sqlite3
import struct
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from segpixel.domain.profile import Membership, Mutation, Profile, apply_mutation
from segpixel.errors import StoreUnavailable

SCHEMA_VERSION = 1
SYNC_KEPT_SECONDS = 7 * 86_400  # SPEC §4.3: a partner is re-synced after 7 days
PARTNER_UID_KEPT_SECONDS = 180 * 86_400  # as long as our own cookie lives
WAL_CHECKPOINT_PAGES = 10_000  # ~40 MB of WAL between checkpoints
WAL_SIZE_LIMIT = 64 << 20  # the WAL file is truncated back to this after a checkpoint
WRITER_CACHE_KIB = 32 << 10
_SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
_U64 = 1 << 64
_CHUNK = 500  # user ids per SELECT … IN (…)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS memberships (
    uid INTEGER NOT NULL,
    segment_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    value INTEGER,
    first_added INTEGER NOT NULL,
    last_added INTEGER NOT NULL,
    count INTEGER NOT NULL,
    recent BLOB,  -- earlier adds, newest first: little-endian u32 epoch minutes
    PRIMARY KEY (uid, segment_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_expires_at ON memberships (expires_at);
CREATE TABLE IF NOT EXISTS partner_syncs (
    uid INTEGER NOT NULL,
    usersync_id INTEGER NOT NULL,
    synced_at INTEGER NOT NULL,
    PRIMARY KEY (uid, usersync_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS partner_syncs_synced_at ON partner_syncs (synced_at);
CREATE TABLE IF NOT EXISTS partner_uids (
    uid INTEGER NOT NULL,
    partner TEXT NOT NULL,
    partner_uid TEXT NOT NULL,
    set_at INTEGER NOT NULL,
    PRIMARY KEY (uid, partner)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS partner_uids_set_at ON partner_uids (set_at);
"""

_SELECT_MEMBERSHIPS = (
    "SELECT uid, segment_id, expires_at, value, first_added, last_added, count, recent "
    "FROM memberships WHERE uid IN ({})"
)
_UPSERT_MEMBERSHIP = """
INSERT INTO memberships (uid, segment_id, expires_at, value, first_added, last_added, count, recent)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (uid, segment_id) DO UPDATE SET
    expires_at = excluded.expires_at, value = excluded.value, first_added = excluded.first_added,
    last_added = excluded.last_added, count = excluded.count, recent = excluded.recent
"""
_DELETE_MEMBERSHIP = "DELETE FROM memberships WHERE uid = ? AND segment_id = ?"
_UPSERT_SYNC = """
INSERT INTO partner_syncs (uid, usersync_id, synced_at) VALUES (?, ?, ?)
ON CONFLICT (uid, usersync_id) DO UPDATE SET synced_at = excluded.synced_at
"""
_UPSERT_PARTNER_UID = """
INSERT INTO partner_uids (uid, partner, partner_uid, set_at) VALUES (?, ?, ?, ?)
ON CONFLICT (uid, partner) DO UPDATE SET
    partner_uid = excluded.partner_uid, set_at = excluded.set_at
"""
# Row values + LIMIT: WITHOUT ROWID tables have no rowid to delete by.
_RECLAIM = {
    "memberships": "DELETE FROM memberships WHERE (uid, segment_id) IN "
    "(SELECT uid, segment_id FROM memberships WHERE expires_at <= ? LIMIT ?)",
    "partner_syncs": "DELETE FROM partner_syncs WHERE (uid, usersync_id) IN "
    "(SELECT uid, usersync_id FROM partner_syncs WHERE synced_at <= ? LIMIT ?)",
    "partner_uids": "DELETE FROM partner_uids WHERE (uid, partner) IN "
    "(SELECT uid, partner FROM partner_uids WHERE set_at <= ? LIMIT ?)",
}

T = TypeVar("T")
MembershipRow = tuple[int, int, int, int | None, int, int, int, bytes | None]


def _sql_uid(uid: int) -> int:
    """User ids are unsigned 64-bit; SQLite integers are signed: store the top half negative."""
    return uid - _U64 if uid >= 1 << 63 else uid


def _row(suid: int, m: Membership) -> MembershipRow:
    recent = m.recent_adds
    blob = struct.pack(f"<{len(recent)}I", *(t // 60 for t in recent)) if recent else None
    return (suid, m.segment_id, m.expires_at, m.value, m.first_added, m.last_added, m.count, blob)


def _membership(row: Sequence[Any]) -> Membership:
    _, sid, expires_at, value, first, last, count, recent = row
    if not recent:  # a membership added once: the common case
        return Membership(sid, expires_at, value, first, last, count)
    minutes = struct.unpack(f"<{len(recent) // 4}I", recent)
    return Membership(sid, expires_at, value, first, last, count, tuple(t * 60 for t in minutes))


class SqliteProfileStore:
    """Profiles in one SQLite file; safe to share between the processes of one machine."""

    name = "sqlite"

    def __init__(self, path: Path, synchronous: str = "NORMAL", busy_timeout: float = 2.0):
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}")
        self.path = Path(path)
        self.busy_timeout_ms = int(busy_timeout * 1000)
        self.synchronous = synchronous.upper()
        self._writer: ThreadPoolExecutor | None = None
        self._reader: ThreadPoolExecutor | None = None
        # Each connection is created, used and closed on its own thread only.
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="segpixel-profiles-writer")
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="segpixel-profiles-reader")
        await self._on(self._writer, self._open_writer)
        await self._on(self._reader, self._open_reader)

    async def close(self) -> None:
        for executor, attr in ((self._writer, "_wconn"), (self._reader, "_rconn")):
            if executor is None:
                continue
            conn = getattr(self, attr)
            if conn is not None:
                await asyncio.get_running_loop().run_in_executor(executor, conn.close)
                setattr(self, attr, None)
            executor.shutdown(wait=False)
        self._writer = self._reader = None

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        return conn

    def _open_writer(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._wconn = self._connect()
        conn.execute("PRAGMA journal_mode = WAL")
        # A batch of random user ids dirties ~2 pages per mutation (table + expiry index), so
        # checkpoint rarely: pages rewritten between checkpoints are copied (and fsynced) once.
        # Measured: 1,000 pages (the default) ~25k mutations/s, 10,000 pages ~39k.
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        with _transaction(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreUnavailable(
                    f"{self.path} has profile schema version {version}, newer than this "
                    f"segpixel knows ({SCHEMA_VERSION}); upgrade segpixel."
                )
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            # Future migrations go here, keyed on `version`.
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _open_reader(self) -> None:
        self._rconn = self._connect()

    # -- the contract ------------------------------------------------------------------------

    async def apply(self, batch: Sequence[Mutation]) -> None:
        if batch:
            await self._on(self._writer, self._apply, batch)

    async def read(self, user_id: int, now: float) -> Profile:
        return await self._on(self._reader, self._read, user_id, now)

    async def delete_user(self, user_id: int) -> None:
        await self._on(self._writer, self._delete_user, user_id)

    async def ping(self) -> None:
        await self._on(self._reader, self._ping)

    async def reclaim(self, now: float, limit: int) -> int:
        return await self._on(self._writer, self._reclaim, now, limit)

    # -- work done on the threads ------------------------------------------------------------

    def _apply(self, batch: Sequence[Mutation]) -> None:
        conn = self._conn(self._wconn)
        users = {m.user_id: _sql_uid(m.user_id) for m in batch}
        with _transaction(conn):
            state = self._load(conn, users, batch)
            stored = {(uid, sid) for uid, mems in state.items() for sid in mems}
            dirty: set[tuple[int, int]] = set()  # (uid, segment) changed or deleted
            syncs: dict[tuple[int, int], int] = {}
            partner_uids: dict[tuple[int, str], tuple[str, int]] = {}
            for mutation in batch:
                uid = mutation.user_id
                memberships = state[uid]
                changed, deleted = apply_mutation(memberships, mutation)
                for sid in deleted:
                    memberships.pop(sid, None)
                    dirty.add((uid, sid))
                memberships.update(changed)
                dirty.update((uid, sid) for sid in changed)
                for usersync_id in mutation.synced_partners:
                    syncs[uid, usersync_id] = mutation.at
                for partner, partner_uid in mutation.partner_uids:
                    partner_uids[uid, partner] = (partner_uid, mutation.at)

            upserts, deletes = [], []
            # In key order, so the B-tree's pages are visited in sequence.
            for uid, sid in sorted(dirty, key=lambda key: (users[key[0]], key[1])):
                m = state[uid].get(sid)
                if m is not None:
                    upserts.append(_row(users[uid], m))
                elif (uid, sid) in stored:
                    deletes.append((users[uid], sid))
            conn.executemany(_DELETE_MEMBERSHIP, deletes)
            conn.executemany(_UPSERT_MEMBERSHIP, upserts)
            conn.executemany(_UPSERT_SYNC, ((users[u], i, t) for (u, i), t in syncs.items()))
            conn.executemany(
                _UPSERT_PARTNER_UID,
                ((users[u], p, puid, t) for (u, p), (puid, t) in partner_uids.items()),
            )

    @staticmethod
    def _load(
        conn: sqlite3.Connection, users: dict[int, int], batch: Sequence[Mutation]
    ) -> dict[int, dict[int, Membership]]:
        """The stored memberships of the batch's users that the batch can change.

        apply_mutation's result depends only on the memberships a mutation adds to or removes and
        on the expired ones (which it prunes); a membership that is neither is never in its
        result. So only those rows are decoded: most of a user's rows are usually neither.
        """
        touched = {(m.user_id, a.segment_id) for m in batch for a in m.adds}
        touched.update((m.user_id, sid) for m in batch for sid in m.removes)
        latest = max(m.at for m in batch)  # active after the latest `at`: never expires here
        state: dict[int, dict[int, Membership]] = {uid: {} for uid in users}
        by_sql = {suid: uid for uid, suid in users.items()}
        suids = sorted(by_sql)
        for start in range(0, len(suids), _CHUNK):
            chunk = suids[start : start + _CHUNK]
            sql = _SELECT_MEMBERSHIPS.format(",".join("?" * len(chunk)))
            for row in conn.execute(sql, chunk):
                uid = by_sql[row[0]]
                if row[2] <= latest or (uid, row[1]) in touched:
                    state[uid][row[1]] = _membership(row)
        return state

    def _read(self, user_id: int, now: float) -> Profile:
        conn = self._conn(self._rconn)
        suid = _sql_uid(user_id)
        with _transaction(conn, "BEGIN"):  # one snapshot for the three tables
            rows = conn.execute(
                _SELECT_MEMBERSHIPS.format("?") + " AND expires_at > ? ORDER BY segment_id",
                (suid, now),
            ).fetchall()
            syncs = conn.execute(
                "SELECT usersync_id, synced_at FROM partner_syncs WHERE uid = ? AND synced_at > ?",
                (suid, now - SYNC_KEPT_SECONDS),
            ).fetchall()
            partner_uids = conn.execute(
                "SELECT partner, partner_uid FROM partner_uids WHERE uid = ? AND set_at > ?",
                (suid, now - PARTNER_UID_KEPT_SECONDS),
            ).fetchall()
        return Profile(
            user_id,
            tuple(_membership(row) for row in rows),
            dict(syncs),
            dict(partner_uids),
        )

    def _delete_user(self, user_id: int) -> None:
        conn = self._conn(self._wconn)
        with _transaction(conn):
            for table in ("memberships", "partner_syncs", "partner_uids"):
                conn.execute(f"DELETE FROM {table} WHERE uid = ?", (_sql_uid(user_id),))

    def _ping(self) -> None:
        self._conn(self._rconn).execute("SELECT count(*) FROM sqlite_schema").fetchone()

    def _reclaim(self, now: float, limit: int) -> int:
        conn = self._conn(self._wconn)
        with _transaction(conn):
            deleted = conn.execute(_RECLAIM["memberships"], (now, limit)).rowcount
            conn.execute(_RECLAIM["partner_syncs"], (now - SYNC_KEPT_SECONDS, limit))
            conn.execute(_RECLAIM["partner_uids"], (now - PARTNER_UID_KEPT_SECONDS, limit))
        return deleted

    # -- plumbing ----------------------------------------------------------------------------

    def _conn(self, conn: sqlite3.Connection | None) -> sqlite3.Connection:
        if conn is None:
            raise RuntimeError("SqliteProfileStore used before open() or after close()")
        return conn

    async def _on(self, executor: ThreadPoolExecutor | None, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` on that thread; sqlite3's operational errors become StoreUnavailable."""
        if executor is None:
            raise RuntimeError("SqliteProfileStore used before open() or after close()")
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        except sqlite3.ProgrammingError:
            raise  # our bug (bad SQL, closed connection), not the store's state
        except (sqlite3.Error, OSError) as exc:  # locked, disk I/O or full, corrupt, no folder…
            raise StoreUnavailable(f"profile store {self.path}: {exc}") from exc


@contextmanager
def _transaction(conn: sqlite3.Connection, begin: str = "BEGIN IMMEDIATE") -> Iterator[None]:
    """BEGIN … COMMIT, or ROLLBACK on any error, a failed COMMIT included (releases the lock)."""
    conn.execute(begin)
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
