"""The embedded profile store: one SQLite file in WAL mode (stdlib sqlite3).

sqlite3 blocks, so every write runs on one dedicated writer thread (a single-thread executor: one
connection, one transaction at a time, batches never interleave) and reads run on their own
connection and thread. A batch is one BEGIN IMMEDIATE … COMMIT: the write lock is taken up front,
so several processes sharing the file serialize instead of failing on a lock upgrade half way.
The rules themselves come from `domain.profile.apply_mutation`; this module only loads and stores.
The batch's segment loads are logged in the same transaction, and folded into their counters on
the upkeep thread (stats/sqlite_log.py). So is the batch's (writer, seq) token, in
`applied_batches`: a batch replayed from the journal a second time (its worker died mid-replay)
is skipped whole, loads included.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from segpixel.domain.profile import RECENT_ADDS_KEPT, Membership, Mutation, Profile
from segpixel.errors import StoreUnavailable
from segpixel.metrics import Registry
from segpixel.profiles import sqlite_wal as wal
from segpixel.profiles.base import TOKENS_KEPT_SECONDS, BatchToken
from segpixel.stats import sqlite_log as load_log

# 2: the load log; 3: no index on memberships.expires_at; 4: applied_batches; 5: memberships.text
SCHEMA_VERSION = 5
SYNC_KEPT_SECONDS = 7 * 86_400  # SPEC §4.3: a partner is re-synced after 7 days
PARTNER_UID_KEPT_SECONDS = 180 * 86_400  # as long as our own cookie lives
CHECKPOINT_SECONDS = 1.0
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
    recent TEXT,  -- earlier adds, newest first: 'MMMMMMMMM,' epoch minutes, 9 digits each
    text TEXT,  -- a text query-string segment's matched value (SPEC §5.1)
    PRIMARY KEY (uid, segment_id)
) WITHOUT ROWID;
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
CREATE TABLE IF NOT EXISTS applied_batches (
    writer TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,  -- the highest seq of this writer applied (BatchToken)
    applied_at INTEGER NOT NULL
) WITHOUT ROWID;
"""

_SELECT_MEMBERSHIPS = (
    "SELECT uid, segment_id, expires_at, value, first_added, last_added, count, recent, text "
    "FROM memberships WHERE uid IN ({})"
)
# The rules of domain.profile.apply_add, in SQL, so a batch is applied by executemany in C with no
# read first. In an UPDATE every right-hand side sees the OLD row; `excluded` is the add, whose
# first_added = last_added = the request time. A membership expired at that time starts afresh.
_ADD = """
INSERT INTO memberships (uid, segment_id, expires_at, value, first_added, last_added, count, recent,
                         text)
VALUES (?, ?, ?, ?, ?, ?, 1, NULL, ?)
ON CONFLICT (uid, segment_id) DO UPDATE SET
    expires_at = CASE WHEN expires_at <= excluded.last_added THEN excluded.expires_at
                      ELSE max(expires_at, excluded.expires_at) END,
    value = CASE WHEN expires_at <= excluded.last_added THEN excluded.value
                 ELSE coalesce(excluded.value, value) END,
    text = CASE WHEN expires_at <= excluded.last_added THEN excluded.text
                ELSE coalesce(excluded.text, text) END,
    first_added = CASE WHEN expires_at <= excluded.last_added THEN excluded.first_added
                       ELSE first_added END,
    count = CASE WHEN expires_at <= excluded.last_added THEN 1 ELSE count + 1 END,
    recent = CASE WHEN expires_at <= excluded.last_added THEN NULL
                  ELSE substr(printf('%09d,', last_added / 60) || coalesce(recent, ''), 1, {keep})
             END,
    last_added = excluded.last_added
""".replace("{keep}", str(RECENT_ADDS_KEPT * 10))
# Moves the writer's mark only forward: no row changes when the batch was applied already.
_RECORD_TOKEN = """
INSERT INTO applied_batches (writer, seq, applied_at) VALUES (?, ?, ?)
ON CONFLICT (writer) DO UPDATE SET seq = excluded.seq, applied_at = excluded.applied_at
WHERE excluded.seq > seq
"""
_DELETE_MEMBERSHIP = "DELETE FROM memberships WHERE uid = ? AND segment_id = ?"
_PRUNE_USER = "DELETE FROM memberships WHERE uid = ? AND expires_at <= ?"
_UPSERT_SYNC = """
INSERT INTO partner_syncs (uid, usersync_id, synced_at) VALUES (?, ?, ?)
ON CONFLICT (uid, usersync_id) DO UPDATE SET synced_at = excluded.synced_at
"""
_UPSERT_PARTNER_UID = """
INSERT INTO partner_uids (uid, partner, partner_uid, set_at) VALUES (?, ?, ?, ?)
ON CONFLICT (uid, partner) DO UPDATE SET
    partner_uid = excluded.partner_uid, set_at = excluded.set_at
"""
# Expired memberships are swept in key order, a window of rows at a time, from a cursor that
# wraps around: no index on expires_at, whose upkeep doubled the pages every add dirties
# (an upsert moves its row in that index too) and so the cost of the pixel's commit.
_WINDOW_END = (
    "SELECT uid, segment_id FROM memberships WHERE (uid, segment_id) > (?, ?) "
    "ORDER BY uid, segment_id LIMIT 1 OFFSET ?"
)
_SWEEP = (
    "DELETE FROM memberships WHERE (uid, segment_id) IN (SELECT uid, segment_id FROM memberships "
    "WHERE (uid, segment_id) > (?, ?) AND (uid, segment_id) <= (?, ?) AND expires_at <= ? "
    "ORDER BY uid, segment_id LIMIT ?) RETURNING uid, segment_id"
)
# A window holds the write lock about SWEEP_HOLD_S: the pixels' writer that meets it waits in
# SQLite's busy handler, on the event loop, sleeping 1 ms, then 2, 5, 10… A window of 2,000 rows
# with nothing expired holds it 0.4–0.9 ms (the benchmark's file), but deleting is dearer: 2,000
# rows of which 30 % had expired took 2.5 ms in memory, more with a wave of expiries. So the
# window halves while it holds the lock longer, and grows back (up to SWEEP_WINDOW rows) when it
# is quick. The pause between windows lets the writer in. At most 250 windows a call, a minute
# apart.
SWEEP_WINDOW = 2_000
SWEEP_MIN_WINDOW = 50
SWEEP_HOLD_S = 0.001
SWEEP_WINDOWS = 250
SWEEP_PAUSE = 0.01
_KEY_MIN = (-(1 << 63), -(1 << 63))  # below every stored (uid, segment_id): segment ids are > 0
_KEY_MAX = ((1 << 63) - 1, (1 << 63) - 1)
# Row values + LIMIT: WITHOUT ROWID tables have no rowid to delete by.
_RECLAIM = {
    "partner_syncs": "DELETE FROM partner_syncs WHERE (uid, usersync_id) IN "
    "(SELECT uid, usersync_id FROM partner_syncs WHERE synced_at <= ? LIMIT ?)",
    "partner_uids": "DELETE FROM partner_uids WHERE (uid, partner) IN "
    "(SELECT uid, partner FROM partner_uids WHERE set_at <= ? LIMIT ?)",
    "applied_batches": "DELETE FROM applied_batches WHERE writer IN "
    "(SELECT writer FROM applied_batches WHERE applied_at <= ? LIMIT ?)",
}

T = TypeVar("T")


def _sql_uid(uid: int) -> int:
    """User ids are unsigned 64-bit; SQLite integers are signed: store the top half negative."""
    return uid - _U64 if uid >= 1 << 63 else uid


def _membership(row: Sequence[Any]) -> Membership:
    _, sid, expires_at, value, first, last, count, recent, text = row
    if not recent:  # a membership added once: the common case
        return Membership(sid, expires_at, value, first, last, count, (), text)
    earlier = tuple(int(minute) * 60 for minute in recent.split(",") if minute)
    return Membership(sid, expires_at, value, first, last, count, earlier, text)


class SqliteProfileStore:
    """Profiles in one SQLite file; safe to share between the processes of one machine."""

    name = "sqlite"

    def __init__(
        self,
        path: Path,
        synchronous: str = "NORMAL",
        busy_timeout: float = 2.0,
        fold_takeover: float = 0.0,
        upkeep: bool = True,
    ):
        """`fold_takeover`: 0, this store folds the load log every round; N > 0, it leaves the
        fold to another process of the file (the job runner) and takes it over only when the
        fold's mark has stood N seconds over unfolded rows (that process is gone or behind).
        `upkeep`: False, no checkpoint rounds (nor folds) here, the pixel workers keep the file
        (the admin process: niced, it would hold the write lock at a low priority, and the
        pixels' writer would wait for it to be given the CPU)."""
        if synchronous.upper() not in _SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {', '.join(_SYNCHRONOUS)}")
        self.path = Path(path)
        self.busy_timeout_ms = int(busy_timeout * 1000)
        self.synchronous = synchronous.upper()
        # Writes run on the caller's thread (the event loop): the group commit hands over big
        # batches whose statements run in C, and a hop to another thread cost more (GIL hand-offs)
        # than it saved. Reads, reclaim and WAL checkpoints run on threads of their own, each
        # with its own connection, so neither blocks the loop for long.
        self._wconn: sqlite3.Connection | None = None
        self._rconn: sqlite3.Connection | None = None
        self._mconn: sqlite3.Connection | None = None
        self._reader: ThreadPoolExecutor | None = None
        self._maintenance: ThreadPoolExecutor | None = None
        self._checkpoints: asyncio.Task[None] | None = None
        self._loads = load_log.LoadRecorder(_sql_uid)
        self.fold_takeover = fold_takeover
        self.upkeep = upkeep
        self._mark_seen = (-1, 0.0)  # the fold's mark as last seen, and since when it stood
        self._sweep_from = _KEY_MIN  # where the next sweep for expired memberships starts
        self._sweep_window = SWEEP_WINDOW  # rows it walks in one transaction (_next_window)

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Raises StoreUnavailable when the file cannot be opened (a full disk, no folder…);
        nothing is left half open, and `ping()` tries again."""
        try:
            self._here(self._open_writer)
            self._reader = ThreadPoolExecutor(1, thread_name_prefix="segpixel-profiles-reader")
            self._maintenance = ThreadPoolExecutor(1, thread_name_prefix="segpixel-profiles-upkeep")
            self._rconn = await self._on(self._reader, self._connect)
            self._mconn = await self._on(self._maintenance, self._connect)
            await self._on(self._maintenance, load_log.attach, self._mconn, self.path)
        except BaseException:
            await self.close()
            raise
        if self.upkeep:
            self._checkpoints = asyncio.create_task(
                self._checkpoint_loop(), name="sqlite-checkpoint"
            )

    async def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.cancel()
            await asyncio.gather(self._checkpoints, return_exceptions=True)
            self._checkpoints = None
        for executor, attr in ((self._reader, "_rconn"), (self._maintenance, "_mconn")):
            conn = getattr(self, attr)
            if executor is not None and conn is not None:
                await asyncio.get_running_loop().run_in_executor(executor, conn.close)
            setattr(self, attr, None)
            if executor is not None:
                executor.shutdown(wait=False)
        self._reader = self._maintenance = None
        if self._wconn is not None:
            self._wconn.close()
            self._wconn = None

    async def _checkpoint_loop(self) -> None:
        """Copy the WAL back into the database now and then, off the loop (autocheckpoint off);
        fold the load log into its counters on the way. A WAL filling fast is looked at sooner."""
        pause = CHECKPOINT_SECONDS
        while True:
            await asyncio.sleep(pause)
            try:
                held = await self._on(self._maintenance, self._checkpoint)
            except StoreUnavailable:
                continue
            pause = CHECKPOINT_SECONDS if held < wal.BUSY_BYTES else CHECKPOINT_SECONDS / 4

    def _checkpoint(self) -> int:
        """Both WALs kept bounded (profiles/sqlite_wal.py), the load log folded between; the
        most bytes the profile file's WAL held."""
        conn = self._conn(self._mconn)
        held = wal.checkpoint(conn, "main", self.busy_timeout_ms)
        if self._folds_here(conn):  # (a fold that finds the counters busy waits for the next round)
            load_log.fold_all(conn)
        wal.checkpoint(conn, load_log.SCHEMA, self.busy_timeout_ms)
        # Again: a fold under load takes a few hundred ms, in which the WAL grows on.
        held = max(held, wal.checkpoint(conn, "main", self.busy_timeout_ms))
        self._loads.folded = load_log.folded_mark(conn)  # the writer trims up to it
        return held

    def _folds_here(self, conn: sqlite3.Connection) -> bool:
        """Whether this round folds here: always, or (`fold_takeover`) only when nobody else
        has folded for that long while rows wait. A pixel worker leaves the fold — up to half a
        core under a big batch upload (py-spy), on the pixels' cores — to the niced runner."""
        if not self.fold_takeover:
            return True
        mark, now = load_log.folded_mark(conn), time.monotonic()
        seen, since = self._mark_seen
        if mark != seen or not load_log.unfolded(conn, mark):
            self._mark_seen = (mark, now)  # moving, or nothing waits for it
            return False
        return now - since >= self.fold_takeover

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        return conn

    def _open_writer(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._wconn = self._connect()
        conn.execute("PRAGMA journal_mode = WAL")
        # Checkpoints copy (and fsync) the WAL into the database: _checkpoint_loop does that on a
        # thread of its own, so a commit on the event loop never waits for one.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute(f"PRAGMA journal_size_limit = {wal.SIZE_LIMIT}")
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
            conn.execute(load_log.LOG)
            if version < 3:  # swept since version 3 (_SWEEP); the index only slowed adds
                conn.execute("DROP INDEX IF EXISTS memberships_expires_at")
            columns = {row[1] for row in conn.execute("PRAGMA table_info(memberships)")}
            if "text" not in columns:  # version 5: a file made before keeps its rows
                conn.execute("ALTER TABLE memberships ADD COLUMN text TEXT")
            # Future migrations go here, keyed on `version`.
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- the contract ------------------------------------------------------------------------

    async def apply(self, batch: Sequence[Mutation], token: BatchToken | None = None) -> None:
        if batch:
            self._here(self._apply, batch, token)

    async def read(self, user_id: int, now: float) -> Profile:
        return await self._on(self._reader, self._read, user_id, now)

    async def delete_user(self, user_id: int, segment_ids: Sequence[int] | None = None) -> None:
        await asyncio.to_thread(self._here, self._delete_user, user_id, segment_ids)

    async def ping(self) -> None:
        if self._reader is None:  # open() failed: the store answers once it opens
            await self.open()
            return
        await self._on(self._reader, self._ping)

    async def reclaim(self, now: float, limit: int) -> int:
        return await self._on(self._maintenance, self._reclaim, now, limit)

    async def durability_warnings(self) -> list[str]:
        return []  # a commit survives a crash of segpixel (NORMAL), and a power cut (FULL)

    def register_metrics(self, registry: Registry) -> None:
        loads = load_log.counters_path(self.path)
        for name, path in (("profiles", self.path), ("loads", loads)):
            registry.gauge(
                f"segpixel_sqlite_{name}_wal_bytes",
                f"Size of the WAL file of {path.name} (kept bounded by RESTART checkpoints)",
                lambda path=path: wal.wal_bytes(path),
                merge="max",  # one file, whatever the number of workers
            )

    # -- work done on the threads ------------------------------------------------------------

    def _apply(self, batch: Sequence[Mutation], token: BatchToken | None) -> None:
        """One transaction; the merge happens in SQL (_ADD), so nothing is read first.

        A batch whose token the store holds already (at or below its writer's mark) was applied:
        the transaction then changes nothing.

        For each mutation, as domain.profile.apply_mutation does: drop what has expired at its
        time, apply the adds, then the removes. (The drop matters when clocks disagree: a
        membership expired at one write's time is gone, even for a later write stamped a little
        earlier by another process; users who never come back are left to `reclaim`.)
        Statements of one kind run together through executemany; a user met a second time in
        the batch flushes what is pending first, so a user's writes keep their order.
        """
        conn = self._conn(self._wconn)
        prunes: list[tuple[int, int]] = []
        adds: list[tuple[int, int, int, int | None, int, int, str | None]] = []
        removes: list[tuple[int, int]] = []
        pending: set[int] = set()

        def flush() -> None:
            conn.executemany(_PRUNE_USER, prunes)
            conn.executemany(_ADD, adds)
            if removes:
                conn.executemany(_DELETE_MEMBERSHIP, removes)
            prunes.clear(), adds.clear(), removes.clear(), pending.clear()

        syncs: list[tuple[int, int, int]] = []
        partner_uids: list[tuple[int, str, str, int]] = []
        with _transaction(conn):
            if token is not None:
                mark = (token.writer, token.seq, int(time.time()))
                if conn.execute(_RECORD_TOKEN, mark).rowcount == 0:
                    return  # applied before: the journal is being replayed again
            for m in batch:
                uid, at = _sql_uid(m.user_id), m.at
                if uid in pending:
                    flush()
                pending.add(uid)
                prunes.append((uid, at))
                adds += [(uid, a.segment_id, a.expires_at, a.value, at, at, a.text) for a in m.adds]
                if m.removes:
                    removes += [(uid, sid) for sid in m.removes]
                if m.synced_partners:
                    syncs += [(uid, usersync_id, at) for usersync_id in m.synced_partners]
                if m.partner_uids:
                    partner_uids += [(uid, p, puid, at) for p, puid in m.partner_uids]
            flush()
            if syncs:
                conn.executemany(_UPSERT_SYNC, syncs)
            if partner_uids:
                conn.executemany(_UPSERT_PARTNER_UID, partner_uids)
            self._loads.record(conn, batch)

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

    def _delete_user(self, user_id: int, segment_ids: Sequence[int] | None) -> None:
        """Erasure (SPEC §3.5): the profile and every link of the user to segments in the load
        counters, in one transaction of a connection of its own (rare: opened for it)."""
        uid = _sql_uid(user_id)
        conn = self._connect()
        try:
            load_log.attach(conn, self.path)
            with _transaction(conn):  # IMMEDIATE: the profile file's and the counters' locks
                if segment_ids is None:
                    for table in ("memberships", "partner_syncs", "partner_uids"):
                        conn.execute(f"DELETE FROM {table} WHERE uid = ?", (uid,))
                else:
                    conn.executemany(_DELETE_MEMBERSHIP, [(uid, sid) for sid in segment_ids])
                load_log.erase(conn, uid, segment_ids)
        finally:
            conn.close()

    def _ping(self) -> None:
        self._conn(self._rconn).execute("SELECT count(*) FROM sqlite_schema").fetchone()

    def _reclaim(self, now: float, limit: int) -> int:
        conn = self._conn(self._mconn)
        deleted = self._sweep(conn, now, limit)
        with _transaction(conn):
            conn.execute(_RECLAIM["partner_syncs"], (now - SYNC_KEPT_SECONDS, limit))
            conn.execute(_RECLAIM["partner_uids"], (now - PARTNER_UID_KEPT_SECONDS, limit))
            conn.execute(_RECLAIM["applied_batches"], (now - TOKENS_KEPT_SECONDS, limit))
            load_log.prune(conn, now, limit)
        return deleted

    def _sweep(self, conn: sqlite3.Connection, now: float, limit: int) -> int:
        """Delete up to `limit` expired memberships, walking the table in key order from where
        the last sweep stopped; at the end of the table the next sweep starts over."""
        if limit <= 0:
            return 0
        deleted = 0
        for _ in range(SWEEP_WINDOWS):
            start = self._sweep_from
            window = min(self._sweep_window, SWEEP_WINDOW)
            with _transaction(conn):
                locked = time.perf_counter()  # (BEGIN IMMEDIATE has the lock)
                end = conn.execute(_WINDOW_END, (*start, window - 1)).fetchone()
                gone = conn.execute(
                    _SWEEP, (*start, *(end or _KEY_MAX), now, limit - deleted)
                ).fetchall()
            self._sweep_window = _next_window(window, time.perf_counter() - locked)
            deleted += len(gone)
            if deleted >= limit:  # stopped inside the window: go on from the last row deleted
                self._sweep_from = max(gone)
                break
            if end is None:  # the window reached the end of the table
                self._sweep_from = _KEY_MIN
                break
            self._sweep_from = end
            time.sleep(SWEEP_PAUSE)  # on the upkeep thread: the writer takes the lock meanwhile
        return deleted

    # -- plumbing ----------------------------------------------------------------------------

    def _conn(self, conn: sqlite3.Connection | None) -> sqlite3.Connection:
        if conn is None:  # open() failed (ping() tries again), or the store was closed
            raise StoreUnavailable(f"profile store {self.path}: not open")
        return conn

    def _here(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` on this thread; sqlite3's operational errors become StoreUnavailable."""
        try:
            return fn(*args)
        except sqlite3.ProgrammingError:
            raise
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"profile store {self.path}: {exc}") from exc

    async def _on(self, executor: ThreadPoolExecutor | None, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn` on that thread; sqlite3's operational errors become StoreUnavailable."""
        if executor is None:
            raise StoreUnavailable(f"profile store {self.path}: not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        except sqlite3.ProgrammingError:
            raise  # our bug (bad SQL, closed connection), not the store's state
        except (sqlite3.Error, OSError) as exc:  # locked, disk I/O or full, corrupt, no folder…
            raise StoreUnavailable(f"profile store {self.path}: {exc}") from exc


def _next_window(window: int, held: float) -> int:
    """The sweep's next window, from how long this one held the write lock."""
    if held > SWEEP_HOLD_S:
        return max(SWEEP_MIN_WINDOW, window // 2)
    if held < SWEEP_HOLD_S / 2:
        return min(SWEEP_WINDOW, window * 2)
    return window


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
