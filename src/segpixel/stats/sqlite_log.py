"""Load counting on SQLite, write side: logged in the batch's transaction, folded later.

Counting per user in the pixel's transaction cost four times the profile write itself (a user's
day and month rows land on pages of their own, which the commit copies to the WAL). So the batch's
transaction only appends its loads to `load_log` in the profile file — a row per user write, on
the table's last page — and a fold, off the event loop, turns the log into the counters of a
second file,
`<profiles>-loads.db` (days YYYYMMDD, months YYYYMM, UTC; see domain.loads):

- `load_counts (segment_id, day, source) → loads`;
- `load_day_users (day, segment_id, uid) → hours`: who loaded the segment that day, a bit per UTC
  hour (for `active_users_24h`); kept a few days (`prune`);
- `load_month_users (month, segment_id, uid)`: who loaded it that month; kept into the next month;
- `day_uniques`, `month_uniques (segment_id, period) → uniques`, kept by triggers when a user-day
  or user-month row is first inserted: reports read counts, they never scan users.

A load is logged once, in the transaction that stores its batch, and folded once: the fold runs
in a transaction of the counters' file that also moves its high-water mark (`fold_state`); trimming
keeps the last folded row, so a new row's id (max + 1) is always above the mark. The counters' file
has a write lock of its own, so a fold never holds up the profile store's writer. The folded log
is trimmed by the writer itself, a slice in a batch's transaction (`LoadRecorder.record`): a trim
on another connection took the profile file's write lock, and the writer that met it waited in
SQLite's busy handler, which sleeps 1, 2, 5… ms, on the event loop. The profile store folds every
second and the reader folds before it reads, so reports see every stored load.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

from segpixel.domain.loads import SOURCE_CODES, DayClock, day_number, month_number, utc_day
from segpixel.domain.profile import Mutation

DAY_USERS_KEPT_DAYS = 3  # active_users_24h needs yesterday; a late journal replay a little more
FOLD_CHUNK = 20_000  # log rows per fold transaction
TRIM_CHUNK = 1_000  # folded log rows a batch's transaction deletes at most
CACHE_KIB = 64 << 10  # the counters' page cache on a folding connection: who loaded what today
WAL_SIZE_LIMIT = 64 << 20  # the counters' WAL is cut back to this when it starts over
SCHEMA = "loads"  # the counters' file, as attached to a connection on the profile file

# One row a user write: its segments as a JSON array's inside ("7,8"), split by the fold.
LOG = """CREATE TABLE IF NOT EXISTS load_log (
    id INTEGER PRIMARY KEY, day INTEGER NOT NULL, hour INTEGER NOT NULL, uid INTEGER NOT NULL,
    source INTEGER NOT NULL, segments TEXT NOT NULL)"""
COUNTERS = (
    """CREATE TABLE IF NOT EXISTS loads.load_counts (
        segment_id INTEGER NOT NULL, day INTEGER NOT NULL, source INTEGER NOT NULL,
        loads INTEGER NOT NULL, PRIMARY KEY (segment_id, day, source)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS loads.load_day_users (
        day INTEGER NOT NULL, segment_id INTEGER NOT NULL, uid INTEGER NOT NULL,
        hours INTEGER NOT NULL, PRIMARY KEY (day, segment_id, uid)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS loads.load_month_users (
        month INTEGER NOT NULL, segment_id INTEGER NOT NULL, uid INTEGER NOT NULL,
        PRIMARY KEY (month, segment_id, uid)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS loads.day_uniques (
        segment_id INTEGER NOT NULL, day INTEGER NOT NULL, uniques INTEGER NOT NULL,
        PRIMARY KEY (segment_id, day)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS loads.month_uniques (
        segment_id INTEGER NOT NULL, month INTEGER NOT NULL, uniques INTEGER NOT NULL,
        PRIMARY KEY (segment_id, month)) WITHOUT ROWID""",
    # Erasure (`erase`) finds a user's who-loaded-what rows through the segment-days and
    # segment-months these index, one key lookup each. (An index on the users' rows' uid cost
    # a random page per load in every fold: its WAL passed 256 MiB under load.) These two change
    # only when a segment has its first load of a day or a month.
    "DROP INDEX IF EXISTS loads.load_day_users_uid",
    "DROP INDEX IF EXISTS loads.load_month_users_uid",
    "CREATE INDEX IF NOT EXISTS loads.day_uniques_day ON day_uniques (day)",
    "CREATE INDEX IF NOT EXISTS loads.month_uniques_month ON month_uniques (month)",
    """CREATE TABLE IF NOT EXISTS loads.fold_state (
        id INTEGER PRIMARY KEY CHECK (id = 1), upto INTEGER NOT NULL)""",
    "INSERT OR IGNORE INTO loads.fold_state VALUES (1, 0)",
    """CREATE TRIGGER IF NOT EXISTS loads.load_day_user_added
    AFTER INSERT ON load_day_users BEGIN
        INSERT INTO day_uniques VALUES (NEW.segment_id, NEW.day, 1)
            ON CONFLICT DO UPDATE SET uniques = uniques + 1;
        INSERT INTO load_month_users VALUES (NEW.day / 100, NEW.segment_id, NEW.uid)
            ON CONFLICT DO NOTHING;
    END""",
    """CREATE TRIGGER IF NOT EXISTS loads.load_month_user_added
    AFTER INSERT ON load_month_users BEGIN
        INSERT INTO month_uniques VALUES (NEW.segment_id, NEW.month, 1)
            ON CONFLICT DO UPDATE SET uniques = uniques + 1;
    END""",
)
_APPEND = "INSERT INTO load_log (day, hour, uid, source, segments) VALUES (?, ?, ?, ?, ?)"
_LOADS = """main.load_log AS l, json_each('[' || l.segments || ']') AS s
    WHERE l.id > ? AND l.id <= ?"""
_FOLD_COUNTS = f"""INSERT INTO loads.load_counts (segment_id, day, source, loads)
    SELECT s.value, l.day, l.source, count(*) FROM {_LOADS} GROUP BY s.value, l.day, l.source
    ON CONFLICT DO UPDATE SET loads = loads + excluded.loads"""
# In key order: each insert then lands on the page the last one touched (35 % less CPU per fold
# than in log order, whose random keys each seek and dirty a page of their own).
_FOLD_USERS = f"""INSERT INTO loads.load_day_users (day, segment_id, uid, hours)
    SELECT l.day, s.value, l.uid, 1 << l.hour FROM {_LOADS} ORDER BY 1, 2, 3
    ON CONFLICT DO UPDATE SET hours = hours | excluded.hours WHERE hours & excluded.hours = 0"""
# `<`, not `<=`: the last folded row stays, so the next id is still above the mark.
_TRIM = (
    "DELETE FROM load_log WHERE id IN (SELECT id FROM load_log WHERE id < ? ORDER BY id LIMIT ?)"
)
_PRUNE = {
    "load_day_users": "DELETE FROM loads.load_day_users WHERE (day, segment_id, uid) IN "
    "(SELECT day, segment_id, uid FROM loads.load_day_users WHERE day < ? LIMIT ?)",
    "load_month_users": "DELETE FROM loads.load_month_users WHERE (month, segment_id, uid) IN "
    "(SELECT month, segment_id, uid FROM loads.load_month_users WHERE month < ? LIMIT ?)",
}


# A user's who-loaded-what rows: a key lookup per segment-day (segment-month) still kept.
_ERASE_USER = {
    "load_day_users": """DELETE FROM loads.load_day_users WHERE (day, segment_id, uid) IN
        (SELECT day, segment_id, ? FROM loads.day_uniques
         WHERE day >= (SELECT min(day) FROM loads.load_day_users){only})""",
    "load_month_users": """DELETE FROM loads.load_month_users WHERE (month, segment_id, uid) IN
        (SELECT month, segment_id, ? FROM loads.month_uniques
         WHERE month >= (SELECT min(month) FROM loads.load_month_users){only})""",
}


def counters_path(profiles: Path) -> Path:
    """profiles.db → profiles-loads.db, beside it."""
    return profiles.with_name(f"{profiles.stem}-loads{profiles.suffix}")


class LoadRecorder:
    """Logs a batch's loads on the profile store's write connection, inside its transaction."""

    def __init__(self, uid_of: Callable[[int], int]):
        self.uid_of = uid_of  # the store's mapping of unsigned user ids to SQLite integers
        self._day = DayClock()
        self.folded = 0  # the fold's mark as last seen (set by whoever folds): rows below go
        self._trimmed = 0  # no folded row is left below this id

    def record(self, conn: sqlite3.Connection, batch: Sequence[Mutation]) -> None:
        """Log the batch's loads, and trim a slice of the folded log while holding the lock."""
        mark = self.folded
        if mark > self._trimmed and conn.execute(_TRIM, (mark, TRIM_CHUNK)).rowcount < TRIM_CHUNK:
            self._trimmed = mark
        rows = []
        for m in batch:
            loads = m.loads()
            if loads:
                day, hour = self._day(m.at)
                segments = ",".join(map(str, loads))
                rows.append((day, hour, self.uid_of(m.user_id), SOURCE_CODES[m.source], segments))
        if rows:
            conn.executemany(_APPEND, rows)


def attach(conn: sqlite3.Connection, profiles: Path) -> None:
    """Attach the counters' file (made if need be) to a connection on the profile file."""
    conn.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (str(counters_path(profiles)),))
    conn.execute(f"PRAGMA {SCHEMA}.journal_mode = WAL")
    conn.execute(f"PRAGMA {SCHEMA}.synchronous = NORMAL")
    conn.execute(f"PRAGMA {SCHEMA}.journal_size_limit = {WAL_SIZE_LIMIT}")
    conn.execute(f"PRAGMA {SCHEMA}.cache_size = -{CACHE_KIB}")
    # IMMEDIATE: take the write lock first (waiting busy_timeout for it). A deferred BEGIN that
    # reads the schema and then writes fails at once ("database is locked") when another
    # connection of this server attaches at the same moment.
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in COUNTERS:
            conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def fold(conn: sqlite3.Connection, chunk: int = FOLD_CHUNK) -> int:
    """Fold up to `chunk` log rows into the counters; how many. `conn` has them attached."""
    conn.execute("BEGIN")
    try:
        folded = _fold(conn, chunk)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return folded


def _fold(conn: sqlite3.Connection, chunk: int | None) -> int:
    """The fold, inside the caller's transaction (`chunk` None: every row)."""
    # A write first: the counters' write lock (only theirs) before the mark is read.
    conn.execute("UPDATE loads.fold_state SET upto = upto")
    (done,) = conn.execute("SELECT upto FROM loads.fold_state").fetchone()
    (upto,) = conn.execute(
        "SELECT max(id) FROM (SELECT id FROM main.load_log WHERE id > ? ORDER BY id LIMIT ?)",
        (done, -1 if chunk is None else chunk),
    ).fetchone()
    if upto is not None:
        conn.execute(_FOLD_COUNTS, (done, upto))
        conn.execute(_FOLD_USERS, (done, upto))
        conn.execute("UPDATE loads.fold_state SET upto = ?", (upto,))
    return 0 if upto is None else upto - done


def erase(conn: sqlite3.Connection, uid: int, segments: Sequence[int] | None = None) -> None:
    """Forget which segments user `uid` loaded (only `segments`' when given), inside the
    caller's transaction, which holds the profile file's and the counters' write locks.

    The log is folded first, so every load the user made is counted; then the folded log rows
    that name the user lose the link (their user becomes 0, which no user has, or the segments
    go from their list) — rows are changed, not deleted: the newest id must stay — and the
    who-loaded-what rows of the user go. Counts and uniques stay as they were.
    """
    _fold(conn, None)
    if segments is None:
        conn.execute("UPDATE load_log SET uid = 0 WHERE uid = ?", (uid,))
        for statement in _ERASE_USER.values():
            conn.execute(statement.format(only=""), (uid,))
        return
    gone = {str(s) for s in segments}
    rows = conn.execute("SELECT id, segments FROM load_log WHERE uid = ?", (uid,)).fetchall()
    for row_id, listed in rows:
        kept = [s for s in listed.split(",") if s not in gone]
        conn.execute(
            "UPDATE load_log SET segments = ?, uid = CASE WHEN ? THEN uid ELSE 0 END WHERE id = ?",
            (",".join(kept), bool(kept), row_id),
        )
    only = f" AND segment_id IN ({','.join('?' * len(segments))})"
    for statement in _ERASE_USER.values():
        conn.execute(statement.format(only=only), (uid, *segments))


def fold_all(conn: sqlite3.Connection, rounds: int = 50) -> None:
    """Fold until the log is folded (or `rounds` chunks: a writer that outpaces us waits)."""
    for _ in range(rounds):
        if fold(conn) < FOLD_CHUNK:
            return


def folded_mark(conn: sqlite3.Connection) -> int:
    """The id of the last log row folded (`conn` has the counters attached)."""
    return conn.execute("SELECT upto FROM loads.fold_state").fetchone()[0]


def unfolded(conn: sqlite3.Connection, mark: int) -> bool:
    """Whether the log holds rows past the fold's `mark`."""
    query = "SELECT EXISTS (SELECT 1 FROM main.load_log WHERE id > ?)"
    return bool(conn.execute(query, (mark,)).fetchone()[0])


def prune(conn: sqlite3.Connection, now: float, limit: int) -> int:
    """Forget who loaded what on days and months no counter needs any more (up to `limit` each)."""
    today = utc_day(now)
    oldest_day = day_number(today - timedelta(days=DAY_USERS_KEPT_DAYS))
    previous_month = month_number(today.replace(day=1) - timedelta(days=1))
    deleted = conn.execute(_PRUNE["load_day_users"], (oldest_day, limit)).rowcount
    return deleted + conn.execute(_PRUNE["load_month_users"], (previous_month, limit)).rowcount
