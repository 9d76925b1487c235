"""Push catalog changes to every pixel server: PostgreSQL LISTEN/NOTIFY (SPEC §2: ≤ 5 s).

Every catalog write that moves the version also sends `NOTIFY segpixel_catalog` in the same
transaction (`catalog.db`), so PostgreSQL delivers it exactly when the change commits — never
before the change is visible. Each worker keeps one asynchronous connection that LISTENs and wakes
its snapshot refresh; polling the version stays as the safety net (and covers SQLite catalogs, and
versions moved by hand).

The connection is dropped when PostgreSQL restarts (or the network breaks): the listener then
reconnects with a growing pause, never blocking the event loop, and wakes a refresh after each
reconnect because notifications sent while it was away are gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from segpixel.catalog.db import NOTIFY_CHANNEL

log = logging.getLogger("segpixel.snapshot")

CONNECT_TIMEOUT = 5
RETRY_FIRST = 0.2
RETRY_MAX = 5.0
CHECK_EVERY = 5.0  # seconds without a notification after which the connection is checked


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL (postgresql+psycopg://…) as libpq spells it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class CatalogListener:
    """LISTENs for catalog changes; `on_change()` runs on each one and after each (re)connect.

    `state`: "connecting" (not yet listening), "listening", or "down" (waiting to retry).
    """

    def __init__(
        self,
        url: str,
        on_change: Callable[[], None],
        *,
        check_every: float = CHECK_EVERY,
        retry_max: float = RETRY_MAX,
    ):
        self.conninfo = libpq_url(url)
        self.on_change = on_change
        self.check_every = check_every
        self.retry_max = retry_max
        self.state = "connecting"
        self.last_error: str | None = None
        self.connects = 0  # successful connections so far (1 + reconnects)
        self.notifications = 0

    async def run(self) -> None:
        pause = RETRY_FIRST
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # PostgreSQL restarted, network broken, auth changed…
                if self.state == "listening":
                    log.warning("catalog listener lost its connection: %s", exc)
                    pause = RETRY_FIRST  # it was working: try again soon
                self.last_error = str(exc)[:200] or type(exc).__name__
            self.state = "down"
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.retry_max)

    async def _listen(self) -> None:
        conn = await psycopg.AsyncConnection.connect(
            self.conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT,
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )
        async with conn:
            await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self.connects += 1
            if self.connects > 1:
                log.warning("catalog listener reconnected")
            self.state, self.last_error = "listening", None
            self.on_change()  # changes made while we were not listening sent nothing we heard
            while True:
                async for _ in conn.notifies(timeout=self.check_every):
                    self.notifications += 1
                    self.on_change()
                # Quiet for a while: make sure the connection is still alive.
                await asyncio.wait_for(conn.execute("SELECT 1"), CONNECT_TIMEOUT)
