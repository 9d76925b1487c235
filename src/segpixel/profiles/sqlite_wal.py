"""Keeping a SQLite WAL bounded under sustained writes (the profile file and the load counters').

A PASSIVE checkpoint copies the WAL's frames into the database without blocking anyone, but it
never lets the WAL start over while writes keep coming: a writer only rewinds the WAL when, as it
begins, every frame has been copied and no reader still uses one, and under a steady stream of
batches that moment never comes. The WAL then grows by every page every batch dirties (~6 KiB a
pixel: each user's row sits on a leaf page of its own) — 2.5 GB in 60 s measured at 7,200
pixels/s — until the disk is full. With the rounds below it peaked at 72–137 MiB in the same
minute at 8,700–10,700 pixels/s (bench: `tests/faults/test_wal_bounded.py` prints it).

So after a PASSIVE pass that copied every frame, a WAL holding more than RESTART_BYTES gets a
RESTART checkpoint (a pass that could not copy them all met a reader of an older snapshot, which a
RESTART would wait for, holding the writer: the next round tries again): it
copies the few frames written meanwhile, waits (briefly) for readers to leave the WAL, and makes
the next writer start the file over, which then truncates it to its `journal_size_limit`. While
it runs it holds the write lock, so the pixel's writer waits for it: the PASSIVE pass before
keeps that short, and a RESTART that cannot get readers out within RESTART_BUSY_MS gives up
until the next round (the frames stay; nothing is lost).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

RESTART_BYTES = 32 << 20  # a WAL holding more than this is restarted
BUSY_BYTES = 4 << 20  # a WAL that took this much since the last round is looked at sooner
SIZE_LIMIT = 64 << 20  # journal_size_limit: the file is cut back to this when it starts over
RESTART_BUSY_MS = 50  # how long a RESTART waits for the writer and readers before giving up


def checkpoint(conn: sqlite3.Connection, schema: str, busy_timeout_ms: int) -> int:
    """Checkpoint `schema` (main, or an attached file) of `conn`; the bytes its WAL held (so
    the caller may come back sooner while writes pour in). `busy_timeout_ms` is the
    connection's own setting, put back afterwards."""
    _, frames, copied = conn.execute(f"PRAGMA {schema}.wal_checkpoint(PASSIVE)").fetchone()
    held = frames * conn.execute(f"PRAGMA {schema}.page_size").fetchone()[0]
    if held <= RESTART_BYTES or copied < frames:
        # Frames left uncopied: a reader still reads an older snapshot (a fold, a report), and
        # a RESTART would hold the pixels' writer RESTART_BUSY_MS waiting for it, for nothing.
        return held
    conn.execute(f"PRAGMA busy_timeout = {RESTART_BUSY_MS}")
    try:
        conn.execute(f"PRAGMA {schema}.wal_checkpoint(RESTART)").fetchone()
    except sqlite3.OperationalError:  # locked beyond the wait: the next round tries again
        pass
    finally:
        conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    return held


def wal_bytes(database: Path) -> int:
    """The size of a database's WAL file on disk (0 when there is none)."""
    try:
        return os.stat(f"{database}-wal").st_size
    except OSError:
        return 0
